"""SVG previews a fabricator reads on a phone: plan view, y up (front edge at the bottom), edges coloured by kind.

Drawing coordinates are millimetres with y negated (SVG's y runs down); the viewBox scales the drawing to
the screen (`width="100%"`, no fixed height), so text sizes are set relative to the piece or slab.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import drawsvg as draw

from engine import geometry as g
from engine.drawing.palette import DEFECT, EDGE_STYLES, GROOVE, SCREEN_INK, SCREEN_STONE, edge_order
from engine.drawing.svgpath import number, path_d
from engine.drawing.units import Lengths
from engine.dxf import drip_groove_lines, placement_transform, runs
from engine.model import SlabLayout
from engine.spec import JobSpec, Piece, to_mm

EDGE_COLOURS = {kind: style.screen for kind, style in EDGE_STYLES.items()}
STONE, INK = SCREEN_STONE, SCREEN_INK
FONT = "Helvetica, Arial, sans-serif"

Pt = tuple[float, float]


def _fmt(mm: float, units: str) -> str:
    """A length in the job's units with its unit: '2900 mm', '36.25"'."""
    return Lengths(units).with_unit(mm)


def _q(v: float) -> float:
    """Two decimals and no negative zero: smaller files and byte-identical output."""
    return round(v, 2) + 0.0


def _c(x: float, y: float) -> str:
    """A world point as SVG coordinates (y negated)."""
    return f"{number(x)},{number(-y)}"


def _path(segs: list[g.Seg], closed: bool) -> str:
    """SVG path data for segments in world coordinates (y up on screen: negated)."""
    return path_d(segs, lambda p: (p[0], -p[1]), 1.0, closed)


def _moved(segs: list[g.Seg], tf: Callable[[Pt], Pt]) -> list[g.Seg]:
    return [g.Seg(tf(s.start), tf(s.end), s.bulge) for s in segs]


def _text(d: draw.Drawing, s: str, x: float, y: float, size: float, **kw: object) -> None:
    """Text at world (x, y), upright on screen."""
    d.append(draw.Text(s, _q(size), _q(x), _q(-y), text_anchor=kw.pop("anchor", "middle"), dominant_baseline="middle",
                       font_family=FONT, fill=kw.pop("fill", INK), **kw))


def _finish(d: draw.Drawing) -> bytes:
    d.svg_args["width"] = "100%"
    d.svg_args["height"] = None  # the viewBox keeps the aspect ratio
    d.svg_args["preserveAspectRatio"] = "xMidYMid meet"
    return d.as_svg().encode("utf-8")


def _draw_piece_body(d: draw.Drawing, piece: Piece, tf: Callable[[Pt], Pt], stroke: float, font: float,
                     label: str | None, edges: bool) -> set[tuple[str, str | None]]:
    """Outline, cutouts, grooves and (optionally) coloured edges; returns the (kind, profile) pairs drawn."""
    ol = g.outline(piece)
    d.append(draw.Path(d=_path(_moved(ol.segs, tf), True), fill=STONE, stroke=INK, stroke_width=stroke))
    seen: set[tuple[str, str | None]] = set()
    if edges:
        for (kind, profile), spans in runs(ol.spans, lambda s: (s.kind, s.profile)):
            seen.add((kind, profile if kind == "finished" else None))
            extra = {"stroke_dasharray": f"{stroke * 4:.2f} {stroke * 2:.2f}"} if kind == "seam" else {}
            d.append(draw.Path(d=_path(_moved([s.seg for s in spans], tf), False), fill="none",
                               stroke=EDGE_COLOURS.get(kind, INK), stroke_width=_q(stroke * 3),
                               stroke_linecap="butt", **extra))
    for pts in drip_groove_lines(ol):
        moved = [tf(p) for p in pts]
        d.append(draw.Path(d="M" + " L".join(_c(x, y) for x, y in moved), fill="none", stroke=GROOVE,
                           stroke_width=_q(stroke * 1.5), stroke_dasharray=f"{stroke * 5:.2f} {stroke * 3:.2f}"))
        seen.add(("drip_groove", None))
    for c in piece.cutouts:
        if g.cutout_missing(c):
            continue
        d.append(draw.Path(d=_path(_moved(g.cutout_segs(c), tf), True), fill="#ffffff", stroke=INK,
                           stroke_width=stroke))
        cx, cy = tf((c.center[0], c.center[1]))
        if c.shape != "circle" or (c.diameter or 0) > font * 3:
            _text(d, c.id, cx, cy, font * 0.8)
        else:  # a small hole: its name beside it, where it cannot land inside a neighbouring sink
            _text(d, c.id, cx + c.diameter / 2 + font * 0.3, cy, font * 0.7, anchor="start")
    if label:
        _, miny, _, maxy = g.bbox(_moved(ol.segs, tf))
        lx, ly = tf(g.label_point(ol.segs))
        _text(d, label, lx, ly + (0 if not piece.cutouts else (maxy - miny) * 0.3), font, font_weight="bold")
    return seen


def _dimension(d: draw.Drawing, a: Pt, b: Pt, text: str, font: float, stroke: float, vertical: bool) -> None:
    """A dimension line from a to b with end ticks and the figure beside it."""
    (x0, y0), (x1, y1) = a, b
    t = font * 0.4
    ticks = [((x, y - t), (x, y + t)) if vertical is False else ((x - t, y), (x + t, y)) for x, y in (a, b)]
    d.append(draw.Path(d=" ".join(f"M{_c(*p)} L{_c(*q)}" for p, q in [(a, b), *ticks]), stroke=INK,
                       stroke_width=_q(stroke)))
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    if vertical:
        tx, ty = _q(mx - font * 0.6), _q(-my)
        d.append(draw.Text(text, _q(font), tx, ty, text_anchor="middle", dominant_baseline="middle",
                           font_family=FONT, fill=INK, transform=f"rotate(-90 {tx} {ty})"))
    else:
        _text(d, text, mx, my - font * 0.7, font)


def piece_svg(job: JobSpec, piece_index: int) -> bytes:
    """A dimensioned plan view of one piece with an edge legend."""
    mm = to_mm(job)
    piece = mm.pieces[piece_index]
    ol = g.outline(piece)
    minx, miny, maxx, maxy = g.bbox(ol.segs)
    size = max(maxx - minx, maxy - miny)
    font = _q(size / 28)  # about 12 px when the longest side fills a 360 px phone screen
    stroke = _q(size / 600)
    pad = font * 1.5
    title = piece.id + (f" - {piece.label[:60]}" if piece.label else "") + (f" (x{piece.qty})" if piece.qty > 1 else "")
    # Room: title above, dimensions left and below, legend under the bottom dimension.
    left = minx - 3 * font - pad
    top = maxy + 2.2 * font + pad
    legend_y = miny - 4 * font
    d_probe: set[tuple[str, str | None]] = set()
    for s in ol.spans:
        d_probe.add((s.kind, s.profile if s.kind == "finished" else None))
    legend = sorted(d_probe, key=lambda kp: (edge_order(kp[0]),
                                             kp[1] or ""))
    if drip_groove_lines(ol):
        legend.append(("drip_groove", None))
    per_row = max(1, int((maxx - left + pad) // (font * 9)))
    rows = math.ceil(len(legend) / per_row)
    bottom = legend_y - rows * font * 1.6 - pad
    right = maxx + pad
    d = draw.Drawing(_q(right - left), _q(top - bottom), origin=(_q(left), _q(-top)))
    _text(d, title, (minx + maxx) / 2, maxy + 1.4 * font, font * 1.1, font_weight="bold")
    _draw_piece_body(d, piece, lambda p: p, stroke, font, None, edges=True)
    _dimension(d, (minx, miny - 1.8 * font), (maxx, miny - 1.8 * font), _fmt(maxx - minx, job.units), font, stroke,
               vertical=False)
    _dimension(d, (minx - 1.8 * font, miny), (minx - 1.8 * font, maxy), _fmt(maxy - miny, job.units), font, stroke,
               vertical=True)
    for i, (kind, profile) in enumerate(legend):
        x = left + pad + (i % per_row) * font * 9
        y = legend_y - (i // per_row) * font * 1.6
        colour = GROOVE if kind == "drip_groove" else EDGE_COLOURS.get(kind, INK)
        dash = {"stroke_dasharray": f"{font * 0.3:.2f} {font * 0.15:.2f}"} if kind in ("seam", "drip_groove") else {}
        d.append(draw.Path(d=f"M{_c(x, y)} L{_c(x + font * 1.5, y)}", stroke=colour, stroke_width=_q(stroke * 3),
                           **dash))
        name = "Drip groove" if kind == "drip_groove" else (EDGE_STYLES[kind].label if kind in EDGE_STYLES else kind)
        if profile:
            name += f" ({profile})"
        _text(d, name, x + font * 1.9, y, font * 0.9, anchor="start")
    return _finish(d)


def slab_svg(job: JobSpec, slab_layout: SlabLayout) -> bytes:
    """A slab with its placed pieces labelled; the gaps between them are the kerf."""
    mm = to_mm(job)
    pieces = {p.id: p for p in mm.pieces}
    L, W = slab_layout.length_mm, slab_layout.width_mm
    size = max(L, W)
    font = _q(size / 32)  # about 11 px when a 3 m slab fills a phone screen
    stroke = _q(size / 1000)
    pad = font
    d = draw.Drawing(_q(L + 2 * pad), _q(W + 2 * pad + font * 2.5), origin=(_q(-pad), _q(-(W + pad + font * 2.5))))
    d.append(draw.Rectangle(0, -W, L, W, fill="#fafafa", stroke=INK, stroke_width=stroke * 2))
    m = mm.options.slab_margin
    if m > 0:
        d.append(draw.Rectangle(m, -(W - m), L - 2 * m, W - 2 * m, fill="none", stroke="#bdbdbd",
                                stroke_width=stroke, stroke_dasharray=f"{font * 0.4:.2f} {font * 0.3:.2f}"))
    for zone in mm.defect_outlines(slab_layout.slab_id):
        d.append(draw.Lines(*[c for x, y in zone for c in (_q(x), _q(-y))], close=True, fill=DEFECT,
                            fill_opacity=0.3, stroke=DEFECT, stroke_width=stroke))
    for r in slab_layout.remnants:
        d.append(draw.Rectangle(_q(r.x_mm), _q(-(r.y_mm + r.width_mm)), _q(r.length_mm), _q(r.width_mm), fill="none",
                                stroke="#43a047", stroke_width=stroke, stroke_dasharray=f"{font * 0.6:.2f} {font * 0.3:.2f}"))
        text = f"remnant {_fmt(r.length_mm, job.units).removesuffix(' mm')} x {_fmt(r.width_mm, job.units)}"
        cx, cy = r.x_mm + r.length_mm / 2, r.y_mm + r.width_mm / 2
        # Upright when it fits across the remnant; along it when the remnant is a tall strip.
        turn = r.width_mm > r.length_mm and len(text) * font * 0.6 * 0.55 > r.length_mm
        _text(d, text, cx, cy, font * 0.6, fill="#43a047",
              **({"transform": f"rotate(-90 {_q(cx)} {_q(-cy)})"} if turn else {}))
    for p in slab_layout.placements:
        piece = pieces[p.piece]
        label = piece.id + (f" #{p.copy}" if piece.qty > 1 else "")
        _draw_piece_body(d, piece, placement_transform(p), stroke, font, label, edges=False)
    title = (f"Slab {slab_layout.index}: {slab_layout.slab_id} {_fmt(L, job.units)} x {_fmt(W, job.units)}, "
             f"{len(slab_layout.placements)} piece{'s' if len(slab_layout.placements) != 1 else ''}, "
             f"yield {slab_layout.yield_pct:g}%")
    _text(d, title, 0, W + font * 1.4, font, anchor="start", font_weight="bold")
    return _finish(d)
