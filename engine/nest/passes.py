"""One packing pass: the items in a given order into bins, with one rule and one way of choosing the bin."""

from __future__ import annotations

import copy
import enum
import math
from collections.abc import Sequence

from engine.nest.bins import EPS, NO_FIT, Fit, GuillotineBin, MaxRectsBin, OpenBin, Rule, guillotine_ok
from engine.nest.stock import Part, StockSlab, part_area

__all__ = ["Choice", "Problem", "Solution", "pack", "pack_one"]


class Choice(enum.StrEnum):
    """Which open bin takes the next item."""

    FIRST_FIT = "first_fit"  # the first open bin where it fits
    BEST_FIT = "best_fit"  # the open bin whose free rectangle scores best
    GLOBAL = "global"  # slab by slab: fill one with whichever remaining item scores best, then open the next


class Problem:
    """Inflated items and stock, shared by every pass."""

    def __init__(self, parts: Sequence[Part], slabs: Sequence[StockSlab], kerf: float, margin: float,
                 guillotine: bool, prefer_remnants: bool) -> None:
        self.parts = list(parts)
        self.kerf = kerf
        self.margin = margin
        self.guillotine = guillotine
        self.items = [(p.length + kerf, p.width + kerf, p.can_rotate) for p in parts]
        self.areas = [part_area(p) for p in parts]
        order = sorted(range(len(slabs)),
                       key=lambda k: (0 if prefer_remnants and slabs[k].kind == "remnant" else 1, k))
        self.slabs = [slabs[k] for k in order]  # preference order: the first that fits is opened
        self.bin_sizes = [(s.length - 2 * margin + kerf, s.width - 2 * margin + kerf) for s in self.slabs]
        # Remnants are offcuts already paid for: using one costs a fraction of a full slab.
        self.slab_cost = [s.length * s.width * (0.01 if prefer_remnants and s.kind == "remnant" else 1.0)
                          for s in self.slabs]
        # A slab with defect zones opens as a copy of its empty bin with the zones already taken out.
        self.empty: list[OpenBin | None] = [self._empty_bin(k) if s.defects else None
                                            for k, s in enumerate(self.slabs)]

    def as_guillotine(self) -> Problem:
        """The same problem packed by the saw's rules (a saw's layout is also a waterjet's)."""
        twin = copy.copy(self)
        twin.guillotine = True
        twin.empty = [twin._empty_bin(k) if s.defects else None for k, s in enumerate(twin.slabs)]
        return twin

    def obstacles(self, slab: int) -> list[tuple[float, float, float, float]]:
        """The slab's defect zones as (x, y, w, h) in its inflated bin: each zone's bounding box, grown by one kerf
        on its far sides, so an inflated item that misses it leaves its part one kerf clear of the zone."""
        out = []
        bin_w, bin_h = self.bin_sizes[slab]
        for zone in self.slabs[slab].defects:
            xs, ys = [p[0] - self.margin for p in zone], [p[1] - self.margin for p in zone]
            x0, y0 = max(0.0, min(xs)), max(0.0, min(ys))
            x1, y1 = min(bin_w, max(xs) + self.kerf), min(bin_h, max(ys) + self.kerf)
            if x1 > x0 + EPS and y1 > y0 + EPS:  # a zone inside the margin takes nothing from the usable area
                out.append((x0, y0, x1 - x0, y1 - y0))
        return out

    def _empty_bin(self, slab: int) -> OpenBin:
        w, h = self.bin_sizes[slab]
        empty = GuillotineBin(slab, w, h) if self.guillotine else MaxRectsBin(slab, w, h)
        for rect in self.obstacles(slab):
            empty.block(*rect)
        return empty

    def fits(self, item: int, slab: int) -> bool:
        w, h, rot = self.items[item]
        empty = self.empty[slab]
        if empty is not None:
            return empty.find(w, h, rot, Fit.BSSF)[2] >= 0
        bin_w, bin_h = self.bin_sizes[slab]
        return (w <= bin_w + EPS and h <= bin_h + EPS) or (rot and h <= bin_w + EPS and w <= bin_h + EPS)

    def new_bin(self, slab: int) -> OpenBin:
        empty = self.empty[slab]
        if empty is not None:
            return empty.copy()
        w, h = self.bin_sizes[slab]
        return GuillotineBin(slab, w, h) if self.guillotine else MaxRectsBin(slab, w, h)


class Solution:
    __slots__ = ("bins", "cost", "order")

    def __init__(self, bins: list[OpenBin], problem: Problem, order: list[int]) -> None:
        self.bins = bins
        self.order = order
        fill = [b.area / (problem.bin_sizes[b.slab][0] * problem.bin_sizes[b.slab][1]) for b in bins]
        # Fewest (cheapest) slabs first; then the most uneven fill, so the emptiest slab is nearest to vanishing.
        self.cost = (round(sum(problem.slab_cost[b.slab] for b in bins), 6), len(bins),
                     -round(sum(f * f for f in fill), 9))


def _open_bin(problem: Problem, item: int, used: list[int]) -> OpenBin | None:
    for k, slab in enumerate(problem.slabs):
        if slab.qty is not None and used[k] >= slab.qty:
            continue
        if problem.fits(item, k):
            used[k] += 1
            return problem.new_bin(k)
    return None


def _put(target: OpenBin, item: int, spot: int, turned: bool, problem: Problem, rule: Rule) -> None:
    w, h, _ = problem.items[item]
    x, y = target.place(spot, h if turned else w, w if turned else h, rule)
    target.items.append((item, x, y, turned))


def _pack_sequence(problem: Problem, order: list[int], rule: Rule, best_bin: bool) -> Solution | None:
    """Items in `order`, each into the first open bin where it fits (or the best-scoring bin), else a new bin."""
    bins: list[OpenBin] = []
    live: list[OpenBin] = []  # bins that may still take one of the remaining items
    used = [0] * len(problem.slabs)
    items = problem.items
    fit = rule.fit
    # Smallest width and height still to come (either side when the item may turn): bins narrower are closed.
    n = len(order)
    tail_w = [math.inf] * (n + 1)
    tail_h = [math.inf] * (n + 1)
    for k in range(n - 1, -1, -1):
        w, h, rot = items[order[k]]
        short = min(w, h) if rot else 0.0
        tail_w[k] = min(tail_w[k + 1], short if rot else w)
        tail_h[k] = min(tail_h[k + 1], short if rot else h)
    for k, item in enumerate(order):
        w, h, rot = items[item]
        target: OpenBin | None = None
        best1 = best2 = math.inf
        spot, turned = -1, False
        for candidate in live:
            # candidate.takes(w, h, rot), inline: this loop runs for every open bin for every item.
            if (w > candidate.max_w + EPS or h > candidate.max_h + EPS) \
                    and (not rot or h > candidate.max_w + EPS or w > candidate.max_h + EPS):
                continue
            score1, score2, index, turn = candidate.find(w, h, rot, fit)
            if index < 0:
                continue
            if not best_bin:
                target, spot, turned = candidate, index, turn
                break
            if score1 < best1 or (score1 == best1 and score2 < best2):
                target, best1, best2, spot, turned = candidate, score1, score2, index, turn
        if target is None:
            target = _open_bin(problem, item, used)
            if target is None:
                return None
            bins.append(target)
            live.append(target)
            _, _, spot, turned = target.find(w, h, rot, fit)
            if spot < 0:  # fits() said it does; only float noise could get here
                return None
        _put(target, item, spot, turned, problem, rule)
        if target.max_w + EPS < tail_w[k + 1] or target.max_h + EPS < tail_h[k + 1]:
            live.remove(target)
    if rule.merge and not all_guillotine(problem, bins):
        return None
    return Solution(bins, problem, order)


def _pack_global(problem: Problem, order: list[int], rule: Rule) -> Solution | None:
    """Slab by slab: fill the open slab with whichever remaining item scores best, then open the next one."""
    remaining = list(order)
    bins: list[OpenBin] = []
    used = [0] * len(problem.slabs)
    items = problem.items
    fit = rule.fit
    while remaining:
        target = _open_bin(problem, remaining[0], used)
        if target is None:
            return None
        bins.append(target)
        # Items that fit this slab; without merging its free rectangles only shrink, so a misfit stays one.
        candidates = list(remaining)
        shrink = not rule.merge
        while candidates:
            best = NO_FIT
            pick = -1
            keep = []
            for item in candidates:
                w, h, rot = items[item]
                if (w > target.max_w + EPS or h > target.max_h + EPS) \
                        and (not rot or h > target.max_w + EPS or w > target.max_h + EPS):  # target.takes(), inline
                    if not shrink:
                        keep.append(item)
                    continue
                found = target.find(w, h, rot, fit)
                if found[2] < 0:
                    if not shrink:
                        keep.append(item)
                    continue
                keep.append(item)
                if found[0] < best[0] or (found[0] == best[0] and found[1] < best[1]):
                    best, pick = found, item
            if pick < 0:
                break
            candidates = keep
            candidates.remove(pick)
            remaining.remove(pick)
            _put(target, pick, best[2], best[3], problem, rule)
    if rule.merge and not all_guillotine(problem, bins):
        return None
    return Solution(bins, problem, order)


def all_guillotine(problem: Problem, bins: list[OpenBin]) -> bool:
    """Every bin's items can be cut out by guillotine cuts (only needed after merging free rectangles)."""
    if not problem.guillotine:
        return True
    items = problem.items
    for b in bins:
        rects = [(x, y, items[it][1], items[it][0]) if turned else (x, y, items[it][0], items[it][1])
                 for it, x, y, turned in b.items]
        if not guillotine_ok(rects):
            return False
    return True


def pack(problem: Problem, order: list[int], rule: Rule, choice: Choice) -> Solution | None:
    if choice is Choice.GLOBAL:
        return _pack_global(problem, order, rule)
    return _pack_sequence(problem, order, rule, choice is Choice.BEST_FIT)


def pack_one(problem: Problem, slab: int, order: list[int], rule: Rule) -> OpenBin | None:
    """All of `order`, in this order, on one slab of stock `slab`; None if they do not fit."""
    target = problem.new_bin(slab)
    for item in order:
        w, h, rot = problem.items[item]
        _, _, spot, turned = target.find(w, h, rot, rule.fit)
        if spot < 0:
            return None
        _put(target, item, spot, turned, problem, rule)
    if rule.merge and not all_guillotine(problem, [target]):
        return None
    return target
