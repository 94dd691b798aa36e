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
    denominator = pick_scale(length, width, room_w - m_left - m_right, room_h - m_top - m_bottom)
    scale = 1.0 / denominator
    paper_w, paper_h = length * scale + m_left + m_right, width * scale + m_top + m_bottom

    def to_paper(point: geometry.Pt) -> geometry.Pt:
        return (m_left + point[0] * scale, m_top + (width - point[1]) * scale)

    body = [f'<rect x="{number(m_left)}" y="{number(m_top)}" width="{number(length * scale)}" height="{number(width * scale)}" fill="#fafafa" '
            f'stroke="{PRINT_INK}" stroke-width="0.5"/>']
    if margin_mm > 0:
        body.append(f'<rect x="{number(m_left + margin_mm * scale)}" y="{number(m_top + margin_mm * scale)}" '
                    f'width="{number((length - 2 * margin_mm) * scale)}" height="{number((width - 2 * margin_mm) * scale)}" fill="none" '
                    f'stroke="#9ca3af" stroke-width="0.15" stroke-dasharray="1.5 1"/>')
    for i, remnant in enumerate(layout.remnants, start=1):
        x, y = to_paper((remnant.x_mm, remnant.y_mm + remnant.width_mm))
        body.append(f'<rect x="{number(x)}" y="{number(y)}" width="{number(remnant.length_mm * scale)}" '
                    f'height="{number(remnant.width_mm * scale)}" '
                    f'fill="none" stroke="#2e7d32" stroke-width="0.3" stroke-dasharray="2 1"/>')
        body.append(text(x + remnant.length_mm * scale / 2, y + remnant.width_mm * scale / 2 + 1, f"RM{i}", 2.6, fill="#2e7d32"))
    for placement in layout.placements:
        piece = pieces.get(placement.piece)
        if piece is None:
            continue
        angle = math.radians(placement.rotation_deg)
        ca, sa = math.cos(angle), math.sin(angle)

        def placed(point: geometry.Pt, ca: float = ca, sa: float = sa, placement=placement) -> geometry.Pt:
            return to_paper((point[0] * ca - point[1] * sa + placement.x_mm, point[0] * sa + point[1] * ca + placement.y_mm))

        try:
            outline = geometry.outline(piece)
        except geometry.GeometryError:
            continue
        holes = "".join(" " + path_d(geometry.cutout_segs(cutout), placed, scale)
                        for cutout in piece.cutouts if not geometry.cutout_missing(cutout))
        body.append(f'<path d="{path_d(outline.segs, placed, scale)}{holes}" fill="{PRINT_STONE}" fill-rule="evenodd" '
                    f'stroke="{PRINT_INK}" stroke-width="0.3"/>')
        cx, cy = placed(geometry.label_point(outline.segs))
        label = piece.id + (f" #{placement.copy}" if piece.qty > 1 else "")
        body.append(text(cx, cy + 1.2, label, 3.2, weight="bold"))
    body += hdim(m_left, m_left + length * scale, m_top + width * scale, m_top + width * scale, m_top + width * scale + 8, lengths(length))
    body += vdim(m_top, m_top + width * scale, m_left, m_left, m_left - 8, lengths(width))
    return svg_document(paper_w, paper_h, body), paper_w, paper_h, denominator


_FONT_ATTR = re.compile(rb'font-family="[^"]*"')
_VIEWBOX = re.compile(rb'viewBox="\s*([-\d.eE+]+)[\s,]+([-\d.eE+]+)[\s,]+([-\d.eE+]+)[\s,]+([-\d.eE+]+)\s*"')


def fit_foreign_svg(data: bytes, room_w: float, room_h: float) -> tuple[bytes, float, float]:
    """A CAD-stage SVG with its fonts pinned to ours, and the largest size that fits the room keeping its ratio."""
    data = _FONT_ATTR.sub(f'font-family="{FONT}"'.encode(), data)
    match = _VIEWBOX.search(data)
    ratio = float(match.group(3)) / float(match.group(4)) if match and float(match.group(4)) > 0 else room_w / room_h
    fitted_w = min(room_w, room_h * ratio)
    return data, fitted_w, fitted_w / ratio

