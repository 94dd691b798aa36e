"""SVG previews a fabricator reads on a phone: plan view, y up (front edge at the bottom), edges coloured by kind.

Drawing coordinates are millimetres with y negated (SVG's y runs down); the viewBox scales the drawing to
the screen (`width="100%"`, no fixed height), so text sizes are set relative to the piece or slab.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import drawsvg as draw

from engine import geometry
from engine.drawing.palette import DEFECT, EDGE_STYLES, GROOVE, SCREEN_INK, SCREEN_STONE, edge_order
from engine.drawing.svgpath import number, path_d
from engine.drawing.units import Lengths, Numbers
from engine.dxf import drip_groove_lines, placement_transform, runs
from engine.model import SlabLayout
from engine.spec import JobSpec, Piece, to_mm

EDGE_COLOURS = {kind: style.screen for kind, style in EDGE_STYLES.items()}
STONE, INK = SCREEN_STONE, SCREEN_INK
FONT = "Helvetica, Arial, sans-serif"

Pt = tuple[float, float]


def _lengths(job: JobSpec) -> Lengths:
    """Lengths in the job's units and locale: '2900 mm', '36.25"', '36,25"' (de-DE)."""
    return Lengths(job.units, Numbers(job.job.locale))


def _rounded(value: float) -> float:
    """Two decimals and no negative zero: smaller files and byte-identical output."""
    return round(value, 2) + 0.0


def _point(x: float, y: float) -> str:
    """A world point as SVG coordinates (y negated)."""
    return f"{number(x)},{number(-y)}"


def _path(segs: list[geometry.Seg], closed: bool) -> str:
    """SVG path data for segments in world coordinates (y up on screen: negated)."""
    return path_d(segs, lambda point: (point[0], -point[1]), 1.0, closed)


def _moved(segs: list[geometry.Seg], transform: Callable[[Pt], Pt]) -> list[geometry.Seg]:
    return [geometry.Seg(transform(seg.start), transform(seg.end), seg.bulge) for seg in segs]


def _text(svg: draw.Drawing, text: str, x: float, y: float, size: float, **style: object) -> None:
    """Text at world (x, y), upright on screen."""
    svg.append(draw.Text(text, _rounded(size), _rounded(x), _rounded(-y), text_anchor=style.pop("anchor", "middle"),
                         dominant_baseline="middle", font_family=FONT, fill=style.pop("fill", INK), **style))


def _finish(svg: draw.Drawing) -> bytes:
    svg.svg_args["width"] = "100%"
    svg.svg_args["height"] = None  # the viewBox keeps the aspect ratio
    svg.svg_args["preserveAspectRatio"] = "xMidYMid meet"
    return svg.as_svg().encode("utf-8")


def _draw_piece_body(svg: draw.Drawing, piece: Piece, transform: Callable[[Pt], Pt], stroke: float, font: float,
                     label: str | None, edges: bool) -> set[tuple[str, str | None]]:
    """Outline, cutouts, grooves and (optionally) coloured edges; returns the (kind, profile) pairs drawn."""
    outline = geometry.outline(piece)
    svg.append(draw.Path(d=_path(_moved(outline.segs, transform), True), fill=STONE, stroke=INK, stroke_width=stroke))
    seen: set[tuple[str, str | None]] = set()
    if edges:
        for (kind, profile), spans in runs(outline.spans, lambda span: (span.kind, span.profile)):
            seen.add((kind, profile if kind == "finished" else None))
            extra = {"stroke_dasharray": f"{stroke * 4:.2f} {stroke * 2:.2f}"} if kind == "seam" else {}
            svg.append(draw.Path(d=_path(_moved([span.seg for span in spans], transform), False), fill="none",
                                 stroke=EDGE_COLOURS.get(kind, INK), stroke_width=_rounded(stroke * 3),
                                 stroke_linecap="butt", **extra))
    for line in drip_groove_lines(outline):
        moved = [transform(point) for point in line]
        svg.append(draw.Path(d="M" + " L".join(_point(x, y) for x, y in moved), fill="none", stroke=GROOVE,
                             stroke_width=_rounded(stroke * 1.5),
                             stroke_dasharray=f"{stroke * 5:.2f} {stroke * 3:.2f}"))
        seen.add(("drip_groove", None))
    for cutout in piece.cutouts:
        if geometry.cutout_missing(cutout):
            continue
        svg.append(draw.Path(d=_path(_moved(geometry.cutout_segs(cutout), transform), True), fill="#ffffff", stroke=INK,
                             stroke_width=stroke))
        cx, cy = transform((cutout.center[0], cutout.center[1]))
        if cutout.shape != "circle" or (cutout.diameter or 0) > font * 3:
            _text(svg, cutout.id, cx, cy, font * 0.8)
        else:  # a small hole: its name beside it, where it cannot land inside a neighbouring sink
            _text(svg, cutout.id, cx + cutout.diameter / 2 + font * 0.3, cy, font * 0.7, anchor="start")
    if label:
        _, miny, _, maxy = geometry.bbox(_moved(outline.segs, transform))
        label_x, label_y = transform(geometry.label_point(outline.segs))
        label_y += 0 if not piece.cutouts else (maxy - miny) * 0.3
        _text(svg, label, label_x, label_y, font, font_weight="bold")
    return seen


def _dimension(svg: draw.Drawing, start: Pt, end: Pt, text: str, font: float, stroke: float, vertical: bool) -> None:
    """A dimension line from start to end with end ticks and the figure beside it."""
    (x0, y0), (x1, y1) = start, end
    tick = font * 0.4
    ticks = [((x, y - tick), (x, y + tick)) if vertical is False else ((x - tick, y), (x + tick, y))
             for x, y in (start, end)]
    lines = " ".join(f"M{_point(*line_start)} L{_point(*line_end)}" for line_start, line_end in [(start, end), *ticks])
    svg.append(draw.Path(d=lines, stroke=INK, stroke_width=_rounded(stroke)))
    mid_x, mid_y = (x0 + x1) / 2, (y0 + y1) / 2
    if vertical:
        text_x, text_y = _rounded(mid_x - font * 0.6), _rounded(-mid_y)
        svg.append(draw.Text(text, _rounded(font), text_x, text_y, text_anchor="middle", dominant_baseline="middle",
                             font_family=FONT, fill=INK, transform=f"rotate(-90 {text_x} {text_y})"))
    else:
        _text(svg, text, mid_x, mid_y - font * 0.7, font)


def piece_svg(job: JobSpec, piece_index: int) -> bytes:
    """A dimensioned plan view of one piece with an edge legend."""
    job_mm = to_mm(job)
    piece = job_mm.pieces[piece_index]
    outline = geometry.outline(piece)
    minx, miny, maxx, maxy = geometry.bbox(outline.segs)
    size = max(maxx - minx, maxy - miny)
    font = _rounded(size / 28)  # about 12 px when the longest side fills a 360 px phone screen
    stroke = _rounded(size / 600)
    pad = font * 1.5
    title = piece.id + (f" - {piece.label[:60]}" if piece.label else "") + (f" (x{piece.qty})" if piece.qty > 1 else "")
    # Room: title above, dimensions left and below, legend under the bottom dimension.
    left = minx - 3 * font - pad
    top = maxy + 2.2 * font + pad
    legend_y = miny - 4 * font
    kinds: set[tuple[str, str | None]] = set()
    for span in outline.spans:
        kinds.add((span.kind, span.profile if span.kind == "finished" else None))
    legend = sorted(kinds, key=lambda kind_profile: (edge_order(kind_profile[0]), kind_profile[1] or ""))
    if drip_groove_lines(outline):
        legend.append(("drip_groove", None))
    per_row = max(1, int((maxx - left + pad) // (font * 9)))
    rows = math.ceil(len(legend) / per_row)
    bottom = legend_y - rows * font * 1.6 - pad
    right = maxx + pad
    svg = draw.Drawing(_rounded(right - left), _rounded(top - bottom), origin=(_rounded(left), _rounded(-top)))
    _text(svg, title, (minx + maxx) / 2, maxy + 1.4 * font, font * 1.1, font_weight="bold")
    _draw_piece_body(svg, piece, lambda point: point, stroke, font, None, edges=True)
    lengths = _lengths(job)
    _dimension(svg, (minx, miny - 1.8 * font), (maxx, miny - 1.8 * font), lengths.with_unit(maxx - minx), font, stroke,
               vertical=False)
    _dimension(svg, (minx - 1.8 * font, miny), (minx - 1.8 * font, maxy), lengths.with_unit(maxy - miny), font, stroke,
               vertical=True)
    for i, (kind, profile) in enumerate(legend):
        x = left + pad + (i % per_row) * font * 9
        y = legend_y - (i // per_row) * font * 1.6
        colour = GROOVE if kind == "drip_groove" else EDGE_COLOURS.get(kind, INK)
        dash = {"stroke_dasharray": f"{font * 0.3:.2f} {font * 0.15:.2f}"} if kind in ("seam", "drip_groove") else {}
        svg.append(draw.Path(d=f"M{_point(x, y)} L{_point(x + font * 1.5, y)}", stroke=colour,
                             stroke_width=_rounded(stroke * 3), **dash))
        name = "Drip groove" if kind == "drip_groove" else (EDGE_STYLES[kind].label if kind in EDGE_STYLES else kind)
        if profile:
            name += f" ({profile})"
        _text(svg, name, x + font * 1.9, y, font * 0.9, anchor="start")
    return _finish(svg)


def slab_svg(job: JobSpec, slab_layout: SlabLayout) -> bytes:
    """A slab with its placed pieces labelled; the gaps between them are the kerf."""
    job_mm = to_mm(job)
    lengths = _lengths(job)
    pieces = {piece.id: piece for piece in job_mm.pieces}
    length, width = slab_layout.length_mm, slab_layout.width_mm
    size = max(length, width)
    font = _rounded(size / 32)  # about 11 px when a 3 m slab fills a phone screen
    stroke = _rounded(size / 1000)
    pad = font
    svg = draw.Drawing(_rounded(length + 2 * pad), _rounded(width + 2 * pad + font * 2.5),
                       origin=(_rounded(-pad), _rounded(-(width + pad + font * 2.5))))
    svg.append(draw.Rectangle(0, -width, length, width, fill="#fafafa", stroke=INK, stroke_width=stroke * 2))
    margin = job_mm.options.slab_margin
    if margin > 0:
        svg.append(draw.Rectangle(margin, -(width - margin), length - 2 * margin, width - 2 * margin, fill="none",
                                  stroke="#bdbdbd", stroke_width=stroke,
                                  stroke_dasharray=f"{font * 0.4:.2f} {font * 0.3:.2f}"))
    for zone in job_mm.defect_outlines(slab_layout.slab_id):
        svg.append(draw.Lines(*[value for x, y in zone for value in (_rounded(x), _rounded(-y))], close=True,
                              fill=DEFECT, fill_opacity=0.3, stroke=DEFECT, stroke_width=stroke))
    for remnant in slab_layout.remnants:
        svg.append(draw.Rectangle(_rounded(remnant.x_mm), _rounded(-(remnant.y_mm + remnant.width_mm)),
                                  _rounded(remnant.length_mm), _rounded(remnant.width_mm), fill="none",
                                  stroke="#43a047", stroke_width=stroke,
                                  stroke_dasharray=f"{font * 0.6:.2f} {font * 0.3:.2f}"))
        text = (f"remnant {lengths.with_unit(remnant.length_mm).removesuffix(' mm')} x "
                f"{lengths.with_unit(remnant.width_mm)}")
        centre_x, centre_y = remnant.x_mm + remnant.length_mm / 2, remnant.y_mm + remnant.width_mm / 2
        # Upright when it fits across the remnant; along it when the remnant is a tall strip.
        turn = remnant.width_mm > remnant.length_mm and len(text) * font * 0.6 * 0.55 > remnant.length_mm
        _text(svg, text, centre_x, centre_y, font * 0.6, fill="#43a047",
              **({"transform": f"rotate(-90 {_rounded(centre_x)} {_rounded(-centre_y)})"} if turn else {}))
    for placement in slab_layout.placements:
        piece = pieces[placement.piece]
        label = piece.id + (f" #{placement.copy}" if piece.qty > 1 else "")
        _draw_piece_body(svg, piece, placement_transform(placement), stroke, font, label, edges=False)
    title = (f"Slab {slab_layout.index}: {slab_layout.slab_id} {lengths.with_unit(length)} x "
             f"{lengths.with_unit(width)}, "
             f"{len(slab_layout.placements)} piece{'s' if len(slab_layout.placements) != 1 else ''}, "
             f"yield {lengths.numbers.trim(slab_layout.yield_pct, 2)}%")
    _text(svg, title, 0, width + font * 1.4, font, anchor="start", font_weight="bold")
    return _finish(svg)
