"""SVG previews a fabricator reads on a phone: plan view, y up (front edge at the bottom), edges coloured by kind.

Drawing coordinates are millimetres with y negated (SVG's y runs down); the viewBox scales the drawing to
the screen (`width="100%"`, no fixed height), so text sizes are set relative to the piece or slab.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import drawsvg as draw

from engine import geometry as g
from engine.dxf import drip_groove_lines, placement_transform, runs
from engine.model import SlabLayout
from engine.spec import MM_PER_INCH, JobSpec, Piece, to_mm

EDGE_COLOURS = {
    "finished": "#1565c0", "wall": "#6d4c41", "seam": "#d81b60", "splash_base": "#8e24aa",
    "appliance": "#ef6c00", "sawn": "#9e9e9e", "miter": "#2e7d32",
}
EDGE_LABELS = {
    "finished": "Finished", "wall": "Wall", "seam": "Seam", "splash_base": "Splash",
    "appliance": "Appliance", "sawn": "Sawn", "miter": "Miter",
}
STONE = "#ece7df"
INK = "#212121"
GROOVE = "#00838f"
FONT = "Helvetica, Arial, sans-serif"

Pt = tuple[float, float]


def _fmt(mm: float, units: str) -> str:
    """A length in the job's units: '2900 mm', '36 1/4"' is overkill on a preview: '36.25"'."""
    if units == "in":
        return f'{mm / MM_PER_INCH:.2f}'.rstrip("0").rstrip(".") + '"'
    return f"{mm:.0f} mm" if abs(mm - round(mm)) < 0.05 else f"{mm:.1f} mm"


def _q(v: float) -> float:
    """Two decimals and no negative zero: smaller files and byte-identical output."""
    return round(v, 2) + 0.0


def _c(x: float, y: float) -> str:
    """A world point as SVG coordinates (y negated)."""
    return f"{_q(x):.2f},{_q(-y):.2f}"


def _path(segs: list[g.Seg], closed: bool) -> str:
    """SVG path data for segments; arcs stay arcs (sweep flips because y is negated)."""
    if not segs:
        return ""
    x0, y0 = segs[0].start
    parts = [f"M{_c(x0, y0)}"]
    for s in segs:
        x, y = s.end
        if abs(s.bulge) < g.EPS or s.chord < g.EPS:
            parts.append(f"L{_c(x, y)}")
        else:
            _, r = s.center_radius()
            large = 1 if abs(s.angle) > math.pi else 0
            sweep = 0 if s.bulge > 0 else 1  # CCW in y-up is clockwise on screen
            parts.append(f"A{_q(r):.2f},{_q(r):.2f} 0 {large} {sweep} {_c(x, y)}")
    if closed:
        parts.append("Z")
    return " ".join(parts)


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
    legend = sorted(d_probe, key=lambda kp: (list(EDGE_COLOURS).index(kp[0]) if kp[0] in EDGE_COLOURS else 99,
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
        name = "Drip groove" if kind == "drip_groove" else EDGE_LABELS.get(kind, kind)
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
