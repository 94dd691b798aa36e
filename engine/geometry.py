"""Piece and cutout geometry in millimetres: outlines as line/arc segments, edge kinds along them, shapely twins.

Everything here takes a job already converted with `spec.to_mm`. Outlines keep arcs exact (a bulge per
segment, as DXF LWPOLYLINE does) so lengths are analytic and DXF can write true arcs; `to_polygon`
discretises them finely for shapely (areas, containment, distances).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon
from shapely.ops import polylabel

from engine.spec import RECT_SIDES, Cutout, Edge, Piece, PolygonShape, RectShape

Pt = tuple[float, float]

# Arc discretisation: at most this far (mm) between the true arc and its chords, and at least
# MIN_SEGMENTS_PER_CIRCLE chords per full turn; capped so a hostile radius cannot blow up the point count.
MAX_SAGITTA_MM = 0.05
MIN_SEGMENTS_PER_CIRCLE = 128
MAX_SEGMENTS_PER_ARC = 1024
EPS = 1e-9

HOLE_TYPES = frozenset({"faucet_hole", "soap_hole", "outlet"})


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
        c = self.chord
        if abs(self.bulge) < EPS or c < EPS:
            return c
        theta = abs(self.angle)
        return c / (2.0 * math.sin(theta / 2.0)) * theta

    def center_radius(self) -> tuple[Pt, float]:
        """Centre and radius of an arc segment."""
        (x0, y0), (x1, y1) = self.start, self.end
        c = self.chord
        theta = self.angle
        mx, my = (x0 + x1) / 2.0, (y0 + y1) / 2.0
        nx, ny = -(y1 - y0) / c, (x1 - x0) / c  # left normal of the chord
        d = (c / 2.0) / math.tan(theta / 2.0)  # signed: a CCW arc has its centre on the left
        return (mx + nx * d, my + ny * d), abs(c / (2.0 * math.sin(theta / 2.0)))

    def point_at(self, f: float) -> Pt:
        """The point a fraction `f` (0..1) of the way along the segment."""
        if abs(self.bulge) < EPS or self.chord < EPS:
            return (self.start[0] + (self.end[0] - self.start[0]) * f, self.start[1] + (self.end[1] - self.start[1]) * f)
        (cx, cy), r = self.center_radius()
        a0 = math.atan2(self.start[1] - cy, self.start[0] - cx)
        a = a0 + self.angle * f
        return (cx + r * math.cos(a), cy + r * math.sin(a))

    def sub(self, f0: float, f1: float) -> Seg:
        """The part of this segment between fractions f0 and f1 (an arc stays an arc)."""
        bulge = math.tan(self.angle * (f1 - f0) / 4.0) if abs(self.bulge) >= EPS else 0.0
        return Seg(self.point_at(f0), self.point_at(f1), bulge)

    def tangent(self, f: float) -> Pt:
        """Unit direction of travel at fraction f."""
        dx, dy = self.end[0] - self.start[0], self.end[1] - self.start[1]
        c = math.hypot(dx, dy) or 1.0
        a = math.atan2(dy, dx)
        if abs(self.bulge) >= EPS:
            # the tangent leaves the chord by half the included angle, and turns through the whole angle
            a += -self.angle / 2.0 + self.angle * f
        return (math.cos(a), math.sin(a)) if c else (1.0, 0.0)

    def points(self, max_sagitta: float = MAX_SAGITTA_MM, per_circle: int = MIN_SEGMENTS_PER_CIRCLE) -> list[Pt]:
        """Start point plus interior points of a discretised arc (the end point is left to the next segment)."""
        if abs(self.bulge) < EPS or self.chord < EPS:
            return [self.start]
        (cx, cy), r = self.center_radius()
        theta = self.angle
        n_circle = math.ceil(abs(theta) / (2 * math.pi) * per_circle)
        n_sag = math.ceil(abs(theta) / (2 * math.acos(max(-1.0, 1 - max_sagitta / r)))) if r > max_sagitta else 1
        n = max(2, min(MAX_SEGMENTS_PER_ARC, max(n_circle, n_sag)))
        a0 = math.atan2(self.start[1] - cy, self.start[0] - cx)
        # Plain floats: arcs have a few dozen points, where numpy's per-call cost was most of the time (and
        # math.cos/sin give the same values as numpy's here).
        cos, sin = math.cos, math.sin
        return [self.start, *[(cx + r * cos(a), cy + r * sin(a)) for a in [a0 + theta * k / n for k in range(1, n)]]]

    def distance_to(self, p: Pt) -> float:
        """Exact distance from a point to this line or arc."""
        (x0, y0), (x1, y1) = self.start, self.end
        if abs(self.bulge) >= EPS and self.chord >= EPS:
            (cx, cy), r = self.center_radius()
            a0 = math.atan2(y0 - cy, x0 - cx)
            swept = (math.atan2(p[1] - cy, p[0] - cx) - a0) % (2 * math.pi)  # from the start, counter-clockwise
            theta = self.angle
            if (swept if theta > 0 else (2 * math.pi - swept) % (2 * math.pi)) <= abs(theta):
                return abs(math.dist(p, (cx, cy)) - r)
            return min(math.dist(p, self.start), math.dist(p, self.end))
        dx, dy = x1 - x0, y1 - y0
        len2 = dx * dx + dy * dy
        t = 0.0 if len2 == 0 else max(0.0, min(1.0, ((p[0] - x0) * dx + (p[1] - y0) * dy) / len2))
        return math.dist(p, (x0 + t * dx, y0 + t * dy))


@dataclass(frozen=True)
class Span:
    """A stretch of outline with one edge kind: `seg` is exact, `edge` the original edge index (None: a corner)."""

    seg: Seg
    kind: str
    profile: str | None
    edge: int | None
    corner: int | None = None
    groove: object | None = None  # the edge's DripGroove, if any


@dataclass
class Outline:
    """A closed outline: exact segments, plus which span of it has which edge kind."""

    segs: list[Seg]
    spans: list[Span] = field(default_factory=list)
    edge_names: list[str] = field(default_factory=list)  # display name per original edge
    vertices: list[Pt] = field(default_factory=list)  # original vertices, before corners
    edge_lengths: list[float] = field(default_factory=list)  # original edge lengths, before corners

    def polygon(self, max_sagitta: float = MAX_SAGITTA_MM) -> Polygon:
        """Shapely polygon of the outline, arcs discretised."""
        return to_polygon(self.segs, max_sagitta)

    def length(self) -> float:
        return sum(s.length() for s in self.segs)


def to_polygon(segs: list[Seg], max_sagitta: float = MAX_SAGITTA_MM,
               per_circle: int = MIN_SEGMENTS_PER_CIRCLE) -> Polygon:
    """Shapely polygon of a closed chain of segments (may be invalid; callers check `is_valid`)."""
    pts: list[Pt] = []
    for s in segs:
        pts.extend(s.points(max_sagitta, per_circle))
    if len(pts) < 3:  # sides shorter than EPS collapsed: shapely would raise ValueError, not a finding
        raise GeometryError("the outline collapses: its sides are too short to make an area")
    return shapely.polygons(_xy_array(pts))


def _xy_array(pts: list[Pt]) -> np.ndarray:
    """An (n, 2) float array of points, for shapely: much faster than a list of tuples, and than np.asarray of one."""
    return np.fromiter(itertools.chain.from_iterable(pts), dtype=float, count=2 * len(pts)).reshape(-1, 2)


def area(segs: list[Seg]) -> float:
    """Exact area of a closed chain of lines and arcs: shoelace on the ends plus each arc's circular segment.

    Discretised arcs lose about two thirds of the sagitta along their length (20 mm² on an R200 half circle),
    so quoted areas are computed exactly; shapely still does containment and distances.
    """
    total = 0.0
    for s in segs:
        (x0, y0), (x1, y1) = s.start, s.end
        total += 0.5 * (x0 * y1 - x1 * y0)
        if abs(s.bulge) >= EPS and s.chord >= EPS:
            theta = s.angle
            _, r = s.center_radius()
            total += math.copysign(0.5 * r * r * (abs(theta) - math.sin(abs(theta))), theta)
    return abs(total)


def signed_area_vertices(pts: list[Pt]) -> float:
    """Shoelace signed area; only its sign is used (orientation of the vertex list)."""
    return 0.5 * sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1]))


def raw_vertices(piece: Piece) -> tuple[list[Pt], list[float]]:
    """Original vertices and bulges of a piece (rect: 0 front-left, 1 front-right, 2 back-right, 3 back-left)."""
    shape = piece.shape
    if isinstance(shape, RectShape):
        pts = [(0.0, 0.0), (shape.length, 0.0), (shape.length, shape.depth), (0.0, shape.depth)]
        return pts, [0.0] * 4
    assert isinstance(shape, PolygonShape)
    return [(float(v[0]), float(v[1])) for v in shape.vertices], [float(v[2]) if len(v) > 2 else 0.0 for v in shape.vertices]


def edge_names(piece: Piece) -> list[str]:
    """Display names of the original edges: front/right/back/left for a rect, edge0.. for a polygon."""
    if isinstance(piece.shape, RectShape):
        return list(RECT_SIDES)
    return [f"edge{i}" for i in range(len(piece.shape.vertices))]


def piece_edges(piece: Piece) -> list[Edge | None]:
    """The Edge spec for each original edge (None where the job says nothing)."""
    n = 4 if isinstance(piece.shape, RectShape) else len(piece.shape.vertices)
    if piece.edges is None:
        return [None] * n
    if isinstance(piece.edges, dict):
        if isinstance(piece.shape, RectShape):
            return [piece.edges.get(side) for side in RECT_SIDES]
        raise GeometryError(f"{piece.id}: a polygon's edges are a list, one per edge, not front/right/back/left")
    if len(piece.edges) != n:
        raise GeometryError(f"{piece.id}: {len(piece.edges)} edges given for a shape with {n} edges")
    return list(piece.edges)


def footprint_polygon(vertices: list[list[float]]) -> Polygon:
    """Shapely polygon of a `[x, y(, bulge)]` vertex list (a cabinet footprint)."""
    pts = [(float(v[0]), float(v[1])) for v in vertices]
    bulges = [float(v[2]) if len(v) > 2 else 0.0 for v in vertices]
    if not any(bulges) and len(pts) >= 3:  # straight sides (most footprints): the vertices are the ring
        return shapely.polygons(_xy_array(pts))
    return to_polygon([Seg(pts[i], pts[(i + 1) % len(pts)], bulges[i]) for i in range(len(pts))])


def _corner_trims(pts: list[Pt], bulges: list[float], piece: Piece) -> dict[int, tuple[str, float, float, float]]:
    """Per cornered vertex: (type, size, trim along each adjacent edge, turn angle)."""
    n = len(pts)
    out: dict[int, tuple[str, float, float, float]] = {}
    for c in piece.corners:
        i = c.at
        if i >= n:
            raise GeometryError(f"{piece.id}: corner at vertex {i}, but the shape has {n} vertices (0..{n - 1})")
        if i in out:
            raise GeometryError(f"{piece.id}: two corners at vertex {i}")
        if abs(bulges[(i - 1) % n]) >= EPS or abs(bulges[i]) >= EPS:
            raise GeometryError(f"{piece.id}: the corner at vertex {i} touches a curved edge; "
                                "radius and clip corners need two straight edges")
        p, v, q = pts[(i - 1) % n], pts[i], pts[(i + 1) % n]
        u = _unit(v[0] - p[0], v[1] - p[1])
        w = _unit(q[0] - v[0], q[1] - v[1])
        turn = math.atan2(u[0] * w[1] - u[1] * w[0], u[0] * w[0] + u[1] * w[1])
        if abs(turn) < 1e-6:
            raise GeometryError(f"{piece.id}: vertex {i} is not a corner (the edges run straight on)")
        trim = c.size * math.tan(abs(turn) / 2.0) if c.type == "radius" else c.size
        out[i] = (c.type, c.size, trim, turn)
    return out


def _unit(dx: float, dy: float) -> Pt:
    d = math.hypot(dx, dy)
    if d < EPS:
        raise GeometryError("two consecutive vertices coincide")
    return (dx / d, dy / d)


def _edge_kind_intervals(edge: Edge | None, length: float) -> list[tuple[float, float, str, str | None]]:
    """[(from, to, kind, profile)] covering 0..length; segments override the edge's own kind on their spans."""
    base_kind = edge.kind if edge else "sawn"
    base_profile = edge.profile if edge else None
    cuts = {0.0, length}
    segs = list(edge.segments) if edge else []
    for s in segs:
        if s.end <= s.start + EPS:
            raise GeometryError(f"segment from {s.start:g} to {s.end:g} is empty or reversed")
        if s.end > length + 0.5:  # half a millimetre of slack for rounding in the job
            raise GeometryError(f"segment runs to {s.end:g} but the edge is only {length:.1f} long")
        cuts.update((min(s.start, length), min(s.end, length)))
    bounds = sorted(cuts)
    out: list[tuple[float, float, str, str | None]] = []
    for a, b in itertools.pairwise(bounds):
        if b - a < EPS:
            continue
        mid = (a + b) / 2
        kind, profile = base_kind, base_profile
        for s in segs:  # the last segment listed wins where segments overlap
            if s.start <= mid <= s.end:
                kind = s.kind
                profile = s.profile if s.profile is not None else (base_profile if s.kind == "finished" else None)
        if out and out[-1][2] == kind and out[-1][3] == profile and abs(out[-1][1] - a) < EPS:
            out[-1] = (out[-1][0], b, kind, profile)
        else:
            out.append((a, b, kind, profile))
    return out


def outline(piece: Piece) -> Outline:
    """The finished outline of a piece (mm): corners applied, each stretch tagged with its edge kind and profile."""
    pts, bulges = raw_vertices(piece)
    n = len(pts)
    names = edge_names(piece)
    edges = piece_edges(piece)
    lengths = [Seg(pts[i], pts[(i + 1) % n], bulges[i]).length() for i in range(n)]
    if any(length < EPS for length in lengths):
        raise GeometryError(f"{piece.id}: two consecutive vertices coincide")
    corners = _corner_trims(pts, bulges, piece)
    segs: list[Seg] = []
    spans: list[Span] = []
    intervals = []
    for i in range(n):
        try:
            intervals.append(_edge_kind_intervals(edges[i], lengths[i]))
        except GeometryError as e:
            raise GeometryError(f"{piece.id} {names[i]}: {e}") from None
    for i in range(n):
        j = (i + 1) % n
        t0 = corners[i][2] if i in corners else 0.0
        t1 = lengths[i] - (corners[j][2] if j in corners else 0.0)
        if t1 < t0 - 1e-6:
            raise GeometryError(f"{piece.id}: the corners at vertices {i} and {j} do not fit on {names[i]} "
                                f"({lengths[i]:.1f} long)")
        full = Seg(pts[i], pts[j], bulges[i])
        edge_seg = full.sub(t0 / lengths[i], t1 / lengths[i]) if (t0 > 0 or t1 < lengths[i]) else full
        if t1 - t0 > 1e-6:
            segs.append(edge_seg)
            groove = edges[i].drip_groove if edges[i] else None
            for a, b, kind, profile in intervals[i]:
                a, b = max(a, t0), min(b, t1)
                if b - a > 1e-6:
                    spans.append(Span(full.sub(a / lengths[i], b / lengths[i]), kind, profile, i, None, groove))
        if j in corners:
            ctype, _size, trim, turn = corners[j]
            p1 = full.point_at(t1 / lengths[i]) if t1 < lengths[i] else pts[j]
            nxt = Seg(pts[j], pts[(j + 1) % n], bulges[j])
            p2 = nxt.point_at(trim / lengths[j])
            cseg = Seg(p1, p2, math.tan(turn / 4.0) if ctype == "radius" else 0.0)
            segs.append(cseg)
            kind, profile = _corner_kind(intervals[i][-1], intervals[j][0])
            spans.append(Span(cseg, kind, profile, None, j))
    return Outline(segs, spans, names, pts, lengths)


Interval = tuple[float, float, str, str | None]  # (from, to, kind, profile) along an edge


def _corner_kind(before: Interval, after: Interval) -> tuple[str, str | None]:
    """A corner's arc or clip is exposed stone if either neighbouring edge is finished, so it is polished too."""
    if before[2] == after[2]:
        return before[2], before[3]
    if before[2] == "finished":
        return "finished", before[3]
    if after[2] == "finished":
        return "finished", after[3]
    return before[2], before[3]


def vertex_turns(piece: Piece) -> list[float]:
    """Signed turn angle at each original vertex, using arc tangents (positive = left turn)."""
    pts, bulges = raw_vertices(piece)
    n = len(pts)
    segs = [Seg(pts[i], pts[(i + 1) % n], bulges[i]) for i in range(n)]
    out = []
    for i in range(n):
        u = segs[(i - 1) % n].tangent(1.0)
        w = segs[i].tangent(0.0)
        out.append(math.atan2(u[0] * w[1] - u[1] * w[0], u[0] * w[0] + u[1] * w[1]))
    return out


# ---- cutouts ----------------------------------------------------------------------------------


def cutout_missing(c: Cutout) -> str | None:
    """What size field a cutout lacks for its shape, or None when it is complete."""
    if c.shape == "circle":
        return None if c.diameter else "a circle needs `diameter`"
    if not c.length or not c.width:
        return f"{'a rect' if c.shape == 'rect' else 'an oval'} needs `length` and `width`"
    if c.shape == "rect" and c.corner_radius > min(c.length, c.width) / 2 + EPS:
        return f"corner_radius {c.corner_radius:g} is more than half of the {min(c.length, c.width):g} side"
    return None


def cutout_segs(c: Cutout) -> list[Seg]:
    """Exact outline of a cutout in the piece frame (mm): rounded rect, ellipse (as short arcs), or circle."""
    problem = cutout_missing(c)
    if problem:
        raise GeometryError(f"cutout {c.id}: {problem}")
    cx, cy = c.center
    if c.shape == "circle":
        r = c.diameter / 2.0
        local = [Seg((r, 0.0), (-r, 0.0), 1.0), Seg((-r, 0.0), (r, 0.0), 1.0)]
    elif c.shape == "rect":
        local = _rounded_rect(c.length, c.width, c.corner_radius)
    else:
        local = _ellipse_arcs(c.length / 2.0, c.width / 2.0)
    a = math.radians(c.rotation)
    ca, sa = math.cos(a), math.sin(a)

    def tf(p: Pt) -> Pt:
        return (cx + p[0] * ca - p[1] * sa, cy + p[0] * sa + p[1] * ca)

    return [Seg(tf(s.start), tf(s.end), s.bulge) for s in local]


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


def cutout_polygon(c: Cutout) -> Polygon:
    """Shapely polygon of a cutout (mm)."""
    return to_polygon(cutout_segs(c))


def self_intersection(piece: Piece) -> str | None:
    """Why a polygon piece's raw outline is not a simple polygon, or None when it is fine."""
    pts, bulges = raw_vertices(piece)
    n = len(pts)
    poly = to_polygon([Seg(pts[i], pts[(i + 1) % n], bulges[i]) for i in range(n)], max_sagitta=0.5)
    if poly.is_valid:
        return None
    return shapely.is_valid_reason(poly)


def polyline_points(segs: list[Seg]) -> list[Pt]:
    """Discretised points of an open chain of segments, end point included."""
    pts: list[Pt] = []
    for s in segs:
        pts.extend(s.points())
    if segs:
        pts.append(segs[-1].end)
    return pts


def span_line(span: Span) -> LineString:
    """Shapely line of one outline span (for seam distances)."""
    return LineString(polyline_points([span.seg]))


def bbox(segs: list[Seg]) -> tuple[float, float, float, float]:
    """Exact (minx, miny, maxx, maxy) of a chain of segments: ends plus any arc extreme (0/90/180/270 deg) swept."""
    xs: list[float] = []
    ys: list[float] = []
    for s in segs:
        for p in (s.start, s.end):
            xs.append(p[0])
            ys.append(p[1])
        if abs(s.bulge) >= EPS and s.chord >= EPS:
            (cx, cy), r = s.center_radius()
            a0 = math.atan2(s.start[1] - cy, s.start[0] - cx)
            theta = s.angle
            for k in range(4):
                ang = k * math.pi / 2
                # fraction of the sweep at which the arc passes this compass direction, if it does
                f = ((ang - a0) % (2 * math.pi)) / theta if theta > 0 else -((a0 - ang) % (2 * math.pi)) / theta
                if 0.0 <= f <= 1.0:
                    xs.append(cx + r * math.cos(ang))
                    ys.append(cy + r * math.sin(ang))
    return min(xs), min(ys), max(xs), max(ys)


def label_point(segs: list[Seg]) -> Pt:
    """Where a piece's name goes: its bbox centre when that is on the stone, else the point deepest inside it
    (an L or U shape's bbox centre can be off the piece, or inside another piece nested into its corner)."""
    minx, miny, maxx, maxy = bbox(segs)
    centre = ((minx + maxx) / 2, (miny + maxy) / 2)
    poly = to_polygon(segs)
    if not poly.is_valid or shapely.contains_xy(poly, *centre):
        return centre
    p = polylabel(poly, tolerance=max(1.0, (maxx - minx + maxy - miny) / 200))
    return (p.x, p.y)
