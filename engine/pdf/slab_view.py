"""The slab drawing (when the CAD stage's SVG is missing), and a CAD-stage SVG fitted to a room on the sheet."""

from __future__ import annotations

import math
import re

from engine import geometry
from engine.drawing.palette import PRINT_INK, PRINT_STONE
from engine.drawing.svgpath import number, path_d
from engine.drawing.units import Lengths
from engine.model import SlabLayout
from engine.pdf.marks import FONT, hdim, pick_scale, svg_document, text, vdim
from engine.spec import Piece


def slab_drawing(layout: SlabLayout, pieces: dict[str, Piece], lengths: Lengths, margin_mm: float,
                 room_w: float, room_h: float) -> tuple[str, float, float, int]:
    """The slab with every placed piece outlined and labelled, remnants dashed: (svg, w, h, scale N)."""
    length, width = layout.length_mm, layout.width_mm
    m_left, m_right, m_top, m_bottom = 16.0, 6.0, 6.0, 14.0
    n = pick_scale(length, width, room_w - m_left - m_right, room_h - m_top - m_bottom)
    scale = 1.0 / n
    w, h = length * scale + m_left + m_right, width * scale + m_top + m_bottom

    def to_paper(p: geometry.Pt) -> geometry.Pt:
        return (m_left + p[0] * scale, m_top + (width - p[1]) * scale)

    body = [f'<rect x="{number(m_left)}" y="{number(m_top)}" width="{number(length * scale)}" height="{number(width * scale)}" fill="#fafafa" '
            f'stroke="{PRINT_INK}" stroke-width="0.5"/>']
    if margin_mm > 0:
        body.append(f'<rect x="{number(m_left + margin_mm * scale)}" y="{number(m_top + margin_mm * scale)}" '
                    f'width="{number((length - 2 * margin_mm) * scale)}" height="{number((width - 2 * margin_mm) * scale)}" fill="none" '
                    f'stroke="#9ca3af" stroke-width="0.15" stroke-dasharray="1.5 1"/>')
    for i, r in enumerate(layout.remnants, start=1):
        x, y = to_paper((r.x_mm, r.y_mm + r.width_mm))
        body.append(f'<rect x="{number(x)}" y="{number(y)}" width="{number(r.length_mm * scale)}" height="{number(r.width_mm * scale)}" '
                    f'fill="none" stroke="#2e7d32" stroke-width="0.3" stroke-dasharray="2 1"/>')
        body.append(text(x + r.length_mm * scale / 2, y + r.width_mm * scale / 2 + 1, f"RM{i}", 2.6, fill="#2e7d32"))
    for p in layout.placements:
        piece = pieces.get(p.piece)
        if piece is None:
            continue
        a = math.radians(p.rotation_deg)
        ca, sa = math.cos(a), math.sin(a)

        def placed(q: geometry.Pt, ca: float = ca, sa: float = sa, p=p) -> geometry.Pt:
            return to_paper((q[0] * ca - q[1] * sa + p.x_mm, q[0] * sa + q[1] * ca + p.y_mm))

        try:
            outline = geometry.outline(piece)
        except geometry.GeometryError:
            continue
        holes = "".join(" " + path_d(geometry.cutout_segs(c), placed, scale) for c in piece.cutouts if not geometry.cutout_missing(c))
        body.append(f'<path d="{path_d(outline.segs, placed, scale)}{holes}" fill="{PRINT_STONE}" fill-rule="evenodd" '
                    f'stroke="{PRINT_INK}" stroke-width="0.3"/>')
        cx, cy = placed(geometry.label_point(outline.segs))
        label = piece.id + (f" #{p.copy}" if piece.qty > 1 else "")
        body.append(text(cx, cy + 1.2, label, 3.2, weight="bold"))
    body += hdim(m_left, m_left + length * scale, m_top + width * scale, m_top + width * scale, m_top + width * scale + 8, lengths(length))
    body += vdim(m_top, m_top + width * scale, m_left, m_left, m_left - 8, lengths(width))
    return svg_document(w, h, body), w, h, n


_FONT_ATTR = re.compile(rb'font-family="[^"]*"')
_VIEWBOX = re.compile(rb'viewBox="\s*([-\d.eE+]+)[\s,]+([-\d.eE+]+)[\s,]+([-\d.eE+]+)[\s,]+([-\d.eE+]+)\s*"')


def fit_foreign_svg(data: bytes, room_w: float, room_h: float) -> tuple[bytes, float, float]:
    """A CAD-stage SVG with its fonts pinned to ours, and the largest size that fits the room keeping its ratio."""
    data = _FONT_ATTR.sub(f'font-family="{FONT}"'.encode(), data)
    m = _VIEWBOX.search(data)
    ratio = float(m.group(3)) / float(m.group(4)) if m and float(m.group(4)) > 0 else room_w / room_h
    w = min(room_w, room_h * ratio)
    return data, w, w / ratio

