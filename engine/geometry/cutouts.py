"""Cutouts (sinks, hobs, holes) in the piece frame: their exact outline as segments, and their shapely twin."""

from __future__ import annotations

import math

from shapely.geometry import Polygon

from engine.geometry.segments import EPS, GeometryError, Pt, Seg, to_polygon
from engine.spec import Cutout

__all__ = ["HOLE_TYPES", "cutout_missing", "cutout_polygon", "cutout_segs"]

HOLE_TYPES = frozenset({"faucet_hole", "soap_hole", "outlet"})


def cutout_missing(cutout: Cutout) -> str | None:
    """What size field a cutout lacks for its shape, or None when it is complete."""
    if cutout.shape == "circle":
        return None if cutout.diameter else "a circle needs `diameter`"
    if not cutout.length or not cutout.width:
        return f"{'a rect' if cutout.shape == 'rect' else 'an oval'} needs `length` and `width`"
    if cutout.shape == "rect" and cutout.corner_radius > min(cutout.length, cutout.width) / 2 + EPS:
        return f"corner_radius {cutout.corner_radius:g} is more than half of the {min(cutout.length, cutout.width):g} side"
    return None


def cutout_segs(cutout: Cutout) -> list[Seg]:
    """Exact outline of a cutout in the piece frame (mm): rounded rect, ellipse (as short arcs), or circle."""
    problem = cutout_missing(cutout)
    if problem:
        raise GeometryError(f"cutout {cutout.id}: {problem}")
    centre_x, centre_y = cutout.center
    if cutout.shape == "circle":
        radius = cutout.diameter / 2.0
        local = [Seg((radius, 0.0), (-radius, 0.0), 1.0), Seg((-radius, 0.0), (radius, 0.0), 1.0)]
    elif cutout.shape == "rect":
        local = _rounded_rect(cutout.length, cutout.width, cutout.corner_radius)
    else:
        local = _ellipse_arcs(cutout.length / 2.0, cutout.width / 2.0)
    turn = math.radians(cutout.rotation)
    cos_turn, sin_turn = math.cos(turn), math.sin(turn)

    def to_piece(point: Pt) -> Pt:
        return (centre_x + point[0] * cos_turn - point[1] * sin_turn,
                centre_y + point[0] * sin_turn + point[1] * cos_turn)

    return [Seg(to_piece(seg.start), to_piece(seg.end), seg.bulge) for seg in local]


def _rounded_rect(length: float, width: float, radius: float) -> list[Seg]:
    half_x, half_y = length / 2.0, width / 2.0
    radius = min(radius, half_x, half_y)
    if radius < EPS:
        return [Seg((-half_x, -half_y), (half_x, -half_y)), Seg((half_x, -half_y), (half_x, half_y)),
                Seg((half_x, half_y), (-half_x, half_y)), Seg((-half_x, half_y), (-half_x, -half_y))]
    quarter = math.tan(math.pi / 8.0)  # quarter circle
    sides = [
        Seg((-half_x + radius, -half_y), (half_x - radius, -half_y)),
        Seg((half_x - radius, -half_y), (half_x, -half_y + radius), quarter),
        Seg((half_x, -half_y + radius), (half_x, half_y - radius)),
        Seg((half_x, half_y - radius), (half_x - radius, half_y), quarter),
        Seg((half_x - radius, half_y), (-half_x + radius, half_y)),
        Seg((-half_x + radius, half_y), (-half_x, half_y - radius), quarter),
        Seg((-half_x, half_y - radius), (-half_x, -half_y + radius)),
        Seg((-half_x, -half_y + radius), (-half_x + radius, -half_y), quarter),
    ]
    return [seg for seg in sides if seg.chord > EPS]


ELLIPSE_ARCS = 32


def _ellipse_arcs(half_x: float, half_y: float) -> list[Seg]:
    """An ellipse as ELLIPSE_ARCS circular arcs, each through three points of the ellipse (sub-0.1 mm error for sinks).

    CAM software handles polylines with bulges better than ELLIPSE entities, and arcs keep the outline smooth.
    """
    out = []
    for arc in range(ELLIPSE_ARCS):
        start = 2 * math.pi * arc / ELLIPSE_ARCS
        end = 2 * math.pi * (arc + 1) / ELLIPSE_ARCS
        middle = (start + end) / 2
        start_point = (half_x * math.cos(start), half_y * math.sin(start))
        mid_point = (half_x * math.cos(middle), half_y * math.sin(middle))
        end_point = (half_x * math.cos(end), half_y * math.sin(end))
        out.append(Seg(start_point, end_point, _bulge_through(start_point, mid_point, end_point)))
    return out


def _bulge_through(start: Pt, through: Pt, end: Pt) -> float:
    """Bulge of the circular arc from `start` to `end` passing through `through`."""
    ax, ay = start[0] - through[0], start[1] - through[1]
    bx, by = end[0] - through[0], end[1] - through[1]
    inscribed = math.atan2(abs(ax * by - ay * bx), ax * bx + ay * by)  # angle start-through-end
    theta = 2 * math.pi - 2 * inscribed  # the arc containing `through`
    cross = (end[0] - start[0]) * (through[1] - start[1]) - (end[1] - start[1]) * (through[0] - start[0])
    return math.tan(theta / 4.0) * (1.0 if cross < 0 else -1.0)  # `through` right of the chord: a CCW arc


def cutout_polygon(cutout: Cutout) -> Polygon:
    """Shapely polygon of a cutout (mm)."""
    return to_polygon(cutout_segs(cutout))
