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
from engine.templates.read import Path, Vertex

EXACT = 1e-6  # ends closer than this (job units) are the same point: joined without a word


@dataclass
class Loop:
    verts: list[Vertex]
    sources: list[Path]  # the path each edge i (vertex i -> i+1) came from
    entity: Path | None = None  # a single closed entity (circle, ellipse, closed polyline)

    @property
    def handle(self) -> str:
        return self.sources[0].handle


def reverse_open(verts: list[Vertex]) -> list[Vertex]:
    reversed_points = verts[::-1]
    bulges = [-vert[2] for vert in verts[:-1]][::-1] + [0.0]
    return [(x, y, bulge) for (x, y, _), bulge in zip(reversed_points, bulges)]


def _key(path: Path, grid: float) -> tuple:
    snap = lambda vert: (round(vert[0] / grid), round(vert[1] / grid), round(vert[2], 6))  # noqa: E731
    if path.circle:
        return ("circle", *(round(value / grid) for value in path.circle))
    if path.closed:
        return ("closed", frozenset(snap(vert)[:2] for vert in path.verts), len(path.verts))
    fwd, back = tuple(map(snap, path.verts)), tuple(map(snap, reverse_open(path.verts)))
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
    segments = shapely.linestrings([[kept[i].verts[0][:2], kept[i].verts[1][:2]] for i in lines])
    tree = shapely.STRtree(segments)
    left, right = tree.query(segments, predicate="dwithin", distance=tolerance)
    drop: set[int] = set()
    for first, second in zip(left.tolist(), right.tolist()):
        if first >= second or first in drop or second in drop:
            continue
        line_a, line_b = segments[first], segments[second]
        shared = line_a.buffer(tolerance, cap_style="flat").intersection(line_b).length
        if shared <= 10 * tolerance:
            continue
        path_a, path_b = kept[lines[first]], kept[lines[second]]
        shorter, longer = (first, second) if line_a.length <= line_b.length else (second, first)
        if shared >= segments[shorter].length - 2 * tolerance:  # lies wholly on the other line
            drop.add(shorter)
            problems.append(Problem("DUPLICATE_ENTITY", kept[lines[shorter]].handle,
                                    f"{kept[lines[shorter]].handle} lies on {kept[lines[longer]].handle}; "
                                    "it was left out", "delete the shorter line in CAD"))
        else:
            problems.append(Problem("DUPLICATE_ENTITY", path_b.handle, f"{path_b.handle} overlaps {path_a.handle} by "
                                    f"{shared:.4g} units; the outline cannot be followed through them",
                                    "trim the two lines so they meet end to end"))
    return [path for i, path in enumerate(kept) if i not in {lines[dropped] for dropped in drop}]


def _clusters(points: np.ndarray, tolerance: float) -> np.ndarray:
    """Union-find over end points within `tolerance` of one another; returns a cluster id per point."""
    parent = list(range(len(points)))

    def find(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    geoms = shapely.points(points)
    left, right = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=tolerance)
    for first, second in zip(left.tolist(), right.tolist()):
        root_a, root_b = find(first), find(second)
        if root_a != root_b:
            parent[root_a] = root_b
    return np.array([find(i) for i in range(len(points))])


def chain(paths: list[Path], gap: float, unit: str, problems: list[Problem]) -> list[Loop]:
    """Closed entities as they are, open ones chained end to end; what does not close is OPEN_OUTLINE."""
    loops = [Loop(list(path.verts), [path] * len(path.verts), path) for path in paths if path.closed]
    open_paths = [path for path in paths if not path.closed]
    if not open_paths:
        return loops
    # open path k has its start at end 2k and its end at end 2k + 1
    ends = np.array([point for path in open_paths for point in (path.verts[0][:2], path.verts[-1][:2])], dtype=float)
    cluster_of = _clusters(ends, gap)
    members: dict[int, list[int]] = {}
    for end, cluster_id in enumerate(cluster_of.tolist()):
        members.setdefault(cluster_id, []).append(end)
    for end_indices in members.values():
        if len(end_indices) < 2:
            continue
        width = max(math.dist(ends[end_a], ends[end_b]) for end_a in end_indices for end_b in end_indices)
        if width > EXACT:
            handles = sorted({open_paths[end // 2].handle for end in end_indices})
            problems.append(Problem("GAP_CLOSED", handles[0], f"a gap of {width:.4g} {unit} between "
                                    f"{' and '.join(handles)} was closed (tolerance {gap:.4g} {unit})",
                                    "nothing, unless the gap is real: then redraw the corner"))
    done = [False] * len(open_paths)
    for start in range(len(open_paths)):
        if done[start]:
            continue
        # the connected component of this path, through clusters
        component, stack = [], [start]
        done[start] = True
        while stack:
            index = stack.pop()
            component.append(index)
            for end in (2 * index, 2 * index + 1):
                for other_end in members[cluster_of[end]]:
                    other_path = other_end // 2
                    if not done[other_path]:
                        done[other_path] = True
                        stack.append(other_path)
        component_ends = [end for index in component for end in (2 * index, 2 * index + 1)]
        degrees = {cluster_of[end]: len(members[cluster_of[end]]) for end in component_ends}
        if all(degree == 2 for degree in degrees.values()):
            loops.append(_walk(component, open_paths, cluster_of, members))
            continue
        handles = [open_paths[index].handle for index in component]
        loose = [ends[end] for end in component_ends if degrees[cluster_of[end]] == 1]
        branch = [cluster_id for cluster_id, degree in degrees.items() if degree > 2]
        if branch:
            where = ends[members[branch[0]][0]]
            what = f"{degrees[branch[0]]} ends meet at ({where[0]:.4g}, {where[1]:.4g})"
            fix = "delete the extra line so each corner joins exactly two entities"
        else:
            gap_at = min((math.dist(end, other) for i, end in enumerate(loose) for other in loose[i + 1:]), default=0.0)
            what = f"its nearest loose ends are {gap_at:.4g} {unit} apart, more than the {gap:.4g} {unit} tolerance"
            fix = (f"close the outline in CAD, or import again with gap_tolerance_mm above the gap "
                   f"({gap_at:.4g} {unit})")
        problems.append(Problem("OPEN_OUTLINE", handles[0], f"the outline through {', '.join(handles[:8])}"
                                f"{' ...' if len(handles) > 8 else ''} does not close: {what}; it was left out", fix))
    return loops


def _walk(component: list[int], paths: list[Path], cluster_of: np.ndarray, members: dict[int, list[int]]) -> Loop:
    """The loop through a component whose every cluster joins two ends, in the first path's direction."""
    verts: list[Vertex] = []
    sources: list[Path] = []
    entry = 2 * component[0]  # enter the first path at its start
    for _ in range(len(component)):
        path_index = entry // 2
        path_verts = paths[path_index].verts if entry % 2 == 0 else reverse_open(paths[path_index].verts)
        verts.extend(path_verts[:-1])
        sources.extend([paths[path_index]] * (len(path_verts) - 1))
        exit_end = entry ^ 1
        entry = next(end for end in members[cluster_of[exit_end]] if end != exit_end)
    return Loop(verts, sources)
