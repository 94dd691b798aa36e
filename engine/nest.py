"""Slab nesting: which piece copy goes where on which slab.

Two layouts:
- guillotine (bridge saw): every part comes off the slab by straight through-cuts, so blanks (each piece's
  axis-aligned bbox) are packed with a guillotine free-rectangle packer (Jylanki's GuillotineBinPack). Some
  passes also merge free rectangles that share a whole edge, which can break the cut order: their layouts are
  checked for guillotine cuts and a pass that fails the check is dropped;
- free (waterjet, cnc): MaxRects on the bboxes, non-guillotine, the kerf kept as spacing between them (the
  guillotine passes' layouts compete too: a saw's layout is also a waterjet's); when
  some piece is shaped (L, U, arcs), also bottom-left fill of the true outlines (engine.nest_outline), and the
  better of the two layouts is kept.

Kerf is handled by inflation: every part grows by `kerf` along x and y and so does the usable area, so any
two parts packed without overlap end at least one kerf apart and the last one ends inside the margin.

Search: deterministic constructive passes (sort orders x fit rules x split rules x slab selection: first fit,
best fit, or slab by slab), then a seeded local search on the packing order that moves the emptiest slab's
parts forward, with one try at emptying the least filled slab into the others (part by part, into a free
rectangle or by repacking the receiving slab). It stops at the lower bound, after a work cap (so the result
does not depend on machine speed) or at `time_limit_s`, whichever is first.
"""

from __future__ import annotations

import copy
import math
import random
import time
from collections.abc import Callable, Sequence

import msgspec

from engine.model import EngineError, Placement, Remnant, SlabLayout, Slabs
from engine.nest_outline import is_shaped, nest_outlines

REMNANT_MIN_MM = 200.0  # an offcut smaller than this on either side is scrap to a fabricator
MAX_REMNANTS = 4
_EPS = 1e-6  # float slack for "fits": sizes in mm with decimals must not fail by rounding

__all__ = ["NestError", "Part", "Sheet", "nest", "lower_bound"]


class Part(msgspec.Struct, frozen=True):
    """One copy of a piece to place, by its bbox (outline translated so the bbox min is (0, 0))."""

    key: str  # unique, e.g. "A#1"
    piece: str  # piece id
    copy: int  # 1..qty
    length: float  # bbox along x, mm
    width: float  # bbox along y, mm
    can_rotate: bool  # False when the stone's vein/grain direction must be kept
    outline: list[tuple[float, float]] | None = None  # true outline in the same frame


class Sheet(msgspec.Struct, frozen=True):
    """A slab in stock: `qty` None means unlimited; `kind` "full" or "remnant"."""

    id: str
    length: float
    width: float
    qty: int | None
    kind: str


class NestError(EngineError):
    """The parts cannot be nested on the stock (a part fits no slab, or stock runs out)."""


# ---- geometry helpers --------------------------------------------------------------------------


def part_area(part: Part) -> float:
    """True outline area (shoelace) when the outline is given, else the bbox area, in mm²."""
    pts = part.outline
    if not pts or len(pts) < 3:
        return part.length * part.width
    s = 0.0
    for (x1, y1), (x2, y2) in zip(pts, pts[1:] + pts[:1]):
        s += x1 * y2 - x2 * y1
    return abs(s) / 2.0


def _usable(sheet: Sheet, margin: float) -> tuple[float, float]:
    return sheet.length - 2 * margin, sheet.width - 2 * margin


def lower_bound(parts: Sequence[Part], sheets: Sequence[Sheet], margin: float) -> int:
    """ceil(total part area / usable area of the largest sheet): true outline areas, usable = (L-2m)(W-2m)."""
    if not parts:
        return 0
    usable = max((max(0.0, u[0]) * max(0.0, u[1]) for u in (_usable(s, margin) for s in sheets)), default=0.0)
    if usable <= 0:
        return len(parts)
    return max(1, math.ceil(sum(part_area(p) for p in parts) / usable - 1e-9))


# ---- bins --------------------------------------------------------------------------------------

# Fit rules: how a free rectangle is scored for an item (lower is better). BSSF1 is BSSF without its tie-break
# on the long side (ties go to the first free rectangle), as rectpack scores it: different ties, other layouts.
BAF, BSSF, BLSF, BL, BSSF1 = 0, 1, 2, 3, 4
# Guillotine split rules (Jylanki): which of the two cuts to make after placing an item in a free rectangle.
SAS, LAS, SLAS, LLAS, MINAS, MAXAS = 0, 1, 2, 3, 4, 5
# Added to a split rule: merge free rectangles that share a whole edge (as rectpack does). More room, but the
# layout may stop being a guillotine pattern, so a pass using it is checked at the end and dropped if it is not.
MERGE = 8


_NO_FIT = (math.inf, math.inf, -1, False)


class _Bin:
    """One open slab: its stock index, inflated usable size, free rectangles and placed items."""

    __slots__ = ("sheet", "w", "h", "free", "items", "area", "mw", "mh")

    def __init__(self, sheet: int, w: float, h: float) -> None:
        self.sheet = sheet
        self.w = w
        self.h = h
        self.free: list[tuple[float, float, float, float]] = [(0.0, 0.0, w, h)]
        self.items: list[tuple[int, float, float, bool]] = []  # (item index, x, y, rotated)
        self.area = 0.0  # inflated area used, for the fill ratio
        self.mw = w
        self.mh = h

    def find(self, w: float, h: float, rot: bool, rule: int) -> tuple[float, float, int, bool]:
        """Best free rectangle for a w x h item: (score, tie-break score, index, rotated); index -1 if none."""
        mw, mh = self.mw + _EPS, self.mh + _EPS
        upright = w <= mw and h <= mh
        turn = rot and w != h and h <= mw and w <= mh
        if not (upright or turn):  # cheap reject: most slabs are full long before the last items come
            return _NO_FIT
        # The hot path of the whole search: one loop per rule, the item's two orientations as two entries.
        sizes = ((w, h, False), (h, w, True)) if upright and turn else ((w, h, False),) if upright else ((h, w, True),)
        b1 = b2 = math.inf
        bi, br = -1, False
        free = self.free
        for iw, ih, r in sizes:
            wl, hl = iw - _EPS, ih - _EPS
            if rule == BSSF:
                for i, (fx, fy, fw, fh) in enumerate(free):
                    if fw >= wl and fh >= hl:
                        dw, dh = fw - iw, fh - ih
                        s1, s2 = (dw, dh) if dw < dh else (dh, dw)
                        if s1 < b1 or (s1 == b1 and s2 < b2):
                            b1, b2, bi, br = s1, s2, i, r
            elif rule == BAF:
                a = w * h
                for i, (fx, fy, fw, fh) in enumerate(free):
                    if fw >= wl and fh >= hl:
                        dw, dh = fw - iw, fh - ih
                        s1, s2 = fw * fh - a, (dw if dw < dh else dh)
                        if s1 < b1 or (s1 == b1 and s2 < b2):
                            b1, b2, bi, br = s1, s2, i, r
            elif rule == BSSF1:
                for i, (fx, fy, fw, fh) in enumerate(free):
                    if fw >= wl and fh >= hl:
                        dw, dh = fw - iw, fh - ih
                        s1 = dw if dw < dh else dh
                        if s1 < b1:
                            b1, b2, bi, br = s1, 0.0, i, r
            elif rule == BLSF:
                for i, (fx, fy, fw, fh) in enumerate(free):
                    if fw >= wl and fh >= hl:
                        dw, dh = fw - iw, fh - ih
                        s1, s2 = (dh, dw) if dw < dh else (dw, dh)
                        if s1 < b1 or (s1 == b1 and s2 < b2):
                            b1, b2, bi, br = s1, s2, i, r
            else:
                for i, (fx, fy, fw, fh) in enumerate(free):
                    if fw >= wl and fh >= hl:
                        s1, s2 = fy + ih, fx
                        if s1 < b1 or (s1 == b1 and s2 < b2):
                            b1, b2, bi, br = s1, s2, i, r
        return b1, b2, bi, br

    def _bounds(self) -> None:
        # The widest and the tallest free rectangle: no item larger than these fits anywhere in this bin.
        self.mw = max((f[2] for f in self.free), default=0.0)
        self.mh = max((f[3] for f in self.free), default=0.0)


class _GuillotineBin(_Bin):
    __slots__ = ()

    def place(self, i: int, w: float, h: float, split: int) -> tuple[float, float]:
        """Put a w x h item at the corner of free rectangle i and cut the rest in two; returns (x, y)."""
        fx, fy, fw, fh = self.free[i]
        dw, dh = fw - w, fh - h
        merge = split >= MERGE
        if merge:
            split -= MERGE
        if split == SAS:
            horizontal = fw <= fh
        elif split == LAS:
            horizontal = fw > fh
        elif split == SLAS:
            horizontal = dw <= dh
        elif split == LLAS:
            horizontal = dw > dh
        elif split == MINAS:
            horizontal = w * dh > dw * h
        else:
            horizontal = w * dh <= dw * h
        # Swap-remove keeps this O(1); the order of free rectangles only affects ties.
        self.free[i] = self.free[-1]
        self.free.pop()
        if horizontal:
            right = (fx + w, fy, dw, h)
            top = (fx, fy + h, fw, dh)
        else:
            right = (fx + w, fy, dw, fh)
            top = (fx, fy + h, w, dh)
        for r in (top, right):
            if r[2] > _EPS and r[3] > _EPS:
                if merge:
                    r = self._merge(r)
                self.free.append(r)
        self.area += w * h
        self._bounds()
        return fx, fy


    def _merge(self, r: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        """Join r with free rectangles sharing a whole edge with it, until none does; returns the union."""
        joined = True
        while joined:
            joined = False
            rx, ry, rw, rh = r
            for k, (fx, fy, fw, fh) in enumerate(self.free):
                if abs(fx - rx) <= _EPS and abs(fw - rw) <= _EPS and (abs(fy + fh - ry) <= _EPS
                                                                       or abs(ry + rh - fy) <= _EPS):
                    r = (rx, min(ry, fy), rw, rh + fh)
                elif abs(fy - ry) <= _EPS and abs(fh - rh) <= _EPS and (abs(fx + fw - rx) <= _EPS
                                                                         or abs(rx + rw - fx) <= _EPS):
                    r = (min(rx, fx), ry, rw + fw, rh)
                else:
                    continue
                self.free[k] = self.free[-1]
                self.free.pop()
                joined = True
                break
        return r


def _guillotine_ok(rects: list[tuple[float, float, float, float]]) -> bool:
    """True when the (x, y, w, h) rectangles can be separated by recursive edge-to-edge cuts."""
    if len(rects) <= 1:
        return True
    for axis in (0, 1):
        for c in sorted({r[axis] + r[axis + 2] for r in rects}):
            low = [r for r in rects if r[axis] + r[axis + 2] <= c + _EPS]
            if len(low) == len(rects):
                break
            high = [r for r in rects if r[axis] >= c - _EPS]
            if len(low) + len(high) == len(rects):
                return _guillotine_ok(low) and _guillotine_ok(high)
    return False


class _MaxRectsBin(_Bin):
    __slots__ = ()

    def place(self, i: int, w: float, h: float, split: int) -> tuple[float, float]:
        """Put a w x h item at the corner of free rectangle i and keep every maximal free rectangle."""
        x, y = self.free[i][0], self.free[i][1]
        x2, y2 = x + w, y + h
        out: list[tuple[float, float, float, float]] = []
        for f in self.free:
            fx, fy, fw, fh = f
            fx2, fy2 = fx + fw, fy + fh
            if x >= fx2 - _EPS or x2 <= fx + _EPS or y >= fy2 - _EPS or y2 <= fy + _EPS:
                out.append(f)
                continue
            if x > fx + _EPS:
                out.append((fx, fy, x - fx, fh))
            if x2 < fx2 - _EPS:
                out.append((x2, fy, fx2 - x2, fh))
            if y > fy + _EPS:
                out.append((fx, fy, fw, y - fy))
            if y2 < fy2 - _EPS:
                out.append((fx, y2, fw, fy2 - y2))
        # Drop rectangles contained in another: largest first, so each is checked against few keepers.
        out.sort(key=lambda r: -r[2] * r[3])
        kept: list[tuple[float, float, float, float]] = []
        for r in out:
            rx, ry, rw, rh = r
            for k in kept:
                if rx >= k[0] - _EPS and ry >= k[1] - _EPS and rx + rw <= k[0] + k[2] + _EPS \
                        and ry + rh <= k[1] + k[3] + _EPS:
                    break
            else:
                kept.append(r)
        self.free = kept
        self.area += w * h
        self._bounds()
        return x, y


# ---- one packing pass --------------------------------------------------------------------------


class _Problem:
    """Inflated items and stock, shared by every pass."""

    def __init__(self, parts: Sequence[Part], sheets: Sequence[Sheet], kerf: float, margin: float,
                 guillotine: bool, prefer_remnants: bool) -> None:
        self.parts = list(parts)
        self.kerf = kerf
        self.margin = margin
        self.guillotine = guillotine
        self.items = [(p.length + kerf, p.width + kerf, p.can_rotate) for p in parts]
        self.areas = [part_area(p) for p in parts]
        order = sorted(range(len(sheets)),
                       key=lambda s: (0 if prefer_remnants and sheets[s].kind == "remnant" else 1, s))
        self.sheets = [sheets[s] for s in order]  # preference order: the first that fits is opened
        self.bin_sizes = [(s.length - 2 * margin + kerf, s.width - 2 * margin + kerf) for s in self.sheets]
        # Remnants are offcuts already paid for: using one costs a fraction of a full slab.
        self.sheet_cost = [s.length * s.width * (0.01 if prefer_remnants and s.kind == "remnant" else 1.0)
                           for s in self.sheets]

    def fits(self, item: int, sheet: int) -> bool:
        w, h, rot = self.items[item]
        bw, bh = self.bin_sizes[sheet]
        return (w <= bw + _EPS and h <= bh + _EPS) or (rot and h <= bw + _EPS and w <= bh + _EPS)


class _Solution:
    __slots__ = ("bins", "cost", "order")

    def __init__(self, bins: list[_Bin], problem: _Problem, order: list[int]) -> None:
        self.bins = bins
        self.order = order
        fill = [b.area / (problem.bin_sizes[b.sheet][0] * problem.bin_sizes[b.sheet][1]) for b in bins]
        # Fewest (cheapest) slabs first; then the most uneven fill, so the emptiest slab is nearest to vanishing.
        self.cost = (round(sum(problem.sheet_cost[b.sheet] for b in bins), 6), len(bins),
                     -round(sum(f * f for f in fill), 9))


def _open_bin(problem: _Problem, item: int, used: list[int]) -> _Bin | None:
    for s, sheet in enumerate(problem.sheets):
        if sheet.qty is not None and used[s] >= sheet.qty:
            continue
        if problem.fits(item, s):
            used[s] += 1
            w, h = problem.bin_sizes[s]
            return _GuillotineBin(s, w, h) if problem.guillotine else _MaxRectsBin(s, w, h)
    return None


def _pack_sequence(problem: _Problem, order: list[int], rule: int, split: int, best_bin: bool) -> _Solution | None:
    """Items in `order`, each into the first open bin where it fits (or the best-scoring bin), else a new bin."""
    bins: list[_Bin] = []
    live: list[_Bin] = []  # bins that may still take one of the remaining items
    used = [0] * len(problem.sheets)
    items = problem.items
    # Smallest width and height still to come (either side when the item may turn): bins narrower are closed.
    n = len(order)
    tail_w = [math.inf] * (n + 1)
    tail_h = [math.inf] * (n + 1)
    for k in range(n - 1, -1, -1):
        w, h, rot = items[order[k]]
        lo = min(w, h) if rot else 0.0
        tail_w[k] = min(tail_w[k + 1], lo if rot else w)
        tail_h[k] = min(tail_h[k + 1], lo if rot else h)
    for k, it in enumerate(order):
        w, h, rot = items[it]
        target: _Bin | None = None
        b1 = b2 = math.inf
        bi, br = -1, False
        for b in live:
            if (w > b.mw + _EPS or h > b.mh + _EPS) and (not rot or h > b.mw + _EPS or w > b.mh + _EPS):
                continue
            c1, c2, ci, cr = b.find(w, h, rot, rule)
            if ci < 0:
                continue
            if not best_bin:
                target, bi, br = b, ci, cr
                break
            if c1 < b1 or (c1 == b1 and c2 < b2):
                target, b1, b2, bi, br = b, c1, c2, ci, cr
        if target is None:
            target = _open_bin(problem, it, used)
            if target is None:
                return None
            bins.append(target)
            live.append(target)
            _, _, bi, br = target.find(w, h, rot, rule)
            if bi < 0:  # fits() said it does; only float noise could get here
                return None
        x, y = target.place(bi, h if br else w, w if br else h, split)
        target.items.append((it, x, y, br))
        if target.mw + _EPS < tail_w[k + 1] or target.mh + _EPS < tail_h[k + 1]:
            live.remove(target)
    if split >= MERGE and not _all_guillotine(problem, bins):
        return None
    return _Solution(bins, problem, order)


def _pack_global(problem: _Problem, order: list[int], rule: int, split: int) -> _Solution | None:
    """Slab by slab: fill the open slab with whichever remaining item scores best, then open the next one."""
    remaining = list(order)
    bins: list[_Bin] = []
    used = [0] * len(problem.sheets)
    items = problem.items
    while remaining:
        b = _open_bin(problem, remaining[0], used)
        if b is None:
            return None
        bins.append(b)
        # Items that fit this slab; without merging its free rectangles only shrink, so a misfit stays one.
        cands = list(remaining)
        shrink = split < MERGE
        while cands:
            best = (math.inf, math.inf, -1, False)
            pick = -1
            keep = []
            for it in cands:
                w, h, rot = items[it]
                if (w > b.mw + _EPS or h > b.mh + _EPS) and (not rot or h > b.mw + _EPS or w > b.mh + _EPS):
                    if not shrink:
                        keep.append(it)
                    continue
                cand = b.find(w, h, rot, rule)
                if cand[2] < 0:
                    if not shrink:
                        keep.append(it)
                    continue
                keep.append(it)
                if cand[0] < best[0] or (cand[0] == best[0] and cand[1] < best[1]):
                    best, pick = cand, it
            if pick < 0:
                break
            cands = keep
            cands.remove(pick)
            remaining.remove(pick)
            it = pick
            w, h, _ = items[it]
            r = best[3]
            x, y = b.place(best[2], h if r else w, w if r else h, split)
            b.items.append((it, x, y, r))
    if split >= MERGE and not _all_guillotine(problem, bins):
        return None
    return _Solution(bins, problem, order)


def _all_guillotine(problem: _Problem, bins: list[_Bin]) -> bool:
    """Every bin's items can be cut out by guillotine cuts (only needed after merging free rectangles)."""
    if not problem.guillotine:
        return True
    items = problem.items
    for b in bins:
        rects = [(x, y, items[it][1], items[it][0]) if r else (x, y, items[it][0], items[it][1])
                 for it, x, y, r in b.items]
        if not _guillotine_ok(rects):
            return False
    return True


# ---- search ------------------------------------------------------------------------------------

_SORT_KEYS: dict[str, Callable[[tuple[float, float, bool]], tuple[float, ...]]] = {
    "area": lambda t: (-t[0] * t[1], -max(t[0], t[1])),
    "perimeter": lambda t: (-(t[0] + t[1]), -max(t[0], t[1])),
    "max_side": lambda t: (-max(t[0], t[1]), -min(t[0], t[1])),
    "min_side": lambda t: (-min(t[0], t[1]), -max(t[0], t[1])),
    "height": lambda t: (-t[1], -t[0]),
    "width": lambda t: (-t[0], -t[1]),
    "diff": lambda t: (-abs(t[0] - t[1]), -t[0] * t[1]),
    "ratio": lambda t: (-t[0] / t[1], -t[0] * t[1]),
}
_GUILLOTINE_RULES = [(BAF, SLAS), (BSSF, SLAS), (BAF, MINAS), (BSSF, MINAS), (BLSF, SLAS), (BAF, LLAS),
                     (BSSF, SAS), (BAF, MAXAS), (BLSF, MINAS), (BSSF, LAS)]
_MAXRECTS_RULES = [(BSSF, 0), (BAF, 0), (BL, 0), (BLSF, 0)]
# Passes are capped by work (items x passes), not only by the clock, so a slow machine gets the same answer.
_WORK_CAP = 18_000
_MIN_PASSES, _MAX_PASSES = 60, 600  # few parts have few orders worth trying
_SEED_RULES = 4  # fit/split rules tried with every sort order before the local search


class _Search:
    """Keeps the best solution seen and decides when to stop."""

    def __init__(self, problem: _Problem, target_bins: int, time_limit_s: float) -> None:
        self.problem = problem
        self.target_bins = target_bins
        self.start = time.monotonic()
        self.deadline = self.start + max(0.0, time_limit_s)
        self.max_passes = min(_MAX_PASSES, max(_MIN_PASSES, _WORK_CAP // max(1, len(problem.items))))
        self.passes = 0.0
        self.best: _Solution | None = None
        self.best_config: tuple[int, int, bool] | None = None

    def done(self) -> bool:
        if self.passes >= self.max_passes or time.monotonic() >= self.deadline:
            return True
        b = self.best
        # Nothing beats the bound on the most preferred sheet: every further pass would be wasted.
        return b is not None and len(b.bins) <= self.target_bins and all(x.sheet == 0 for x in b.bins)

    def offer(self, sol: _Solution | None, config: tuple[int, int, bool]) -> bool:
        self.passes += 1
        if sol is None:
            return False
        if self.best is None or sol.cost < self.best.cost:
            self.best, self.best_config = sol, config
            return True
        return False


# Constructive passes, each with every sort order: (fit rule, split rule, bin selection); the strongest first.
FIRST_FIT, BEST_FIT, GLOBAL = 0, 1, 2
# Slab-by-slab (global) passes barely depend on the order, so they get two orders; the others get all of them.
_GUILLOTINE_SEEDS = [(BAF, SLAS, GLOBAL), (BSSF, SAS + MERGE, BEST_FIT), (BAF, SLAS, BEST_FIT),
                     (BAF, LLAS + MERGE, BEST_FIT), (BSSF, SLAS, GLOBAL), (BAF, SLAS + MERGE, BEST_FIT),
                     (BSSF, SLAS, BEST_FIT), (BSSF, MAXAS, GLOBAL), (BAF, LLAS, GLOBAL), (BAF, MINAS, BEST_FIT),
                     (BSSF, MAXAS + MERGE, BEST_FIT), (BSSF, MINAS, BEST_FIT), (BSSF, SAS + MERGE, FIRST_FIT),
                     (BAF, SLAS + MERGE, GLOBAL), (BSSF1, MAXAS, GLOBAL), (BSSF1, SLAS, BEST_FIT),
                     (BSSF1, SLAS, GLOBAL)]
_MAXRECTS_SEEDS = [(BSSF, 0, GLOBAL), (BSSF, 0, BEST_FIT), (BAF, 0, BEST_FIT), (BAF, 0, GLOBAL),
                   (BL, 0, BEST_FIT), (BLSF, 0, BEST_FIT), (BSSF, 0, FIRST_FIT)]
_ELIMINATE_SHARE = 0.4  # of the pass budget kept for emptying the last slab into the others


def _pack(problem: _Problem, order: list[int], config: tuple[int, int, int]) -> _Solution | None:
    rule, split, mode = config
    if mode == GLOBAL:
        return _pack_global(problem, order, rule, split)
    return _pack_sequence(problem, order, rule, split, mode == BEST_FIT)


def _search(problem: _Problem, target_bins: int, time_limit_s: float, seed: int) -> _Solution | None:
    s = _Search(problem, target_bins, time_limit_s)
    n = len(problem.items)
    seeds = _GUILLOTINE_SEEDS if problem.guillotine else _MAXRECTS_SEEDS
    rules = _GUILLOTINE_RULES if problem.guillotine else _MAXRECTS_RULES
    if problem.guillotine:
        rules = rules + [(r, sp + MERGE) for r, sp in rules[:4]] + [(BSSF, SAS + MERGE)]
    orders = {name: sorted(range(n), key=lambda i, k=key: (k(problem.items[i]), i)) for name, key in _SORT_KEYS.items()}
    # 1. constructive passes: every rule with the first order, then the other orders. A time-limited search
    # keeps a share of its time for step 2.
    eliminate_time = s.deadline - (s.deadline - s.start) * _ELIMINATE_SHARE
    seq_best: _Solution | None = None
    cfg = (rules[0][0], rules[0][1], BEST_FIT)
    # The parts as given, too: slab-by-slab passes only use the order to break ties (as rectpack's Global does).
    orders["given"] = list(range(n))
    names = list(orders)
    schedule = [(c, names[0]) for c in seeds] + [(c, name) for name in names[1:] for c in seeds
                                                 if (c[2] != GLOBAL and name != "given") or name in (names[1], "given")]
    for config, name in schedule:
        if s.done():
            return s.best
        if seq_best is not None and time.monotonic() >= eliminate_time:
            break
        sol = _pack(problem, orders[name], config)
        s.offer(sol, config)
        if sol is not None and config[2] != GLOBAL and (seq_best is None or sol.cost < seq_best.cost):
            seq_best, cfg = sol, config
    if not problem.guillotine:
        # A guillotine layout is a free layout too, and on some instances the guillotine passes find one with
        # fewer slabs (cl07_060_06 with rotation: 13 against MaxRects' 14): their seeds on the first two orders.
        # They come on top of the work cap (which is the MaxRects search's), not out of it.
        twin = copy.copy(problem)
        twin.guillotine = True
        work = s.passes
        for config in _GUILLOTINE_SEEDS:
            for name in names[:2]:
                if s.done():
                    return s.best
                s.offer(_pack(twin, orders[name], config), config)
        s.passes = work
    if seq_best is None:
        return s.best
    # 2. local search on the order: move the emptiest slab's parts forward, so earlier slabs take them;
    # part of the budget goes to emptying the last slab of the best solution into the others.
    rng = random.Random(seed)
    current = seq_best
    # Emptying the last slab right away often saves a slab the order search would need many passes for;
    # it runs again later from the best found by then, if that is a different solution.
    if s.best is not None and not s.done():
        sol = _eliminate(problem, s.best, s, rules)
        if sol is not s.best and s.offer(sol, cfg):
            current = sol
    tried = s.best
    eliminate_at = s.passes + (s.max_passes - s.passes) * (1 - _ELIMINATE_SHARE)
    eliminated = False
    while not s.done():
        if not eliminated and (s.passes >= eliminate_at or time.monotonic() >= eliminate_time):
            eliminated = True
            if s.best is not None and s.best is not tried:
                sol = _eliminate(problem, s.best, s, rules)
                if sol is not s.best and s.offer(sol, cfg):
                    current = sol
                continue
        order = _perturb(current, rng)
        if rng.random() < 0.8:
            rule, split, mode = cfg
        else:
            (rule, split), mode = rules[rng.randrange(len(rules))], int(rng.random() < 0.5)
        sol = _pack_sequence(problem, order, rule, split, mode == BEST_FIT)
        s.offer(sol, (rule, split, mode))
        if sol is not None and sol.cost <= current.cost:
            current = sol
            cfg = (rule, split, mode)
    return s.best


def _clone(b: _Bin) -> _Bin:
    c = type(b)(b.sheet, b.w, b.h)
    c.free = list(b.free)
    c.items = list(b.items)
    c.area, c.mw, c.mh = b.area, b.mw, b.mh
    return c


def _pack_one(problem: _Problem, sheet: int, its: list[int], rule: int, split: int) -> _Bin | None:
    """All of `its`, in this order, on one slab of stock `sheet`; None if they do not fit."""
    w, h = problem.bin_sizes[sheet]
    b: _Bin = _GuillotineBin(sheet, w, h) if problem.guillotine else _MaxRectsBin(sheet, w, h)
    for it in its:
        iw, ih, rot = problem.items[it]
        _, _, bi, br = b.find(iw, ih, rot, rule)
        if bi < 0:
            return None
        x, y = b.place(bi, ih if br else iw, iw if br else ih, split)
        b.items.append((it, x, y, br))
    if split >= MERGE and not _all_guillotine(problem, [b]):
        return None
    return b


_REPACK_KEYS = ("area", "max_side", "perimeter", "min_side", "height", "width")


def _add_to_bin(problem: _Problem, b: _Bin, it: int, rules: list[tuple[int, int]], s: _Search) -> _Bin | None:
    """Bin b with item `it` added: into a free rectangle as it is, else by repacking b's items with it."""
    iw, ih, rot = problem.items[it]
    if (iw > b.mw + _EPS or ih > b.mh + _EPS) and (not rot or ih > b.mw + _EPS or iw > b.mh + _EPS):
        # No free rectangle takes it; repacking can only help if the area left is enough.
        pass
    else:
        for rule, split in rules[:2]:
            _, _, bi, br = b.find(iw, ih, rot, rule)
            if bi >= 0:
                c = _clone(b)
                x, y = c.place(bi, ih if br else iw, iw if br else ih, split)
                c.items.append((it, x, y, br))
                if _all_guillotine(problem, [c]):
                    return c
    bw, bh = problem.bin_sizes[b.sheet]
    if b.area + iw * ih > bw * bh + _EPS:
        return None
    its = [t[0] for t in b.items] + [it]
    n = len(problem.items)
    for name in _REPACK_KEYS:
        key = _SORT_KEYS[name]
        order = sorted(its, key=lambda i: (key(problem.items[i]), i))
        for rule, split in rules[:3]:
            if s.done():
                return None
            s.passes += len(its) / n
            c = _pack_one(problem, b.sheet, order, rule, split)
            if c is not None:
                return c
    return None


def _eliminate(problem: _Problem, sol: _Solution, s: _Search, rules: list[tuple[int, int]]) -> _Solution:
    """Empty the least filled slab into the others, part by part (largest first), repeatedly; the best result."""
    best = sol
    bins = list(sol.bins)
    while len(bins) > 1 and not s.done():
        fill = [b.area / (b.w * b.h) for b in bins]
        weakest = min(range(len(bins)), key=lambda k: (fill[k], -k))
        others = [b for k, b in enumerate(bins) if k != weakest]
        todo = sorted((t[0] for t in bins[weakest].items),
                      key=lambda i: (-problem.items[i][0] * problem.items[i][1], i))
        for it in todo:
            # Emptiest slabs first: they have the most room to take the part.
            for k in sorted(range(len(others)), key=lambda k: (others[k].area / (others[k].w * others[k].h), k)):
                c = _add_to_bin(problem, others[k], it, rules, s)
                if c is not None:
                    others[k] = c
                    break
            else:
                return best
        bins = others
        best = _Solution(bins, problem, [t[0] for b in bins for t in b.items])
    return best


def _perturb(sol: _Solution, rng: random.Random) -> list[int]:
    """A neighbour order: parts of a weakly filled slab moved ahead, or two parts swapped."""
    order = list(sol.order)
    n = len(order)
    move = rng.random()
    if move < 0.5 and len(sol.bins) > 1:
        # The last slabs are the emptiest; pull one of their parts to a random earlier position.
        weakest = min(sol.bins, key=lambda x: x.area / (x.w * x.h))
        b = weakest if rng.random() < 0.7 else sol.bins[rng.randrange(len(sol.bins))]
        for _ in range(1 + (rng.random() < 0.3)):
            it = b.items[rng.randrange(len(b.items))][0]
            pos = order.index(it)
            order.pop(pos)
            order.insert(rng.randrange(max(1, pos)), it)
    elif n > 1:
        for _ in range(1 + int(rng.random() * 2)):
            i, j = rng.randrange(n), rng.randrange(n)
            order[i], order[j] = order[j], order[i]
    return order


# ---- entry point -------------------------------------------------------------------------------


def _check_fits(problem: _Problem, margin: float) -> None:
    for i, part in enumerate(problem.parts):
        if any(problem.fits(i, s) for s in range(len(problem.sheets))):
            continue
        sizes = ", ".join(f"{sh.id} {sh.length:g} x {sh.width:g} mm" for sh in problem.sheets)
        turn = "" if part.can_rotate else " (the grain direction forbids turning it)"
        raise NestError(
            f"Piece {part.piece} (copy {part.copy}, {part.length:g} x {part.width:g} mm) fits no slab in stock"
            f"{turn}: slabs {sizes}, less a {margin:g} mm margin on every side. Add a seam to split it."
        )


def _remnants(b: _Bin, kerf: float, margin: float) -> list[Remnant]:
    """The largest disjoint offcuts of at least REMNANT_MIN_MM on both sides, in slab coordinates."""
    # A free rectangle of the inflated bin is one kerf too long where it meets a part or the margin.
    cands = sorted(((fx, fy, fw - kerf, fh - kerf) for fx, fy, fw, fh in b.free
                    if fw - kerf >= REMNANT_MIN_MM - _EPS and fh - kerf >= REMNANT_MIN_MM - _EPS),
                   key=lambda r: (-r[2] * r[3], r[1], r[0]))
    chosen: list[tuple[float, float, float, float]] = []
    for r in cands:
        # MaxRects free rectangles overlap; keep a remnant only if it is separate from those kept.
        if all(r[0] >= c[0] + c[2] or c[0] >= r[0] + r[2] or r[1] >= c[1] + c[3] or c[1] >= r[1] + r[3]
               for c in chosen):
            chosen.append(r)
        if len(chosen) == MAX_REMNANTS:
            break
    return [Remnant(x_mm=float(margin + x), y_mm=float(margin + y), length_mm=float(w), width_mm=float(h))
            for x, y, w, h in chosen]


def _layout(problem: _Problem, index: int, sheet: int, items: list[tuple[int, float, float, float]],
            remnants: list[Remnant]) -> SlabLayout:
    """A slab of the result: items are (part, tx, ty, rotation) with slab point = rotate(part point) + t + margin."""
    sh = problem.sheets[sheet]
    m = problem.margin
    placements = [Placement(piece=problem.parts[it].piece, copy=problem.parts[it].copy, x_mm=m + tx, y_mm=m + ty,
                            rotation_deg=float(rot)) for it, tx, ty, rot in sorted(items, key=lambda t: (t[2], t[1]))]
    area = sum(problem.areas[it] for it, *_ in items)
    slab_area = sh.length * sh.width
    return SlabLayout(slab_id=sh.id, index=index, length_mm=sh.length, width_mm=sh.width,
                      kind="remnant" if sh.kind == "remnant" else "full", placements=placements,
                      used_area_m2=round(area / 1e6, 4), yield_pct=round(100.0 * area / slab_area, 2),
                      remnants=remnants)


def _box_layouts(problem: _Problem, sol: _Solution) -> list[SlabLayout]:
    out = []
    for index, b in enumerate(sol.bins, start=1):
        # Rotating +90° maps (x, y) to (-y, x): the bbox lands on x in [-width, 0], so shift by the width.
        items = [(it, x + (problem.parts[it].width if r else 0.0), y, 90.0 if r else 0.0) for it, x, y, r in b.items]
        out.append(_layout(problem, index, b.sheet, items, _remnants(b, problem.kerf, problem.margin)))
    return out


def _outline_layouts(problem: _Problem, tolerance: float, time_limit_s: float, seed: int) -> list[SlabLayout] | None:
    """Free placement of the true outlines (engine.nest_outline), or None when stock runs out that way."""
    parts, m = problem.parts, problem.margin
    outlines = [p.outline if p.outline and len(p.outline) >= 3
                else [(0.0, 0.0), (p.length, 0.0), (p.length, p.width), (0.0, p.width)] for p in parts]
    usable = [_usable(s, m) for s in problem.sheets]
    sheets = [(u[0], u[1], s.qty, c) for u, s, c in zip(usable, problem.sheets, problem.sheet_cost)]
    result = nest_outlines(outlines, problem.areas, [p.can_rotate for p in parts], [p.piece for p in parts], sheets,
                           kerf=problem.kerf, tolerance=tolerance, time_limit_s=time_limit_s, seed=seed)
    if result is None:
        return None
    bins, cell = result
    out = []
    for index, b in enumerate(bins, start=1):
        rem = [Remnant(x_mm=float(m + x), y_mm=float(m + y), length_mm=float(w), width_mm=float(h))
               for x, y, w, h in b.remnants(cell, problem.kerf, usable[b.sheet], REMNANT_MIN_MM, MAX_REMNANTS)]
        out.append(_layout(problem, index, b.sheet, b.items, rem))
    return out


def _cost(problem: _Problem, layouts: list[SlabLayout]) -> tuple[float, int, float]:
    """Fewest (cheapest) slabs; then the largest offcut left on the last slab (bigger is better)."""
    by_id = {s.id: c for s, c in zip(problem.sheets, problem.sheet_cost)}
    last = max((r.length_mm * r.width_mm for r in layouts[-1].remnants), default=0.0) if layouts else 0.0
    return round(sum(by_id[lay.slab_id] for lay in layouts), 6), len(layouts), -last


def nest(parts: list[Part], sheets: list[Sheet], *, kerf: float, margin: float, guillotine: bool,
         prefer_remnants: bool, time_limit_s: float, seed: int, tolerance: float = 0.0) -> Slabs:
    """Place every part on slabs from `sheets`, fewest (cheapest) slabs first; raises NestError if impossible.

    Free placement (`guillotine` False) of parts with shaped outlines also nests the true outlines, grown by
    `tolerance` (how far the real edge may lie outside `outline`, e.g. arcs drawn as chords), and keeps that
    layout when it needs fewer or cheaper slabs or leaves a larger offcut than the bounding-box one.
    """
    if not parts:
        return Slabs(area_bound=0, used=0, yield_pct=0.0, layouts=[])
    if not sheets:
        raise NestError("No slabs in stock to nest the pieces on.")
    keys = [p.key for p in parts]
    if len(set(keys)) != len(keys):
        raise NestError("Part keys must be unique.")
    problem = _Problem(parts, sheets, kerf, margin, guillotine, prefer_remnants)
    _check_fits(problem, margin)
    bound = lower_bound(parts, sheets, margin)
    shaped = not guillotine and any(is_shaped(p.outline, p.length, p.width) for p in parts)
    start = time.monotonic()
    best = _search(problem, bound, time_limit_s / 2 if shaped else time_limit_s, seed)
    layouts = _box_layouts(problem, best) if best is not None else None
    if shaped:  # the outlines get what the bounding-box search left of the time
        alt = _outline_layouts(problem, tolerance, time_limit_s - (time.monotonic() - start), seed)
        if alt is not None and (layouts is None or _cost(problem, alt) < _cost(problem, layouts)):
            layouts = alt
    if layouts is None:
        stock = ", ".join(f"{s.qty} x {s.id}" for s in sheets if s.qty is not None)
        raise NestError(f"Not enough slabs in stock for all pieces ({stock}).")
    total_part = sum(problem.areas)
    total_slab = sum(lay.length_mm * lay.width_mm for lay in layouts)
    return Slabs(area_bound=bound, used=len(layouts), yield_pct=round(100.0 * total_part / total_slab, 2),
                 layouts=layouts)
