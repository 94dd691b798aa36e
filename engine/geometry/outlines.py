"""Piece outlines: a piece's vertices with its corners applied, each stretch tagged with its edge kind and
profile, and what is asked of an outline (edge names, vertex turns, self-intersection, where the label goes).

Everything here takes a job already converted with `spec.to_mm`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import shapely
from shapely.geometry import LineString, Polygon
from shapely.ops import polylabel

from engine.geometry.segments import (EPS, MAX_SAGITTA_MM, GeometryError, Pt, Seg, bbox, polyline_points,
                                      to_polygon, xy_array)
from engine.spec import RECT_SIDES, Edge, Piece, PolygonShape, RectShape

__all__ = ["Outline", "Span", "edge_names", "footprint_polygon", "label_point", "outline", "piece_edges",
           "raw_vertices", "self_intersection", "span_line", "vertex_turns"]


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
        return sum(seg.length() for seg in self.segs)


def raw_vertices(piece: Piece) -> tuple[list[Pt], list[float]]:
    """Original vertices and bulges of a piece (rect: 0 front-left, 1 front-right, 2 back-right, 3 back-left)."""
    shape = piece.shape
    if isinstance(shape, RectShape):
        points = [(0.0, 0.0), (shape.length, 0.0), (shape.length, shape.depth), (0.0, shape.depth)]
        return points, [0.0] * 4
    assert isinstance(shape, PolygonShape)
    points = [(float(vertex[0]), float(vertex[1])) for vertex in shape.vertices]
    return points, [float(vertex[2]) if len(vertex) > 2 else 0.0 for vertex in shape.vertices]


def edge_names(piece: Piece) -> list[str]:
    """Display names of the original edges: front/right/back/left for a rect, edge0.. for a polygon."""
    if isinstance(piece.shape, RectShape):
        return list(RECT_SIDES)
    return [f"edge{i}" for i in range(len(piece.shape.vertices))]


def piece_edges(piece: Piece) -> list[Edge | None]:
    """The Edge spec for each original edge (None where the job says nothing)."""
    count = 4 if isinstance(piece.shape, RectShape) else len(piece.shape.vertices)
    if piece.edges is None:
        return [None] * count
    if isinstance(piece.edges, dict):
        if isinstance(piece.shape, RectShape):
            return [piece.edges.get(side) for side in RECT_SIDES]
        raise GeometryError(f"{piece.id}: a polygon's edges are a list, one per edge, not front/right/back/left")
    if len(piece.edges) != count:
        raise GeometryError(f"{piece.id}: {len(piece.edges)} edges given for a shape with {count} edges")
    return list(piece.edges)


def footprint_polygon(vertices: list[list[float]]) -> Polygon:
    """Shapely polygon of a `[x, y(, bulge)]` vertex list (a cabinet footprint)."""
    points = [(float(vertex[0]), float(vertex[1])) for vertex in vertices]
    bulges = [float(vertex[2]) if len(vertex) > 2 else 0.0 for vertex in vertices]
    if not any(bulges) and len(points) >= 3:  # straight sides (most footprints): the vertices are the ring
        return shapely.polygons(xy_array(points))
    return to_polygon([Seg(points[i], points[(i + 1) % len(points)], bulges[i]) for i in range(len(points))])


def _corner_trims(points: list[Pt], bulges: list[float], piece: Piece) -> dict[int, tuple[str, float, float, float]]:
    """Per cornered vertex: (type, size, trim along each adjacent edge, turn angle)."""
    count = len(points)
    out: dict[int, tuple[str, float, float, float]] = {}
    for corner in piece.corners:
        i = corner.at
        if i >= count:
            raise GeometryError(f"{piece.id}: corner at vertex {i}, but the shape has {count} vertices "
                                f"(0..{count - 1})")
        if i in out:
            raise GeometryError(f"{piece.id}: two corners at vertex {i}")
        if abs(bulges[(i - 1) % count]) >= EPS or abs(bulges[i]) >= EPS:
            raise GeometryError(f"{piece.id}: the corner at vertex {i} touches a curved edge; "
                                "radius and clip corners need two straight edges")
        previous, vertex, following = points[(i - 1) % count], points[i], points[(i + 1) % count]
        incoming = _unit(vertex[0] - previous[0], vertex[1] - previous[1])
        outgoing = _unit(following[0] - vertex[0], following[1] - vertex[1])
        turn = _turn(incoming, outgoing)
        if abs(turn) < 1e-6:
            raise GeometryError(f"{piece.id}: vertex {i} is not a corner (the edges run straight on)")
        trim = corner.size * math.tan(abs(turn) / 2.0) if corner.type == "radius" else corner.size
        out[i] = (corner.type, corner.size, trim, turn)
    return out


def _turn(incoming: Pt, outgoing: Pt) -> float:
    """Signed angle from one direction to the next (positive = left turn)."""
    return math.atan2(incoming[0] * outgoing[1] - incoming[1] * outgoing[0],
                      incoming[0] * outgoing[0] + incoming[1] * outgoing[1])


def _unit(dx: float, dy: float) -> Pt:
    length = math.hypot(dx, dy)
    if length < EPS:
        raise GeometryError("two consecutive vertices coincide")
    return (dx / length, dy / length)


def _edge_kind_intervals(edge: Edge | None, length: float) -> list[tuple[float, float, str, str | None]]:
    """[(from, to, kind, profile)] covering 0..length; segments override the edge's own kind on their spans."""
    base_kind = edge.kind if edge else "sawn"
    base_profile = edge.profile if edge else None
    cuts = {0.0, length}
    segments = list(edge.segments) if edge else []
    for segment in segments:
        if segment.end <= segment.start + EPS:
            raise GeometryError(f"segment from {segment.start:g} to {segment.end:g} is empty or reversed")
        if segment.end > length + 0.5:  # half a millimetre of slack for rounding in the job
            raise GeometryError(f"segment runs to {segment.end:g} but the edge is only {length:.1f} long")
        cuts.update((min(segment.start, length), min(segment.end, length)))
    bounds = sorted(cuts)
    out: list[tuple[float, float, str, str | None]] = []
    for start, end in itertools.pairwise(bounds):
        if end - start < EPS:
            continue
        mid = (start + end) / 2
        kind, profile = base_kind, base_profile
        for segment in segments:  # the last segment listed wins where segments overlap
            if segment.start <= mid <= segment.end:
                kind = segment.kind
                profile = (segment.profile if segment.profile is not None
                           else base_profile if segment.kind == "finished" else None)
        if out and out[-1][2] == kind and out[-1][3] == profile and abs(out[-1][1] - start) < EPS:
            out[-1] = (out[-1][0], end, kind, profile)
        else:
            out.append((start, end, kind, profile))
    return out


def outline(piece: Piece) -> Outline:
    """The finished outline of a piece (mm): corners applied, each stretch tagged with its edge kind and profile."""
    points, bulges = raw_vertices(piece)
    count = len(points)
    names = edge_names(piece)
    edges = piece_edges(piece)
    lengths = [Seg(points[i], points[(i + 1) % count], bulges[i]).length() for i in range(count)]
    if any(length < EPS for length in lengths):
        raise GeometryError(f"{piece.id}: two consecutive vertices coincide")
    corners = _corner_trims(points, bulges, piece)
    segs: list[Seg] = []
    spans: list[Span] = []
    intervals = []
    for i in range(count):
        try:
            intervals.append(_edge_kind_intervals(edges[i], lengths[i]))
        except GeometryError as err:
            raise GeometryError(f"{piece.id} {names[i]}: {err}") from None
    for i in range(count):
        j = (i + 1) % count
        kept_from = corners[i][2] if i in corners else 0.0
        kept_to = lengths[i] - (corners[j][2] if j in corners else 0.0)
        if kept_to < kept_from - 1e-6:
            raise GeometryError(f"{piece.id}: the corners at vertices {i} and {j} do not fit on {names[i]} "
                                f"({lengths[i]:.1f} long)")
        full = Seg(points[i], points[j], bulges[i])
        trimmed = kept_from > 0 or kept_to < lengths[i]
        edge_seg = full.sub(kept_from / lengths[i], kept_to / lengths[i]) if trimmed else full
        if kept_to - kept_from > 1e-6:
            segs.append(edge_seg)
            groove = edges[i].drip_groove if edges[i] else None
            for start, end, kind, profile in intervals[i]:
                start, end = max(start, kept_from), min(end, kept_to)
                if end - start > 1e-6:
                    spans.append(Span(full.sub(start / lengths[i], end / lengths[i]), kind, profile, i, None, groove))
        if j in corners:
            corner_type, _size, trim, turn = corners[j]
            corner_start = full.point_at(kept_to / lengths[i]) if kept_to < lengths[i] else points[j]
            next_edge = Seg(points[j], points[(j + 1) % count], bulges[j])
            corner_end = next_edge.point_at(trim / lengths[j])
            corner_seg = Seg(corner_start, corner_end, math.tan(turn / 4.0) if corner_type == "radius" else 0.0)
            segs.append(corner_seg)
            kind, profile = _corner_kind(intervals[i][-1], intervals[j][0])
            spans.append(Span(corner_seg, kind, profile, None, j))
    return Outline(segs, spans, names, points, lengths)


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
    points, bulges = raw_vertices(piece)
    count = len(points)
    segs = [Seg(points[i], points[(i + 1) % count], bulges[i]) for i in range(count)]
    out = []
    for i in range(count):
        incoming = segs[(i - 1) % count].tangent(1.0)
        outgoing = segs[i].tangent(0.0)
        out.append(_turn(incoming, outgoing))
    return out


def self_intersection(piece: Piece) -> str | None:
    """Why a polygon piece's raw outline is not a simple polygon, or None when it is fine."""
    points, bulges = raw_vertices(piece)
    count = len(points)
    poly = to_polygon([Seg(points[i], points[(i + 1) % count], bulges[i]) for i in range(count)], max_sagitta=0.5)
    if poly.is_valid:
        return None
    return shapely.is_valid_reason(poly)


def span_line(span: Span) -> LineString:
    """Shapely line of one outline span (for seam distances)."""
    return LineString(polyline_points([span.seg]))


def label_point(segs: list[Seg]) -> Pt:
    """Where a piece's name goes: its bbox centre when that is on the stone, else the point deepest inside it
    (an L or U shape's bbox centre can be off the piece, or inside another piece nested into its corner)."""
    minx, miny, maxx, maxy = bbox(segs)
    centre = ((minx + maxx) / 2, (miny + maxy) / 2)
    poly = to_polygon(segs)
    if not poly.is_valid or shapely.contains_xy(poly, *centre):
        return centre
    inside = polylabel(poly, tolerance=max(1.0, (maxx - minx + maxy - miny) / 200))
    return (inside.x, inside.y)
