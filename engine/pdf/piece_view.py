"""The piece drawing: a dimensioned plan view of one piece at a standard scale, with the cutout positions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from shapely.geometry import LineString, Polygon, box

from engine import geometry
from engine.drawing.palette import EDGE_STYLES, GROOVE, PRINT_DIM, PRINT_INK, PRINT_STONE
from engine.drawing.svgpath import number, path_d, polyline_d
from engine.drawing.units import Lengths
from engine.pdf.marks import hdim, line, pick_scale, svg_document, text, vdim
from engine.spec import Piece


ZONE_FILL = "#fcd34d"  # an opening with no cabinet under it: a warm shade no edge kind uses


@dataclass
class CutoutPos:
    id: str
    type: str
    size: str
    centre_from_left: str
    setback_front: str
    note: str


def cutout_positions(piece_mm: Piece, lengths: Lengths) -> list[CutoutPos]:
    """Each cutout's centre from the left end (x = 0) and setback from the front edge (y = 0) to its front."""
    out = []
    for cutout in piece_mm.cutouts:
        if cutout.shape == "circle":
            size = f"Ø {lengths(cutout.diameter or 0)}"
        else:
            size = f"{lengths(cutout.length or 0)} × {lengths(cutout.width or 0)}"
            if cutout.shape == "rect" and cutout.corner_radius:
                size += f" R{lengths(cutout.corner_radius)}"
            elif cutout.shape == "oval":
                size += " oval"
        setback = "—"
        if not geometry.cutout_missing(cutout):
            setback = lengths(geometry.bbox(geometry.cutout_segs(cutout))[1])
        note = f"rot. {lengths.numbers.trim(cutout.rotation, 4)}°" if cutout.rotation else ""
        out.append(CutoutPos(cutout.id, cutout.type.replace("_", " "), size, lengths(cutout.center[0]), setback, note))
    return out


def piece_drawing(piece: Piece, lengths: Lengths, room_w: float, room_h: float, seams: Sequence[float] = (),
                  parts: Sequence[str] = ()) -> tuple[str, float, float, int]:
    """A dimensioned plan view of one piece (mm job), fitted to room_w x room_h print mm: (svg, w, h, scale N).

    `seams` (x, mm) are drawn across the piece and dimensioned from its left end above it, `parts` named between."""
    outline = geometry.outline(piece)
    minx, miny, maxx, maxy = geometry.bbox(outline.segs)
    length, depth = maxx - minx, maxy - miny
    cuts = [(cutout, geometry.cutout_segs(cutout)) for cutout in piece.cutouts if not geometry.cutout_missing(cutout)]
    centre_xs: list[float] = []
    for cutout, _ in cuts:
        if all(abs(cutout.center[0] - x) > 0.5 for x in centre_xs):
            centre_xs.append(cutout.center[0])
    centre_xs.sort()
    tiers = min(len(centre_xs), 6)
    m_left, m_right, m_top = 20.0, 10.0, 10.0 + (6.5 * len(seams) + 5.0 if seams else 0.0)
    m_bottom = 16.0 + 6.5 * tiers
    denominator = pick_scale(length, depth, room_w - m_left - m_right, room_h - m_top - m_bottom)
    scale = 1.0 / denominator
    paper_w, paper_h = length * scale + m_left + m_right, depth * scale + m_top + m_bottom

    def to_paper(point: geometry.Pt) -> geometry.Pt:
        return (m_left + (point[0] - minx) * scale, m_top + (maxy - point[1]) * scale)

    body: list[str] = []
    holes = "".join(" " + path_d(segs, to_paper, scale) for _, segs in cuts)
    body.append(f'<path d="{path_d(outline.segs, to_paper, scale)}{holes}" fill="{PRINT_STONE}" fill-rule="evenodd" stroke="none"/>')
    # Edges by kind: one stroke per span, so a seam segment on a finished edge shows as a seam.
    for span in outline.spans:
        colour, width, dash = _print_style(span.kind)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        body.append(f'<path d="{path_d([span.seg], to_paper, scale, closed=False)}" fill="none" stroke="{colour}" '
                    f'stroke-width="{number(width)}" stroke-linecap="butt"{dash_attr}/>')
    # Drip grooves: a dashed line `offset` inside the edge.
    try:
        from engine.dxf import drip_groove_lines

        grooves = drip_groove_lines(outline)
    except Exception:  # an odd offset must never cost the whole drawing
        grooves = []
    for pts in grooves:
        moved = [to_paper(point) for point in pts]
        body.append(f'<path d="{polyline_d(moved)}" fill="none" stroke="{GROOVE}" '
                    f'stroke-width="0.3" stroke-dasharray="1.6 0.8"/>')
    # Appliance openings under the piece (a dishwasher): shaded across the piece, named at the back.
    for zone in piece.appliance_zones:
        under = outline.polygon().intersection(box(zone.start, miny, zone.end, maxy))
        for part in getattr(under, "geoms", [under]):
            if isinstance(part, Polygon) and not part.is_empty:
                zone_d = polyline_d([to_paper((x, y)) for x, y in part.exterior.coords])
                body.append(f'<path d="{zone_d}" fill="{ZONE_FILL}" fill-opacity="0.35" stroke="none"/>')
                bx0, _, bx1, by1 = part.bounds
                body.append(text(to_paper(((bx0 + bx1) / 2, by1))[0], to_paper((0, by1))[1] + 3.2,
                                 zone.type.replace("other", "opening"), 2.2, fill="#92400e"))
    # Cutouts: outline, centre lines, name.
    for cutout, segs in cuts:
        body.append(f'<path d="{path_d(segs, to_paper, scale)}" fill="#ffffff" stroke="{PRINT_INK}" stroke-width="0.35"/>')
        cx, cy = to_paper((cutout.center[0], cutout.center[1]))
        bx0, by0, bx1, by1 = geometry.bbox(segs)
        half_w, half_h = (bx1 - bx0) * scale / 2 + 1.5, (by1 - by0) * scale / 2 + 1.5
        body.append(line(cx - half_w, cy, cx + half_w, cy, "#6b7280", 0.13, "3 0.8 0.6 0.8"))
        body.append(line(cx, cy - half_h, cx, cy + half_h, "#6b7280", 0.13, "3 0.8 0.6 0.8"))
        if (bx1 - bx0) * scale > 14:
            body.append(text(cx + 1.2, cy - 1.2, cutout.id, 2.6, "start", "bold"))
        else:
            body.append(text(cx + half_w + 0.6, cy - 0.8, cutout.id, 2.4, "start", "bold"))
    # Edge names, just outside each original edge.
    sign = 1.0 if geometry.signed_area_vertices(outline.vertices) >= 0 else -1.0
    for i, name in enumerate(outline.edge_names):
        spans = [span for span in outline.spans if span.edge == i]
        if not spans:
            continue
        mid = spans[len(spans) // 2].seg
        px, py = mid.point_at(0.5)
        tx, ty = mid.tangent(0.5)
        ox, oy = ty * sign, -tx * sign  # outward: right of travel on a CCW outline
        x, y = to_paper((px, py))
        x += ox * 3.2
        y -= oy * 3.2
        anchor = "middle" if abs(ox) < 0.5 else ("start" if ox > 0 else "end")
        body.append(text(x, y + 0.9, name, 2.2, anchor, fill="#6b7280"))
    # Corner radii and clips.
    corners = {corner.at: corner for corner in piece.corners}
    for span in outline.spans:
        if span.corner is None or span.corner not in corners:
            continue
        corner = corners[span.corner]
        px, py = span.seg.point_at(0.5)
        tx, ty = span.seg.tangent(0.5)
        ox, oy = ty * sign, -tx * sign
        x0, y0 = to_paper((px, py))
        x1, y1 = x0 + ox * 5, y0 - oy * 5
        body.append(line(x0, y0, x1, y1, PRINT_DIM, 0.15))
        label = f"R{lengths(corner.size)}" if corner.type == "radius" else f"C{lengths(corner.size)}"
        body.append(text(x1 + (0.5 if ox >= 0 else -0.5), y1 - 0.5, label, 2.5, "start" if ox >= 0 else "end"))
    body += _seam_marks(outline, seams, parts, to_paper, m_top, lengths)
    # Overall dimensions.
    left, right, top, bottom = m_left, m_left + length * scale, m_top, m_top + depth * scale
    y_total = bottom + 10.0 + 6.5 * tiers
    body += hdim(left, right, bottom, bottom, y_total, lengths(length))
    body += vdim(top, bottom, left, left, left - 12.0, lengths(depth))
    # Cutout centres from the left end, one tier each, nearest first.
    for tier, cx_mm in enumerate(centre_xs[:tiers]):
        y = bottom + 10.0 + 6.5 * tier
        x = to_paper((cx_mm, 0))[0]
        body += hdim(left, x, bottom, bottom, y, lengths(cx_mm - minx))
    # Setback of each cutout's front from the front edge, where the line does not cross another cutout.
    polys = [(cutout.id, geometry.to_polygon(segs)) for cutout, segs in cuts]
    for cutout, segs in cuts:
        bx0, by0, bx1, _ = geometry.bbox(segs)
        xm = cutout.center[0] if cutout.shape == "circle" else bx0 + (bx1 - bx0) * 0.22
        probe = LineString([(xm, miny + 0.1), (xm, by0 - 0.1)])
        if by0 - miny < 1 or any(cid != cutout.id and probe.intersects(hole) for cid, hole in polys):
            continue
        xp = to_paper((xm, 0))[0]
        body += vdim(to_paper((0, by0))[1], bottom, xp, xp, xp, lengths(by0 - miny))
    svg = svg_document(paper_w, paper_h, body)
    return svg, paper_w, paper_h, denominator


def _seam_marks(outline: geometry.Outline, seams: Sequence[float], parts: Sequence[str],
                to_paper: Callable[[geometry.Pt], geometry.Pt], top: float, lengths: Lengths) -> list[str]:
    """Each seam as a seam line across the piece, dimensioned from the left end (one tier each, nearest the
    piece first), and each part's name above its stretch."""
    if not seams:
        return []
    minx, miny, maxx, maxy = geometry.bbox(outline.segs)
    poly = outline.polygon()
    colour, width, dash = _print_style("seam")
    left = to_paper((minx, 0))[0]
    out = []
    for tier, x in enumerate(sorted(seams)):
        cut = poly.intersection(LineString([(x, miny - 1), (x, maxy + 1)]))
        xp, reach = to_paper((x, 0))[0], top  # the dimension's extension line runs down to the seam's end
        if not cut.is_empty:
            _, y0, _, y1 = cut.bounds
            (px, py0), (_, reach) = to_paper((x, y0)), to_paper((x, y1))
            out.append(line(px, py0, px, reach, colour, width, dash))
        out += hdim(left, xp, top, reach, top - 6.5 * (tier + 1), lengths(x - minx))
    ends = [minx, *sorted(seams), maxx]
    for name, start, end in zip(parts, ends, ends[1:]):
        out.append(text((to_paper((start, 0))[0] + to_paper((end, 0))[0]) / 2, top - 6.5 * len(seams) - 5.5, name, 3.0,
                        weight="bold"))
    return out


def legend_sample(kind: str) -> str:
    """A short sample of an edge or groove line for the legend (a CSS border: far cheaper than an image)."""
    if kind == "drip_groove":
        colour, width, dash = GROOVE, 0.35, "x"
    else:
        colour, width, dash = _print_style(kind)
    style = "dashed" if dash else "solid"
    return f'<span class="sample" style="border-top:{number(max(width, 0.3))}mm {style} {colour}"></span>'



def _print_style(kind: str) -> tuple[str, float, str]:
    """(colour, stroke width mm, dash) of an edge kind in print; an unknown kind is a thin solid ink line."""
    style = EDGE_STYLES.get(kind)
    return (style.ink, style.width_mm, style.dash) if style else (PRINT_INK, 0.4, "")
