"""What a quote measures: areas, edges, cutout perimeters and drip grooves, after rounding to the shop's increment.

A shop measures to an increment (CounterGo rounds to 1/2 in by default, 10 mm in metric): every size, vertex
position and edge-segment end of a piece, and every cutout size, is snapped to the nearest multiple of it, and
the piece is measured again. Figures here are in mm and mm², at full precision; pricing turns them into units of sale.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import msgspec

from engine import geometry as g
from engine.spec import Edge, JobSpec, Piece, RectShape, Units, to_mm
from engine.summary import PieceFigures

MM_PER_FT = 304.8


def step_label(step: float | Decimal, units: Units) -> str:
    """A rounding increment as the trade writes it: 1/2 in, 1-1/16 in, 10 mm."""
    if units == "mm":
        return f"{format(Decimal(str(step)).normalize(), 'f')} mm"
    f = Fraction(str(step)).limit_denominator(64)
    whole, rest = divmod(f, 1)
    parts = [str(whole)] if whole else []
    if rest:
        parts.append(f"{rest.numerator}/{rest.denominator}")
    text = "-".join(parts)
    return f"{text or '0'} in"


# ---- what is measured -------------------------------------------------------------------------


def _snap(x: float, step: float, *, size: bool = False) -> float:
    """To the nearest multiple of `step`; a size never rounds away to nothing."""
    v = math.floor(x / step + 0.5 + 1e-9) * step  # half up; 1e-9 absorbs the noise of the unit conversion
    return max(v, step) if size else v


def _rounded_edge(edge: Edge, step: float, length: float) -> Edge:
    """Segment ends snapped like the sizes, and kept on the rounded edge (`length`, mm)."""
    segs = [msgspec.structs.replace(s, start=min(_snap(s.start, step), length), end=min(_snap(s.end, step), length))
            for s in edge.segments]
    # a segment shorter than half the increment rounds to nothing: it is not measured
    return msgspec.structs.replace(edge, segments=[s for s in segs if s.end > s.start])


def rounded_piece(piece: Piece, step: float) -> Piece:
    """The piece as measured to the shop's increment: sizes and vertex positions (mm) snapped to `step`."""
    shape = piece.shape
    if isinstance(shape, RectShape):
        shape = RectShape(length=_snap(shape.length, step, size=True), depth=_snap(shape.depth, step, size=True))
    else:
        shape = msgspec.structs.replace(
            shape, vertices=[[_snap(v[0], step), _snap(v[1], step), *v[2:]] for v in shape.vertices])
    rounded = msgspec.structs.replace(piece, shape=shape)
    pts, bulges = g.raw_vertices(rounded)
    lengths = [g.Seg(pts[i], pts[(i + 1) % len(pts)], bulges[i]).length() for i in range(len(pts))]
    edges = piece.edges
    if isinstance(edges, dict):
        by_side = dict(zip(g.edge_names(rounded), lengths, strict=True))
        edges = {side: _rounded_edge(e, step, by_side.get(side, math.inf)) for side, e in edges.items()}
    elif isinstance(edges, list):
        edges = [_rounded_edge(e, step, lengths[i] if i < len(lengths) else math.inf) for i, e in enumerate(edges)]
    cutouts = [msgspec.structs.replace(c, **{k: _snap(getattr(c, k), step, size=True)
                                             for k in ("length", "width", "diameter") if getattr(c, k) is not None})
               for c in piece.cutouts]
    return msgspec.structs.replace(rounded, edges=edges, cutouts=cutouts)


class Measures:
    """What a quote prices, over pieces x qty, in mm and mm², after rounding to `step_mm` (None: as drawn)."""

    def __init__(self, job_mm: JobSpec, step_mm: float | None) -> None:
        self.gross_mm2 = self.drip_mm = 0.0
        self.edge_mm: dict[str, float] = {}
        self.cutout_edge_mm: dict[str, float] = {}
        self.unrounded: list[str] = []  # pieces whose rounded outline would not build: measured as drawn
        for piece in job_mm.pieces:
            measured = piece
            f = PieceFigures(piece)
            if step_mm:
                measured = rounded_piece(piece, step_mm)
                rounded = PieceFigures(measured)
                if rounded.gross_mm2 > 0 or f.gross_mm2 <= 0:
                    f = rounded
                else:
                    measured = piece
                    self.unrounded.append(piece.id)
            q = piece.qty
            self.gross_mm2 += f.gross_mm2 * q
            for profile, length in f.by_profile_mm.items():
                self.edge_mm[profile] = self.edge_mm.get(profile, 0.0) + length * q
            for c in measured.cutouts:
                if c.edge_finish is not None and not g.cutout_missing(c):
                    perimeter = sum(s.length() for s in g.cutout_segs(c))
                    self.cutout_edge_mm[c.edge_finish] = self.cutout_edge_mm.get(c.edge_finish, 0.0) + perimeter * q
            self.drip_mm += q * _drip_groove_mm(measured)


def _drip_groove_mm(piece: Piece) -> float:
    """The finished outline spans of a piece's edges that have a drip groove (mm, one copy)."""
    try:
        ol = g.outline(piece)
    except g.GeometryError:
        return 0.0  # check() reports it; an unbuildable piece is not quoted
    return sum(s.seg.length() for s in ol.spans if s.groove is not None)


def drip_groove_m(job: JobSpec) -> float:
    """Total drip-groove length (m) over pieces x qty, as drawn."""
    return round(sum(p.qty * _drip_groove_mm(p) for p in to_mm(job).pieces) / 1000, 4)
