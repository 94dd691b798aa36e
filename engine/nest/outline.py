"""Free placement of true outlines (waterjet, CNC): an L-shape's inner corner and an arc's waste are usable.

Each slab's usable area is a grid of square cells. A part at one rotation is its outline grown by half the kerf
(mitred, so two grown outlines that do not overlap leave at least one kerf between the true outlines) and
rasterised conservatively: a cell is taken when the grown outline reaches into its interior. The raster is
kept as a few rectangles (rows with the same runs are merged; past MAX_RECTS the cheapest neighbours are
merged, which only adds cells), so "does it fit at every position" is a handful of vectorised look-ups in the
slab's summed-area table. Placement is bottom-left fill: each part, in order, goes to the leftmost then lowest
free position on the first open slab that takes it, at whichever allowed rotation (0/90/180/270, or 0 when the
grain must be kept) ends furthest left. Several orders are tried (largest area, longest side, then seeded
swaps), bounded by a pass cap and the time limit.

Every position is on the grid, so a layout can lose up to one cell per part against an exact placement: the
caller keeps the bounding-box (MaxRects) layout when it is as good, and this one only when it uses fewer or
cheaper slabs or leaves a larger offcut.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence

import numpy as np
import shapely
from shapely.geometry import Polygon

__all__ = ["OutlineBin", "is_shaped", "nest_outlines"]

TARGET_CELLS = 60_000  # grid cells on the largest slab: fine enough to matter, coarse enough to be fast
MIN_CELL_MM = 2.0
MAX_RECTS = 12  # rectangles per rasterised part; more rows are merged (conservatively)
MAX_PASSES = 40
SHAPED_SHARE = 0.97  # a part whose outline covers less of its bbox than this is worth nesting by outline
_EPS = 1e-7


def is_shaped(outline: Sequence[tuple[float, float]] | None, length: float, width: float) -> bool:
    """True when the outline leaves a useful part of its bounding box empty (L, U, arcs, clipped corners)."""
    if not outline or len(outline) < 3 or length <= 0 or width <= 0:
        return False
    return Polygon(outline).area < SHAPED_SHARE * length * width


class _Shape:
    """One part at one rotation: where its raster's corner is, the raster's size and its rectangles (in cells)."""

    __slots__ = ("rot", "ox", "oy", "mw", "mh", "rects")

    def __init__(self, rot: int, ox: float, oy: float, mw: int, mh: int, rects: list[tuple[int, int, int, int]]) -> None:
        self.rot = rot
        self.ox, self.oy = ox, oy  # where the mask's corner is, in the part's frame turned by `rot`, mm
        self.mw, self.mh = mw, mh
        self.rects = rects  # (row, col, rows, cols) inside the mask

    def turned(self, cell: float) -> _Shape:
        """The same raster turned by 180 degrees: still a cover of the outline turned by 180 degrees."""
        rects = [(self.mh - r - h, self.mw - c - w, h, w) for r, c, h, w in self.rects]
        return _Shape((self.rot + 180) % 360, -self.ox - self.mw * cell, -self.oy - self.mh * cell,
                      self.mw, self.mh, rects)


def _rotated(pts: list[tuple[float, float]], rot: int) -> list[tuple[float, float]]:
    """Rotate counter-clockwise by `rot` degrees (a multiple of 90) about the origin."""
    if rot == 90:
        return [(-y, x) for x, y in pts]
    if rot == 180:
        return [(-x, -y) for x, y in pts]
    if rot == 270:
        return [(y, -x) for x, y in pts]
    return list(pts)


def _runs(row: np.ndarray) -> tuple[tuple[int, int], ...]:
    padded = np.concatenate(([False], row, [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return tuple((int(a), int(b)) for a, b in zip(edges[::2], edges[1::2]))


def _union(a: tuple[tuple[int, int], ...], b: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    out: list[list[int]] = []
    for start, end in sorted(a + b):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return tuple((start, end) for start, end in out)


def _cells(runs: tuple[tuple[int, int], ...]) -> int:
    return sum(end - start for start, end in runs)


def _rects(mask: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Cover the mask's cells with at most MAX_RECTS rectangles (a superset when rows had to be merged)."""
    starts = np.flatnonzero(np.concatenate(([True], (mask[1:] != mask[:-1]).any(axis=1))))
    ends = np.append(starts[1:], mask.shape[0])
    bands: list[tuple[int, int, tuple[tuple[int, int], ...]]] = [
        (int(a), int(b - a), _runs(mask[a])) for a, b in zip(starts, ends)]  # (first row, rows, runs)
    while sum(len(b[2]) for b in bands) > MAX_RECTS and len(bands) > 1:
        best, pick = math.inf, 0
        for k in range(len(bands) - 1):
            a, b = bands[k], bands[k + 1]
            added = _cells(_union(a[2], b[2])) * (a[1] + b[1]) - _cells(a[2]) * a[1] - _cells(b[2]) * b[1]
            if added < best:
                best, pick = added, k
        a, b = bands[pick], bands[pick + 1]
        bands[pick:pick + 2] = [(a[0], a[1] + b[1], _union(a[2], b[2]))]
    return [(r0, start, rows, end - start) for r0, rows, runs in bands for start, end in runs]


def _shape(outline: list[tuple[float, float]], rot: int, grow: float, cell: float) -> _Shape:
    poly = Polygon(_rotated(outline, rot))
    if not poly.is_valid:
        poly = shapely.make_valid(poly).convex_hull
    grown = poly.buffer(grow, join_style="mitre", mitre_limit=2.0) if grow > 0 else poly
    gx0, gy0, gx1, gy1 = grown.bounds
    mw = max(1, math.ceil((gx1 - gx0) / cell - _EPS))
    mh = max(1, math.ceil((gy1 - gy0) / cell - _EPS))
    local = shapely.affinity.translate(grown, -gx0, -gy0)
    # One band per grid row (shrunk by a hair, so an outline that only touches a row takes no cell of it);
    # every piece of the outline inside a band takes the cells its x-extent spans.
    rows = np.arange(mh, dtype=float)
    bands = shapely.box(-1.0, rows * cell + _EPS, mw * cell + 1.0, (rows + 1) * cell - _EPS)
    pieces, row = shapely.get_parts(shapely.intersection(local, bands), return_index=True)
    keep = ~shapely.is_empty(pieces)
    bounds = shapely.bounds(pieces[keep])
    mask = np.zeros((mh, mw), dtype=bool)
    firsts = np.clip(np.floor(bounds[:, 0] / cell + _EPS), 0, mw - 1).astype(int)
    lasts = np.clip(np.ceil(bounds[:, 2] / cell - _EPS), 1, mw).astype(int)
    for r, a, b in zip(row[keep].tolist(), firsts.tolist(), lasts.tolist()):
        mask[r, a:max(a + 1, b)] = True
    return _Shape(rot, gx0, gy0, mw, mh, _rects(mask))


class OutlineBin:
    """One open slab: its stock index, occupancy grid and placed parts (part, tx, ty, rotation), usable mm."""

    __slots__ = ("slab", "grid", "sat", "items")

    def __init__(self, slab: int, cols: int, rows: int, blocked: np.ndarray | None = None) -> None:
        self.slab = slab
        self.grid = np.zeros((rows, cols), dtype=bool) if blocked is None else blocked.copy()
        self.sat = np.zeros((rows + 1, cols + 1), dtype=np.int32)
        if blocked is not None:
            self.sat[1:, 1:] = self.grid.cumsum(axis=0, dtype=np.int32).cumsum(axis=1, dtype=np.int32)
        self.items: list[tuple[int, float, float, int]] = []

    def best_spot(self, shape: _Shape) -> tuple[int, int] | None:
        """Leftmost, then lowest, grid position where the shape overlaps nothing; None when there is none."""
        rows, cols = self.grid.shape
        nj, ni = rows - shape.mh + 1, cols - shape.mw + 1
        if nj <= 0 or ni <= 0:
            return None
        sat = self.sat
        hits = np.zeros((nj, ni), dtype=np.int32)
        for r, c, h, w in shape.rects:  # row, column, rows, columns of one rectangle of the raster
            hits += sat[r + h:r + h + nj, c + w:c + w + ni]
            hits -= sat[r:r + nj, c + w:c + w + ni]
            hits -= sat[r + h:r + h + nj, c:c + ni]
            hits += sat[r:r + nj, c:c + ni]
        free = hits == 0
        col_free = free.any(axis=0)
        if not col_free.any():
            return None
        i = int(col_free.argmax())
        return i, int(free[:, i].argmax())

    def place(self, shape: _Shape, i: int, j: int) -> None:
        for r, c, h, w in shape.rects:
            self.grid[j + r:j + r + h, i + c:i + c + w] = True
        self.sat[1:, 1:] = self.grid.cumsum(axis=0, dtype=np.int32).cumsum(axis=1, dtype=np.int32)

    def remnants(self, cell: float, kerf: float, usable: tuple[float, float], min_side: float,
                 limit: int) -> list[tuple[float, float, float, float]]:
        """Up to `limit` disjoint empty rectangles of at least `min_side` (usable mm), one kerf clear of parts."""
        grid = self.grid.copy()
        out: list[tuple[float, float, float, float]] = []
        while len(out) < limit:
            rect = _largest_empty(grid)
            if rect is None:
                break
            c0, r0, c1, r1 = rect
            # The grid starts half a kerf before the usable area and grown outlines end half a kerf past the
            # parts, so these edges are one kerf from any part; rounded inwards to 0.1 mm.
            x0, y0 = _tenths(max(0.0, c0 * cell), math.ceil), _tenths(max(0.0, r0 * cell), math.ceil)
            x1 = _tenths(min(usable[0], c1 * cell - kerf), math.floor)
            y1 = _tenths(min(usable[1], r1 * cell - kerf), math.floor)
            grid[r0:r1, c0:c1] = True
            if x1 - x0 >= min_side and y1 - y0 >= min_side:
                out.append((x0, y0, round(x1 - x0, 1), round(y1 - y0, 1)))
            elif (c1 - c0) * (r1 - r0) * cell * cell < min_side * min_side:
                break  # the largest left has less area than the smallest remnant: so has every other
        return out


def _blocked(cols: int, rows: int, zones: Sequence[Sequence[tuple[float, float]]], cell: float,
             kerf: float) -> np.ndarray | None:
    """The grid cells a slab's defect zones take: each zone (usable-area mm) grown by half the kerf, as parts are,
    so a part's cells never meeting a zone's leaves the part one kerf clear of it; None without zones."""
    if not zones:
        return None
    grid = np.zeros((rows, cols), dtype=bool)
    for zone in zones:
        poly = Polygon([(x + kerf / 2, y + kerf / 2) for x, y in zone])
        if not poly.is_valid:
            poly = shapely.make_valid(poly).convex_hull
        grown = poly.buffer(kerf / 2, join_style="mitre", mitre_limit=2.0) if kerf > 0 else poly
        x0, y0, x1, y1 = grown.bounds
        c0, r0 = max(0, math.floor(x0 / cell)), max(0, math.floor(y0 / cell))
        c1, r1 = min(cols, math.ceil(x1 / cell)), min(rows, math.ceil(y1 / cell))
        if c0 >= c1 or r0 >= r1:
            continue  # in the margin: nothing of the usable area
        cs, rs = np.meshgrid(np.arange(c0, c1), np.arange(r0, r1))
        # A cell is taken when the zone reaches into its interior (the cells are shrunk by a hair), as for parts.
        cells = shapely.box(cs * cell + _EPS, rs * cell + _EPS, (cs + 1) * cell - _EPS, (rs + 1) * cell - _EPS)
        grid[r0:r1, c0:c1] |= shapely.intersects(cells, grown)
    return grid


def _tenths(mm: float, way: Callable[[float], int]) -> float:
    return round(way(mm * 10) / 10, 1)


def _largest_empty(grid: np.ndarray) -> tuple[int, int, int, int] | None:
    """A large all-False rectangle (col0, row0, col1, row1), or None: the largest on a grid of blocks of cells
    (the histogram method is a Python loop over every cell), then grown cell by cell to its full size."""
    rows, cols = grid.shape
    block = max(1, math.isqrt(grid.size // 1500))
    if block > 1:
        padded = np.ones((-(-rows // block) * block, -(-cols // block) * block), dtype=bool)
        padded[:rows, :cols] = grid
        coarse = padded.reshape(padded.shape[0] // block, block, padded.shape[1] // block, block).any(axis=(1, 3))
    else:
        coarse = grid
    found = _histogram_max(coarse)
    if found is None:  # no free block: what is left is slivers, far below a usable offcut
        return None
    c0, r0, c1, r1 = (v * block for v in found)
    grown = True
    while grown:
        grown = False
        if c0 > 0 and not grid[r0:r1, c0 - 1].any():
            c0, grown = c0 - 1, True
        if c1 < cols and not grid[r0:r1, c1].any():
            c1, grown = c1 + 1, True
        if r0 > 0 and not grid[r0 - 1, c0:c1].any():
            r0, grown = r0 - 1, True
        if r1 < rows and not grid[r1, c0:c1].any():
            r1, grown = r1 + 1, True
    return c0, r0, c1, r1


def _histogram_max(grid: np.ndarray) -> tuple[int, int, int, int] | None:
    """The largest all-False rectangle (col0, row0, col1, row1) by the histogram method; None if none."""
    rows, cols = grid.shape
    heights = np.zeros(cols, dtype=np.int64)
    best, found = 0, None
    for r in range(rows):
        heights = np.where(grid[r], 0, heights + 1)
        hs = heights.tolist() + [0]
        stack: list[int] = []
        for c, h in enumerate(hs):
            while stack and hs[stack[-1]] >= h:
                top = stack.pop()
                left = stack[-1] + 1 if stack else 0
                area = hs[top] * (c - left)
                if area > best:
                    best, found = area, (left, r - hs[top] + 1, c, r + 1)
            stack.append(c)
    return found


def nest_outlines(outlines: Sequence[list[tuple[float, float]]], areas: Sequence[float], can_rotate: Sequence[bool],
                  shape_keys: Sequence[str], slabs: Sequence[tuple[float, float, int | None, float]], *,
                  kerf: float, tolerance: float, time_limit_s: float, seed: int,
                  obstacles: Sequence[Sequence[Sequence[tuple[float, float]]]] = ()) -> tuple[list[OutlineBin], float] | None:
    """Bottom-left fill of true outlines; the bins and the cell size used, or None when stock runs out.

    `outlines` are in each part's own frame; `shape_keys` are equal for identical outlines (the copies of one
    piece share a raster); `tolerance` is how far the real edge may lie outside the outline (arcs drawn as
    chords); `slabs` are (usable length, usable width, qty or None, cost) in preference order. A bin's items
    are (part, tx, ty, rotation): slab point = rotate(part point) + (tx, ty), in usable-area mm. `obstacles`
    are each slab's defect zones (polygons in usable-area mm), which no part comes within a kerf of.
    """
    deadline = time.monotonic() + max(0.0, time_limit_s)
    cell = max(MIN_CELL_MM, math.sqrt(max(u[0] * u[1] for u in slabs) / TARGET_CELLS))
    cache: dict[str, list[_Shape]] = {}
    shapes: list[list[_Shape]] = []
    for k, pts in enumerate(outlines):
        key = f"{shape_keys[k]}:{can_rotate[k]}"
        if key not in cache:
            # Quarter turns are rasterised; the half turns are those rasters flipped.
            quarter = [_shape(pts, rot, kerf / 2 + tolerance, cell) for rot in ((0, 90) if can_rotate[k] else (0,))]
            opts: list[_Shape] = []
            for shape in quarter + ([raster.turned(cell) for raster in quarter] if can_rotate[k] else []):
                # A rectangle turned 180 degrees is the same raster: trying it again is wasted work.
                if not any((known.mw, known.mh, known.rects) == (shape.mw, shape.mh, shape.rects) for known in opts):
                    opts.append(shape)
            cache[key] = opts
        shapes.append(cache[key])
    # The grid starts half a kerf before the usable area and ends half a kerf after it.
    grids = [(math.floor((u[0] + kerf) / cell + _EPS), math.floor((u[1] + kerf) / cell + _EPS)) for u in slabs]
    blocked = [_blocked(*grids[k], obstacles[k] if k < len(obstacles) else (), cell, kerf) for k in range(len(slabs))]
    best: tuple[tuple[float, int, int], list[OutlineBin]] | None = None

    def fill(order: list[int], turns: list[int | None]) -> tuple[tuple[float, int, int], list[OutlineBin]] | None:
        bins: list[OutlineBin] = []
        used = [0] * len(slabs)
        for it in order:
            if best is not None and time.monotonic() >= deadline:
                return None  # out of time: the best layout so far stands
            # A pass may ask for a part's k-th rotation (when it fits), else each bin takes the best one.
            options = shapes[it] if turns[it] is None else [shapes[it][turns[it]]]
            target: OutlineBin | None = None
            spot: tuple[int, int, int, _Shape] | None = None
            for opts in ([options, shapes[it]] if turns[it] is not None else [options]):
                for open_bin in bins:
                    spot = _best(open_bin, opts)
                    if spot is not None:
                        target = open_bin
                        break
                if target is None:
                    for slab, (_, _, qty, _) in enumerate(slabs):
                        if qty is not None and used[slab] >= qty:
                            continue
                        trial = OutlineBin(slab, *grids[slab], blocked[slab])
                        spot = _best(trial, opts)
                        if spot is not None:
                            used[slab] += 1
                            target = trial
                            bins.append(trial)
                            break
                if target is not None:
                    break
            if target is None or spot is None:
                return None
            _, i, j, shape = spot
            target.place(shape, i, j)
            target.items.append((it, i * cell - kerf / 2 - shape.ox, j * cell - kerf / 2 - shape.oy, shape.rot))
        # Fewest (cheapest) slabs, then the last slab used the least far along its length (the larger offcut).
        last = bins[-1].grid.any(axis=0)
        reach = int(len(last) - last[::-1].argmax()) if last.any() else 0
        return (round(sum(slabs[done.slab][3] for done in bins), 6), len(bins), reach), bins

    n = len(outlines)
    by_area = sorted(range(n), key=lambda i: (-areas[i], i))
    by_side = sorted(range(n), key=lambda i: (-max(shapes[i][0].mw, shapes[i][0].mh), -areas[i], i))
    greedy: list[int | None] = [None] * n
    as_drawn: list[int | None] = [0] * n
    starts = [(by_area, greedy), (by_side, greedy), (by_area, as_drawn), (by_side, as_drawn)]
    best_start: tuple[list[int], list[int | None]] = starts[0]
    rng = random.Random(seed)
    for attempt in range(MAX_PASSES):
        if attempt >= len(starts) and (best is None or time.monotonic() >= deadline):
            break
        if attempt < len(starts):
            order, turns = starts[attempt]
        else:  # seeded moves from the best so far: swap two parts, or ask one part for another rotation
            order, turns = list(best_start[0]), list(best_start[1])
            for _ in range(1 + rng.randrange(2)):
                a = rng.randrange(n)
                if n > 1 and rng.random() < 0.5:
                    b = rng.randrange(n)
                    order[a], order[b] = order[b], order[a]
                else:
                    k = rng.randrange(len(shapes[a]) + 1)
                    turns[a] = k if k < len(shapes[a]) else None
        result = fill(order, turns)
        if result is not None and (best is None or result[0] < best[0]):
            best, best_start = result, (order, turns)
    return (best[1], cell) if best is not None else None


def _best(open_bin: OutlineBin, options: list[_Shape]) -> tuple[int, int, int, _Shape] | None:
    """The rotation and grid spot that ends furthest left (then lowest) in this bin, or None."""
    best: tuple[int, int, int, _Shape] | None = None
    for shape in options:
        spot = open_bin.best_spot(shape)
        if spot is None:
            continue
        i, j = spot
        reach = i + shape.mw
        if best is None or (reach, j) < (best[0], best[2]):
            best = (reach, i, j, shape)
    return best
