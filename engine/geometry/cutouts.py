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
    cx, cy = cutout.center
    if cutout.shape == "circle":
        r = cutout.diameter / 2.0
        local = [Seg((r, 0.0), (-r, 0.0), 1.0), Seg((-r, 0.0), (r, 0.0), 1.0)]
    elif cutout.shape == "rect":
        local = _rounded_rect(cutout.length, cutout.width, cutout.corner_radius)
    else:
        local = _ellipse_arcs(cutout.length / 2.0, cutout.width / 2.0)
    turn = math.radians(cutout.rotation)
    ca, sa = math.cos(turn), math.sin(turn)

    def to_piece(p: Pt) -> Pt:
        return (cx + p[0] * ca - p[1] * sa, cy + p[0] * sa + p[1] * ca)

    return [Seg(to_piece(s.start), to_piece(s.end), s.bulge) for s in local]


def _rounded_rect(length: float, width: float, r: float) -> list[Seg]:
    hx, hy = length / 2.0, width / 2.0
    r = min(r, hx, hy)
    if r < EPS:
        return [Seg((-hx, -hy), (hx, -hy)), Seg((hx, -hy), (hx, hy)), Seg((hx, hy), (-hx, hy)), Seg((-hx, hy), (-hx, -hy))]
    q = math.tan(math.pi / 8.0)  # quarter circle
    pts = [
        Seg((-hx + r, -hy), (hx - r, -hy)), Seg((hx - r, -hy), (hx, -hy + r), q),
        Seg((hx, -hy + r), (hx, hy - r)), Seg((hx, hy - r), (hx - r, hy), q),
        Seg((hx - r, hy), (-hx + r, hy)), Seg((-hx + r, hy), (-hx, hy - r), q),
        Seg((-hx, hy - r), (-hx, -hy + r)), Seg((-hx, -hy + r), (-hx + r, -hy), q),
    ]
    return [s for s in pts if s.chord > EPS]


ELLIPSE_ARCS = 32


def _ellipse_arcs(a: float, b: float) -> list[Seg]:
    """An ellipse as ELLIPSE_ARCS circular arcs, each through three points of the ellipse (sub-0.1 mm error for sinks).

    CAM software handles polylines with bulges better than ELLIPSE entities, and arcs keep the outline smooth.
    """
    out = []
    for k in range(ELLIPSE_ARCS):
        t0 = 2 * math.pi * k / ELLIPSE_ARCS
        t1 = 2 * math.pi * (k + 1) / ELLIPSE_ARCS
        tm = (t0 + t1) / 2
        p0 = (a * math.cos(t0), b * math.sin(t0))
        pm = (a * math.cos(tm), b * math.sin(tm))
        p1 = (a * math.cos(t1), b * math.sin(t1))
        out.append(Seg(p0, p1, _bulge_through(p0, pm, p1)))
    return out


def _bulge_through(p0: Pt, pm: Pt, p1: Pt) -> float:
    """Bulge of the circular arc from p0 to p1 passing through pm."""
    ax, ay = p0[0] - pm[0], p0[1] - pm[1]
    bx, by = p1[0] - pm[0], p1[1] - pm[1]
    inscribed = math.atan2(abs(ax * by - ay * bx), ax * bx + ay * by)  # angle p0-pm-p1
    theta = 2 * math.pi - 2 * inscribed  # the arc containing pm
    cross = (p1[0] - p0[0]) * (pm[1] - p0[1]) - (p1[1] - p0[1]) * (pm[0] - p0[0])
    return math.tan(theta / 4.0) * (1.0 if cross < 0 else -1.0)  # pm right of the chord: a CCW arc


def cutout_polygon(cutout: Cutout) -> Polygon:
    """Shapely polygon of a cutout (mm)."""
    return to_polygon(cutout_segs(cutout))
