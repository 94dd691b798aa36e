"""Cutting a piece straight across at given x positions: the parts, each in its own frame, and the job with them.

Unit-agnostic: it works in whatever units the job is written in, so the CAD stage and the PDF stage (which
re-splits the job from the summary's seam positions) build the same parts. The caller chooses positions where
a straight cut crosses two straight edges and no cutout, appliance zone, corner or join (`engine.seams.plan`).
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
import shapely
from shapely.geometry import Polygon, box

from engine import geometry
from engine.checks.joins import JOIN_REF
from engine.spec import (MM_PER_INCH, RECT_SIDES, ApplianceZone, Edge, JobSpec, Join, Piece, PolygonShape, RectShape,
                         Support)

__all__ = ["Part", "split_job", "split_piece"]

_TINY = 1e-6


@dataclass(frozen=True)
class _Source:
    """Where a part's edge came from: original edge `edge` from `u0` to `u1` along it (None: the new seam)."""

    edge: int | None
    u0: float = 0.0
    u1: float = 0.0  # the stretch's end: u1 - u0 is the part's edge length


@dataclass(frozen=True)
class Part:
    piece: Piece
    sources: list[_Source]  # one per edge of the part, in its order

    def seam_edges(self) -> list[str]:
        """The names of the part's seam edges (left first)."""
        names = geometry.edge_names(self.piece)
        return [names[i] for i, s in enumerate(self.sources) if s.edge is None]


def _num(value: float) -> str:
    """A length for a join reference: plain decimals (JOIN_REF reads no exponent), at most 4 places."""
    return f"{round(value, 4):.4f}".rstrip("0").rstrip(".")


def _clip_edge(edge: Edge | None, u0: float, u1: float) -> Edge:
    """The stretch u0..u1 of an edge as an edge of its own: same kind, profile and drip groove, segments clipped."""
    if edge is None:
        return Edge(kind="sawn")
    segments = []
    for seg in edge.segments:
        a, b = max(seg.start, u0), min(seg.end, u1)
        if b - a > _TINY:
            segments.append(msgspec.structs.replace(seg, start=round(a - u0, 6), end=round(b - u0, 6)))
    return msgspec.structs.replace(edge, segments=segments)


def _cut(piece: Piece, sources: list[_Source], s: float) -> tuple[Part, Part]:
    """The parts left and right of x = s; the right part is moved so that its seam is at x = 0."""
    pts, bulges = geometry.raw_vertices(piece)
    edges = geometry.piece_edges(piece)
    n = len(pts)
    crossing = [i for i in range(n) if (pts[i][0] - s) * (pts[(i + 1) % n][0] - s) < 0]
    if len(crossing) != 2 or any(abs(bulges[i]) > geometry.EPS for i in crossing):
        raise geometry.GeometryError(f"{piece.id}: a straight cut at x = {s:g} must cross two straight edges")
    a, b = crossing
    lengths = [geometry.Seg(pts[i], pts[(i + 1) % n]).length() if i in crossing else 0.0 for i in range(n)]

    def at(i: int) -> tuple[geometry.Pt, float]:  # the crossing point on edge i, and its distance along the edge
        (x0, y0), (x1, y1) = pts[i], pts[(i + 1) % n]
        f = (s - x0) / (x1 - x0)
        return (s, y0 + (y1 - y0) * f), f * lengths[i]

    (p, ta), (q, tb) = at(a), at(b)
    # Each ring: (start vertex, bulge of the edge from it, original vertex index or None, where the edge came from)
    ring1 = [(p, 0.0, None, (a, ta, lengths[a]))]
    ring1 += [(pts[k], bulges[k], k, (k, None, None)) for k in range(a + 1, b)]
    ring1 += [(pts[b], 0.0, b, (b, 0.0, tb)), (q, 0.0, None, None)]
    ring2 = [(q, 0.0, None, (b, tb, lengths[b]))]
    ring2 += [(pts[k % n], bulges[k % n], k % n, (k % n, None, None)) for k in range(b + 1, a + n)]
    ring2 += [(pts[a], 0.0, a, (a, 0.0, ta)), (p, 0.0, None, None)]
    left, right = (ring1, ring2) if pts[a + 1][0] < s else (ring2, ring1)
    inf = float("inf")
    return _part(piece, sources, edges, left, -inf, s, 0.0), _part(piece, sources, edges, right, s, inf, s)


def _part(piece: Piece, sources: list[_Source], edges: list[Edge | None], ring: list, lo: float, hi: float,
          x0: float) -> Part:
    """The side of a cut between x = lo and hi as a piece in its own frame (x - x0), from its lowest left vertex."""
    first = min(range(len(ring)), key=lambda i: (round(ring[i][0][0], 6), round(ring[i][0][1], 6)))
    ring = ring[first:] + ring[:first]
    corners_at = {c.at: c for c in piece.corners}
    vertices, new_edges, new_sources, corners = [], [], [], []
    for i, (pt, bulge, vertex, source) in enumerate(ring):
        vertices.append([round(pt[0] - x0, 6), round(pt[1], 6), *([bulge] if abs(bulge) > geometry.EPS else [])])
        if vertex is not None and vertex in corners_at:
            corners.append(msgspec.structs.replace(corners_at[vertex], at=i))
        if source is None:
            new_edges.append(Edge(kind="seam"))
            new_sources.append(_Source(None))
            continue
        k, u0, u1 = source
        whole = u0 is None
        new_edges.append((edges[k] or Edge(kind="sawn")) if whole else _clip_edge(edges[k], u0, u1))
        old = sources[k]  # this piece's edge k is itself a stretch of an edge of the piece as submitted
        new_sources.append(old if whole or old.edge is None else _Source(old.edge, old.u0 + u0, old.u0 + u1))
    inside = [c for c in piece.cutouts if lo <= c.center[0] < hi]
    cutouts = [msgspec.structs.replace(c, center=[round(c.center[0] - x0, 6), c.center[1]]) for c in inside]
    zones = [ApplianceZone(type=z.type, start=round(max(z.start, lo) - x0, 6), end=round(min(z.end, hi) - x0, 6))
             for z in piece.appliance_zones if lo <= (z.start + z.end) / 2 < hi]
    changes: dict = {"corners": corners, "cutouts": cutouts, "appliance_zones": zones,
                     "support": _clip_support(piece.support, lo, hi, x0)}
    if isinstance(piece.shape, RectShape):
        length = min(hi, piece.shape.length) - x0
        changes |= {"shape": RectShape(length=round(length, 6), depth=piece.shape.depth),
                    "edges": dict(zip(RECT_SIDES, new_edges))}
    else:
        changes |= {"shape": PolygonShape(vertices=vertices), "edges": new_edges}
    return Part(msgspec.structs.replace(piece, **changes), new_sources)


def _clip_support(support: Support | None, lo: float, hi: float, x0: float) -> Support | None:
    """The cabinet footprint under the part (lo < x < hi), moved with it (None when no cabinet is under it)."""
    if support is None or not support.cabinet_footprint:
        return support
    strip = box(max(lo, -1e9), -1e9, min(hi, 1e9), 1e9)
    clipped = geometry.footprint_polygon(support.cabinet_footprint).intersection(strip)
    if not isinstance(clipped, Polygon) or clipped.is_empty:
        return None
    ring = shapely.simplify(clipped, 0.01).exterior.coords[:-1]
    return Support(cabinet_footprint=[[round(x - x0, 6), round(y, 6)] for x, y in ring])


def split_piece(piece: Piece, xs: list[float], ids: list[str]) -> list[Part]:
    """The parts of a piece cut across at each x (its frame, its units), left to right, named by `ids`."""
    pts, bulges = geometry.raw_vertices(piece)
    n = len(pts)
    sources = [_Source(i, 0.0, geometry.Seg(pts[i], pts[(i + 1) % n], bulges[i]).length()) for i in range(n)]
    parts: list[Part] = []
    rest, done = piece, 0.0
    for x in sorted(xs):
        left, right = _cut(rest, sources, x - done)
        parts.append(left)
        rest, sources, done = right.piece, right.sources, x
    parts.append(Part(rest, sources))
    total = len(parts)
    named = []
    for k, (part, pid) in enumerate(zip(parts, ids), start=1):
        label = f"{piece.label or piece.id}, part {k} of {total}"[:200]
        named.append(Part(msgspec.structs.replace(part.piece, id=pid, label=label), part.sources))
    return named


def _part_ids(piece_id: str, count: int, taken: set[str]) -> list[str]:
    """A1, A2, ... (A-1, A-2, ... when one of those is already a piece of the job)."""
    for sep in ("", "-", "-part-"):
        ids = [f"{piece_id[:56]}{sep}{k}" for k in range(1, count + 1)]
        if not taken & set(ids):
            return ids
    raise geometry.GeometryError(f"{piece_id}: no free ids for its parts")


def _remap(ref: str, original: dict[str, Piece], parts_of: dict[str, list[Part]], slack: float) -> str:
    """A join reference to a piece that was split, as a reference to the part that holds that stretch."""
    match = JOIN_REF.match(ref)
    if not match or match["piece"] not in parts_of:
        return ref
    names = geometry.edge_names(original[match["piece"]])
    if match["edge"] not in names:
        return ref
    edge = names.index(match["edge"])
    for part in parts_of[match["piece"]]:
        for i, src in enumerate(part.sources):
            if src.edge != edge:
                continue
            a = float(match["a"]) if match["a"] else 0.0
            b = float(match["b"]) if match["b"] else src.u1
            if src.u0 - _TINY <= a and b <= src.u1 + slack:
                name = f"{part.piece.id}.{geometry.edge_names(part.piece)[i]}"
                if abs(a - src.u0) < _TINY and abs(b - src.u1) < _TINY and not match["a"]:
                    return name
                return f"{name}[{_num(a - src.u0)}:{_num(min(b, src.u1) - src.u0)}]"
    raise geometry.GeometryError(f"the join '{ref}' would be cut by a seam")


def split_job(job: JobSpec, positions: dict[str, list[float]]) -> tuple[JobSpec, dict[str, list[str]]]:
    """The job with each piece named in `positions` replaced by its parts (cut at those x, the job's units) and a
    butt seam joining each part to the next; joins to a split piece move to the part that holds them.
    Also returns each split piece's part ids, left to right."""
    positions = {pid: xs for pid, xs in positions.items() if xs}
    if not positions:
        return job, {}
    taken = {p.id for p in job.pieces}
    pieces: list[Piece] = []
    parts_of: dict[str, list[Part]] = {}
    for piece in job.pieces:
        xs = positions.get(piece.id)
        if not xs or piece.id in parts_of:  # a duplicate id is an error check() reports; split the first only
            pieces.append(piece)
            continue
        parts = split_piece(piece, xs, _part_ids(piece.id, len(xs) + 1, taken))
        taken |= {part.piece.id for part in parts}
        parts_of[piece.id] = parts
        pieces += [part.piece for part in parts]
    original = {p.id: p for p in job.pieces}
    slack = 0.5 / (MM_PER_INCH if job.units == "in" else 1.0)  # check_joins lets a range run 0.5 mm long
    joins = [msgspec.structs.replace(j, a=_remap(j.a, original, parts_of, slack),
                                     b=_remap(j.b, original, parts_of, slack)) for j in job.joins]
    for parts in parts_of.values():
        for left, right in zip(parts, parts[1:]):
            joins.append(Join(a=f"{left.piece.id}.{left.seam_edges()[-1]}",
                              b=f"{right.piece.id}.{right.seam_edges()[0]}", type="butt_seam"))
    split = msgspec.structs.replace(job, pieces=pieces, joins=joins)
    return split, {pid: [part.piece.id for part in parts] for pid, parts in parts_of.items()}
