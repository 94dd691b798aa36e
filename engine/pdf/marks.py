"""Marks on a print drawing, as SVG in print millimetres (y down): text, lines, arrowheads, dimensions."""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Iterable

from engine.drawing.palette import PRINT_DIM, PRINT_INK
from engine.drawing.svgpath import number
from engine.pdf.page import SCALES

FONT = "Studio Sans"  # the @font-face family in assets/shop.css (DejaVu Sans, shipped with the project)


def escape(text: object) -> str:
    return html.escape(str(text), quote=True)


def svg_document(width: float, height: float, body: Iterable[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{number(width)}mm" height="{number(height)}mm" '
            f'viewBox="0 0 {number(width)} {number(height)}" font-family="{FONT}">' + "".join(body) + "</svg>")


def text(x: float, y: float, label: str, size: float = 2.6, anchor: str = "middle", weight: str = "normal",
          fill: str = PRINT_INK, rotate: float = 0.0) -> str:
    transform = f' transform="rotate({number(rotate)} {number(x)} {number(y)})"' if rotate else ""
    bold = ' font-weight="bold"' if weight == "bold" else ""
    return (f'<text x="{number(x)}" y="{number(y)}" font-size="{number(size)}" text-anchor="{anchor}" fill="{fill}"{bold}{transform}>'
            f"{escape(label)}</text>")


def line(x0: float, y0: float, x1: float, y1: float, stroke: str = PRINT_DIM, width: float = 0.18, dash: str = "") -> str:
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<line x1="{number(x0)}" y1="{number(y0)}" x2="{number(x1)}" y2="{number(y1)}" stroke="{stroke}" '
            f'stroke-width="{number(width)}"{dash_attr}/>')


def arrow(x: float, y: float, dx: float, dy: float) -> str:
    """A filled arrowhead with its tip at (x, y), pointing along (dx, dy)."""
    norm = math.hypot(dx, dy) or 1.0
    ux, uy = dx / norm, dy / norm
    length, half = 1.8, 0.45
    bx, by = x - ux * length, y - uy * length
    pts = [(x, y), (bx - uy * half, by + ux * half), (bx + uy * half, by - ux * half)]
    return f'<path d="M{" L".join(f"{number(px)} {number(py)}" for px, py in pts)} Z" fill="{PRINT_DIM}"/>'


def hdim(x0: float, x1: float, y_from0: float, y_from1: float, y: float, label: str) -> list[str]:
    """Horizontal dimension at height y between x0 and x1, extension lines from the features."""
    out = [line(x0, y_from0 + (0.8 if y > y_from0 else -0.8), x0, y + (1.0 if y > y_from0 else -1.0)),
           line(x1, y_from1 + (0.8 if y > y_from1 else -0.8), x1, y + (1.0 if y > y_from1 else -1.0)),
           line(x0, y, x1, y)]
    if abs(x1 - x0) > 4:
        out += [arrow(x0, y, -1, 0), arrow(x1, y, 1, 0)]
    if abs(x1 - x0) >= 3 + 1.7 * len(label):
        out.append(text((x0 + x1) / 2, y - 0.8, label, 2.6))
    else:  # too short for the figure between the arrows: beside the end
        out.append(text(max(x0, x1) + 1.0, y - 0.8, label, 2.6, "start"))
    return out


def vdim(y0: float, y1: float, x_from0: float, x_from1: float, x: float, label: str) -> list[str]:
    """Vertical dimension at abscissa x between y0 and y1 (print coordinates)."""
    sign = 1.0 if x > x_from0 else -1.0
    out = [line(x_from0 + 0.8 * sign, y0, x + 1.0 * sign, y0), line(x_from1 + 0.8 * sign, y1, x + 1.0 * sign, y1),
           line(x, y0, x, y1)]
    if abs(y1 - y0) > 4:
        out += [arrow(x, min(y0, y1), 0, -1), arrow(x, max(y0, y1), 0, 1)]
    if abs(y1 - y0) >= 3 + 1.7 * len(label):
        out.append(text(x - 0.8, (y0 + y1) / 2, label, 2.6, rotate=-90))
    else:
        out.append(text(x + 1.0, (y0 + y1) / 2 + 0.9, label, 2.6, "start"))
    return out



def image(svg: str | bytes, width: float, height: float, extra: str = "") -> str:
    data = svg.encode("utf-8") if isinstance(svg, str) else svg
    return (f'<img src="data:image/svg+xml;base64,{base64.b64encode(data).decode("ascii")}" '
            f'style="width:{number(width)}mm;height:{number(height)}mm;{extra}" alt="">')


def pick_scale(length_mm: float, depth_mm: float, room_w: float, room_h: float) -> int:
    """The largest standard scale 1:N at which the part fits the room (print mm)."""
    for denominator in SCALES:
        if length_mm / denominator <= room_w and depth_mm / denominator <= room_h:
            return denominator
    return math.ceil(max(length_mm / max(room_w, 1.0), depth_mm / max(room_h, 1.0)))

