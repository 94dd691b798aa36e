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

from engine import geometry
from engine.drawing.units import inch_fraction
from engine.spec import Edge, JobSpec, Piece, RectShape, Units, to_mm
from engine.summary import PieceFigures

MM_PER_FT = 304.8


def step_label(step: float | Decimal, units: Units) -> str:
    """A rounding increment as the trade writes it: 1/2 in, 1-1/16 in, 10 mm."""
    if units == "mm":
        return f"{format(Decimal(str(step)).normalize(), 'f')} mm"
    return inch_fraction(Fraction(str(step)).limit_denominator(64)) + " in"


# ---- what is measured -------------------------------------------------------------------------


def _snap(value: float, step: float, *, size: bool = False) -> float:
    """To the nearest multiple of `step`; a size never rounds away to nothing."""
    snapped = math.floor(value / step + 0.5 + 1e-9) * step  # half up; 1e-9 absorbs the noise of the unit conversion
    return max(snapped, step) if size else snapped


def _rounded_edge(edge: Edge, step: float, length: float) -> Edge:
    """Segment ends snapped like the sizes, and kept on the rounded edge (`length`, mm)."""
    segs = [msgspec.structs.replace(segment, start=min(_snap(segment.start, step), length),
                                    end=min(_snap(segment.end, step), length))
            for segment in edge.segments]
    # a segment shorter than half the increment rounds to nothing: it is not measured
    return msgspec.structs.replace(edge, segments=[segment for segment in segs if segment.end > segment.start])


def rounded_piece(piece: Piece, step: float) -> Piece:
    """The piece as measured to the shop's increment: sizes and vertex positions (mm) snapped to `step`."""
    shape = piece.shape
    if isinstance(shape, RectShape):
        shape = RectShape(length=_snap(shape.length, step, size=True), depth=_snap(shape.depth, step, size=True))
    else:
        shape = msgspec.structs.replace(
            shape,
            vertices=[[_snap(vertex[0], step), _snap(vertex[1], step), *vertex[2:]] for vertex in shape.vertices])
    rounded = msgspec.structs.replace(piece, shape=shape)
    points, bulges = geometry.raw_vertices(rounded)
    count = len(points)
    lengths = [geometry.Seg(points[i], points[(i + 1) % count], bulges[i]).length() for i in range(count)]
    edges = piece.edges
    if isinstance(edges, dict):
        by_side = dict(zip(geometry.edge_names(rounded), lengths, strict=True))
        edges = {side: _rounded_edge(edge, step, by_side.get(side, math.inf)) for side, edge in edges.items()}
    elif isinstance(edges, list):
        edges = [_rounded_edge(edge, step, lengths[i] if i < len(lengths) else math.inf)
                 for i, edge in enumerate(edges)]
    sizes = ("length", "width", "diameter")
    cutouts = [msgspec.structs.replace(cutout, **{size: _snap(getattr(cutout, size), step, size=True)
                                                  for size in sizes if getattr(cutout, size) is not None})
               for cutout in piece.cutouts]
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
            figures = PieceFigures(piece)
            if step_mm:
                measured = rounded_piece(piece, step_mm)
                rounded = PieceFigures(measured)
                if rounded.gross_mm2 > 0 or figures.gross_mm2 <= 0:
                    figures = rounded
                else:
                    measured = piece
                    self.unrounded.append(piece.id)
            copies = piece.qty
            self.gross_mm2 += figures.gross_mm2 * copies
            for profile, length in figures.by_profile_mm.items():
                self.edge_mm[profile] = self.edge_mm.get(profile, 0.0) + length * copies
            for cutout in measured.cutouts:
                if cutout.edge_finish is not None and not geometry.cutout_missing(cutout):
                    perimeter = sum(seg.length() for seg in geometry.cutout_segs(cutout))
                    finish = cutout.edge_finish
                    self.cutout_edge_mm[finish] = self.cutout_edge_mm.get(finish, 0.0) + perimeter * copies
            self.drip_mm += copies * _drip_groove_mm(measured)


def _drip_groove_mm(piece: Piece) -> float:
    """The finished outline spans of a piece's edges that have a drip groove (mm, one copy)."""
    try:
        outline = geometry.outline(piece)
    except geometry.GeometryError:
        return 0.0  # check() reports it; an unbuildable piece is not quoted
    return sum(span.seg.length() for span in outline.spans if span.groove is not None)


def drip_groove_m(job: JobSpec) -> float:
    """Total drip-groove length (m) over pieces x qty, as drawn."""
    return round(sum(piece.qty * _drip_groove_mm(piece) for piece in to_mm(job).pieces) / 1000, 4)
