"""Open paths chained into closed loops: duplicates dropped, ends within the gap tolerance joined (and reported).

Ends are matched with a shapely STRtree (`dwithin`), so chaining a 20,000-entity file is O(n log n); arcs keep
their bulges because paths are joined end to end rather than polygonised from discretised lines.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

from engine.templates.model import Problem
from engine.templates.read import V, Path

EXACT = 1e-6  # ends closer than this (job units) are the same point: joined without a word


@dataclass
class Loop:
    verts: list[V]
    sources: list[Path]  # the path each edge i (vertex i -> i+1) came from
    entity: Path | None = None  # a single closed entity (circle, ellipse, closed polyline)

    @property
    def handle(self) -> str:
        return self.sources[0].handle


def reverse_open(verts: list[V]) -> list[V]:
    pts = verts[::-1]
    bulges = [-v[2] for v in verts[:-1]][::-1] + [0.0]
    return [(x, y, b) for (x, y, _), b in zip(pts, bulges)]


def _key(p: Path, grid: float) -> tuple:
    r = lambda v: (round(v[0] / grid), round(v[1] / grid), round(v[2], 6))  # noqa: E731
    if p.circle:
        return ("circle", *(round(v / grid) for v in p.circle))
    if p.closed:
        return ("closed", frozenset(r(v)[:2] for v in p.verts), len(p.verts))
    fwd, back = tuple(map(r, p.verts)), tuple(map(r, reverse_open(p.verts)))
    return ("open", min(fwd, back))


def drop_duplicates(paths: list[Path], tolerance: float, problems: list[Problem]) -> list[Path]:
    """Identical entities (either direction) and straight lines lying on one another: keep one, report the rest."""
    seen: dict[tuple, Path] = {}
    kept: list[Path] = []
    for path in paths:
        key = _key(path, max(tolerance, EXACT))
        if key in seen:
            problems.append(Problem("DUPLICATE_ENTITY", path.handle, f"{path.handle} repeats {seen[key].handle} "
                                    "exactly; the copy was left out", "delete the duplicate in CAD"))
            continue
        seen[key] = path
        kept.append(path)
    lines = [i for i, path in enumerate(kept) if not path.closed and len(path.verts) == 2 and path.verts[0][2] == 0]
    if not lines:
        return kept
    geoms = shapely.linestrings([[kept[i].verts[0][:2], kept[i].verts[1][:2]] for i in lines])
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=tolerance)
    drop: set[int] = set()
    for a, b in zip(left.tolist(), right.tolist()):
        if a >= b or a in drop or b in drop:
            continue
        ga, gb = geoms[a], geoms[b]
        shared = ga.buffer(tolerance, cap_style="flat").intersection(gb).length
        if shared <= 10 * tolerance:
            continue
        pa, pb = kept[lines[a]], kept[lines[b]]
        shorter, longer = (a, b) if ga.length <= gb.length else (b, a)
        if shared >= geoms[shorter].length - 2 * tolerance:  # lies wholly on the other line
            drop.add(shorter)
            problems.append(Problem("DUPLICATE_ENTITY", kept[lines[shorter]].handle,
                                    f"{kept[lines[shorter]].handle} lies on {kept[lines[longer]].handle}; "
                                    "it was left out", "delete the shorter line in CAD"))
        else:
            problems.append(Problem("DUPLICATE_ENTITY", pb.handle, f"{pb.handle} overlaps {pa.handle} by "
                                    f"{shared:.4g} units; the outline cannot be followed through them",
                                    "trim the two lines so they meet end to end"))
    return [path for i, path in enumerate(kept) if i not in {lines[d] for d in drop}]


def _clusters(points: np.ndarray, tolerance: float) -> np.ndarray:
    """Union-find over end points within `tolerance` of one another; returns a cluster id per point."""
    parent = list(range(len(points)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    geoms = shapely.points(points)
    left, right = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=tolerance)
    for a, b in zip(left.tolist(), right.tolist()):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb
    return np.array([find(i) for i in range(len(points))])


def chain(paths: list[Path], gap: float, unit: str, problems: list[Problem]) -> list[Loop]:
    """Closed entities as they are, open ones chained end to end; what does not close is OPEN_OUTLINE."""
    loops = [Loop(list(p.verts), [p] * len(p.verts), p) for p in paths if p.closed]
    open_paths = [p for p in paths if not p.closed]
    if not open_paths:
        return loops
    ends = np.array([v for p in open_paths for v in (p.verts[0][:2], p.verts[-1][:2])], dtype=float)
    cluster = _clusters(ends, gap)
    members: dict[int, list[int]] = {}
    for i, c in enumerate(cluster.tolist()):
        members.setdefault(c, []).append(i)
    for idx in members.values():
        if len(idx) < 2:
            continue
        width = max(math.dist(ends[a], ends[b]) for a in idx for b in idx)
        if width > EXACT:
            handles = sorted({open_paths[i // 2].handle for i in idx})
            problems.append(Problem("GAP_CLOSED", handles[0], f"a gap of {width:.4g} {unit} between "
                                    f"{' and '.join(handles)} was closed (tolerance {gap:.4g} {unit})",
                                    "nothing, unless the gap is real: then redraw the corner"))
    done = [False] * len(open_paths)
    for start in range(len(open_paths)):
        if done[start]:
            continue
        # the connected component of this path, through clusters
        comp, stack = [], [start]
        done[start] = True
        while stack:
            p = stack.pop()
            comp.append(p)
            for end in (2 * p, 2 * p + 1):
                for other in members[cluster[end]]:
                    q = other // 2
                    if not done[q]:
                        done[q] = True
                        stack.append(q)
        degrees = {cluster[e]: len(members[cluster[e]]) for p in comp for e in (2 * p, 2 * p + 1)}
        if all(d == 2 for d in degrees.values()):
            loops.append(_walk(comp, open_paths, cluster, members))
            continue
        handles = [open_paths[p].handle for p in comp]
        loose = [ends[e] for p in comp for e in (2 * p, 2 * p + 1) if degrees[cluster[e]] == 1]
        branch = [c for c, d in degrees.items() if d > 2]
        if branch:
            where = ends[members[branch[0]][0]]
            what = f"{degrees[branch[0]]} ends meet at ({where[0]:.4g}, {where[1]:.4g})"
            fix = "delete the extra line so each corner joins exactly two entities"
        else:
            gap_at = min((math.dist(a, b) for i, a in enumerate(loose) for b in loose[i + 1:]), default=0.0)
            what = f"its nearest loose ends are {gap_at:.4g} {unit} apart, more than the {gap:.4g} {unit} tolerance"
            fix = (f"close the outline in CAD, or import again with gap_tolerance_mm above the gap "
                   f"({gap_at:.4g} {unit})")
        problems.append(Problem("OPEN_OUTLINE", handles[0], f"the outline through {', '.join(handles[:8])}"
                                f"{' ...' if len(handles) > 8 else ''} does not close: {what}; it was left out", fix))
    return loops


def _walk(comp: list[int], paths: list[Path], cluster: np.ndarray, members: dict[int, list[int]]) -> Loop:
    verts: list[V] = []
    sources: list[Path] = []
    entry = 2 * comp[0]  # enter the first path at its start
    for _ in range(len(comp)):
        p = entry // 2
        vs = paths[p].verts if entry % 2 == 0 else reverse_open(paths[p].verts)
        verts.extend(vs[:-1])
        sources.extend([paths[p]] * (len(vs) - 1))
        exit_end = entry ^ 1
        entry = next(e for e in members[cluster[exit_end]] if e != exit_end)
    return Loop(verts, sources)
