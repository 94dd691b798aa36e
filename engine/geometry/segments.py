"""Segments and bulges: a line or circular arc between two points (bulge = tan(angle/4), as DXF LWPOLYLINE
stores it), and what is measured on a chain of them: exact length, area and bbox, shapely polygons.

Everything here is in millimetres. Arcs stay exact, so lengths are analytic and DXF can write true arcs;
`to_polygon` discretises them finely for shapely (areas, containment, distances).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Polygon

__all__ = ["EPS", "MAX_SAGITTA_MM", "GeometryError", "Pt", "Seg", "area", "bbox", "polyline_points",
           "signed_area_vertices", "to_polygon", "xy_array"]

Pt = tuple[float, float]

# Arc discretisation: at most this far (mm) between the true arc and its chords, and at least
# MIN_SEGMENTS_PER_CIRCLE chords per full turn; capped so a hostile radius cannot blow up the point count.
MAX_SAGITTA_MM = 0.05
MIN_SEGMENTS_PER_CIRCLE = 128
MAX_SEGMENTS_PER_ARC = 1024
EPS = 1e-9


class GeometryError(ValueError):
    """The spec describes geometry that cannot be built (a corner too large, a missing cutout size)."""


@dataclass(frozen=True)
class Seg:
    """A straight line (bulge 0) or circular arc (bulge = tan(angle/4), positive CCW) from `start` to `end`."""

    start: Pt
    end: Pt
    bulge: float = 0.0

    @property
    def angle(self) -> float:
        """Signed included angle of the arc in radians (0 for a line)."""
        return 4.0 * math.atan(self.bulge)

    @property
    def chord(self) -> float:
        return math.dist(self.start, self.end)

    def length(self) -> float:
        """Exact length: the chord for a line, radius x angle for an arc."""
        chord = self.chord
        if abs(self.bulge) < EPS or chord < EPS:
            return chord
        theta = abs(self.angle)
        return chord / (2.0 * math.sin(theta / 2.0)) * theta

    def center_radius(self) -> tuple[Pt, float]:
        """Centre and radius of an arc segment."""
        (x0, y0), (x1, y1) = self.start, self.end
        chord = self.chord
        theta = self.angle
        mid_x, mid_y = (x0 + x1) / 2.0, (y0 + y1) / 2.0
        normal_x, normal_y = -(y1 - y0) / chord, (x1 - x0) / chord  # left normal of the chord
        offset = (chord / 2.0) / math.tan(theta / 2.0)  # signed: a CCW arc has its centre on the left
        return (mid_x + normal_x * offset, mid_y + normal_y * offset), abs(chord / (2.0 * math.sin(theta / 2.0)))

    def point_at(self, fraction: float) -> Pt:
        """The point a `fraction` (0..1) of the way along the segment."""
        if abs(self.bulge) < EPS or self.chord < EPS:
            return (self.start[0] + (self.end[0] - self.start[0]) * fraction,
                    self.start[1] + (self.end[1] - self.start[1]) * fraction)
        (centre_x, centre_y), radius = self.center_radius()
        start_angle = math.atan2(self.start[1] - centre_y, self.start[0] - centre_x)
        angle = start_angle + self.angle * fraction
        return (centre_x + radius * math.cos(angle), centre_y + radius * math.sin(angle))

    def sub(self, from_fraction: float, to_fraction: float) -> Seg:
        """The part of this segment between two fractions of it (an arc stays an arc)."""
        bulge = math.tan(self.angle * (to_fraction - from_fraction) / 4.0) if abs(self.bulge) >= EPS else 0.0
        return Seg(self.point_at(from_fraction), self.point_at(to_fraction), bulge)

    def tangent(self, fraction: float) -> Pt:
        """Unit direction of travel at `fraction` of the way along."""
        dx, dy = self.end[0] - self.start[0], self.end[1] - self.start[1]
        chord = math.hypot(dx, dy) or 1.0
        direction = math.atan2(dy, dx)
        if abs(self.bulge) >= EPS:
            # the tangent leaves the chord by half the included angle, and turns through the whole angle
            direction += -self.angle / 2.0 + self.angle * fraction
        return (math.cos(direction), math.sin(direction)) if chord else (1.0, 0.0)

    def points(self, max_sagitta: float = MAX_SAGITTA_MM, per_circle: int = MIN_SEGMENTS_PER_CIRCLE) -> list[Pt]:
        """Start point plus interior points of a discretised arc (the end point is left to the next segment)."""
        if abs(self.bulge) < EPS or self.chord < EPS:
            return [self.start]
        (centre_x, centre_y), radius = self.center_radius()
        theta = self.angle
        n_circle = math.ceil(abs(theta) / (2 * math.pi) * per_circle)
        n_sag = (math.ceil(abs(theta) / (2 * math.acos(max(-1.0, 1 - max_sagitta / radius))))
                 if radius > max_sagitta else 1)
        steps = max(2, min(MAX_SEGMENTS_PER_ARC, max(n_circle, n_sag)))
        start_angle = math.atan2(self.start[1] - centre_y, self.start[0] - centre_x)
        # Plain floats: arcs have a few dozen points, too few for numpy's per-call cost to pay off (and
        # math.cos/sin give the same values as numpy's here).
        cos, sin = math.cos, math.sin
        angles = [start_angle + theta * step / steps for step in range(1, steps)]
        return [self.start, *[(centre_x + radius * cos(angle), centre_y + radius * sin(angle)) for angle in angles]]

    def distance_to(self, point: Pt) -> float:
        """Exact distance from a point to this line or arc."""
        (x0, y0), (x1, y1) = self.start, self.end
        if abs(self.bulge) >= EPS and self.chord >= EPS:
            (centre_x, centre_y), radius = self.center_radius()
            start_angle = math.atan2(y0 - centre_y, x0 - centre_x)
            # from the start, counter-clockwise
            swept = (math.atan2(point[1] - centre_y, point[0] - centre_x) - start_angle) % (2 * math.pi)
            theta = self.angle
            if (swept if theta > 0 else (2 * math.pi - swept) % (2 * math.pi)) <= abs(theta):
                return abs(math.dist(point, (centre_x, centre_y)) - radius)
            return min(math.dist(point, self.start), math.dist(point, self.end))
        dx, dy = x1 - x0, y1 - y0
        len2 = dx * dx + dy * dy
        along = 0.0 if len2 == 0 else max(0.0, min(1.0, ((point[0] - x0) * dx + (point[1] - y0) * dy) / len2))
        return math.dist(point, (x0 + along * dx, y0 + along * dy))


def to_polygon(segs: list[Seg], max_sagitta: float = MAX_SAGITTA_MM,
               per_circle: int = MIN_SEGMENTS_PER_CIRCLE) -> Polygon:
    """Shapely polygon of a closed chain of segments (may be invalid; callers check `is_valid`)."""
    points: list[Pt] = []
    for seg in segs:
        points.extend(seg.points(max_sagitta, per_circle))
    if len(points) < 3:  # sides shorter than EPS collapsed: shapely would raise ValueError, not a finding
        raise GeometryError("the outline collapses: its sides are too short to make an area")
    return shapely.polygons(xy_array(points))


def xy_array(points: list[Pt]) -> np.ndarray:
    """An (n, 2) float array of points, for shapely: much faster than a list of tuples, and than np.asarray of one."""
    return np.fromiter(itertools.chain.from_iterable(points), dtype=float, count=2 * len(points)).reshape(-1, 2)


def area(segs: list[Seg]) -> float:
    """Exact area of a closed chain of lines and arcs: shoelace on the ends plus each arc's circular segment.

    Discretised arcs lose about two thirds of the sagitta along their length (20 mm² on an R200 half circle),
    so quoted areas are computed exactly; shapely still does containment and distances.
    """
    total = 0.0
    for seg in segs:
        (x0, y0), (x1, y1) = seg.start, seg.end
        total += 0.5 * (x0 * y1 - x1 * y0)
        if abs(seg.bulge) >= EPS and seg.chord >= EPS:
            theta = seg.angle
            _, radius = seg.center_radius()
            total += math.copysign(0.5 * radius * radius * (abs(theta) - math.sin(abs(theta))), theta)
    return abs(total)


def signed_area_vertices(points: list[Pt]) -> float:
    """Shoelace signed area; only its sign is used (orientation of the vertex list)."""
    return 0.5 * sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1]))


def polyline_points(segs: list[Seg]) -> list[Pt]:
    """Discretised points of an open chain of segments, end point included."""
    points: list[Pt] = []
    for seg in segs:
        points.extend(seg.points())
    if segs:
        points.append(segs[-1].end)
    return points


def bbox(segs: list[Seg]) -> tuple[float, float, float, float]:
    """Exact (minx, miny, maxx, maxy) of a chain of segments: ends plus any arc extreme (0/90/180/270 deg) swept."""
    xs: list[float] = []
    ys: list[float] = []
    for seg in segs:
        for point in (seg.start, seg.end):
            xs.append(point[0])
            ys.append(point[1])
        if abs(seg.bulge) >= EPS and seg.chord >= EPS:
            (centre_x, centre_y), radius = seg.center_radius()
            start_angle = math.atan2(seg.start[1] - centre_y, seg.start[0] - centre_x)
            theta = seg.angle
            for quarter in range(4):
                compass = quarter * math.pi / 2
                # fraction of the sweep at which the arc passes this compass direction, if it does
                fraction = (((compass - start_angle) % (2 * math.pi)) / theta if theta > 0
                            else -((start_angle - compass) % (2 * math.pi)) / theta)
                if 0.0 <= fraction <= 1.0:
                    xs.append(centre_x + radius * math.cos(compass))
                    ys.append(centre_y + radius * math.sin(compass))
    return min(xs), min(ys), max(xs), max(ys)
