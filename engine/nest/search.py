"""The search over packing passes: deterministic constructive passes (sort orders x rules x bin choice), then a
seeded local search on the packing order that moves the emptiest slab's parts forward, with one try at emptying
the least filled slab into the others (part by part, into a free rectangle or by repacking the receiving slab).
It stops at the lower bound, after a work cap (so the result does not depend on machine speed) or at the time
limit, whichever is first.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from engine.nest.bins import EPS, Fit, OpenBin, Rule, Split
from engine.nest.passes import Choice, Problem, Solution, all_guillotine, pack, pack_one

__all__ = ["GUILLOTINE_RULES", "MAXRECTS_RULES", "Search", "eliminate", "search"]

Item = tuple[float, float, bool]

SORT_KEYS: dict[str, Callable[[Item], tuple[float, ...]]] = {
    "area": lambda t: (-t[0] * t[1], -max(t[0], t[1])),
    "perimeter": lambda t: (-(t[0] + t[1]), -max(t[0], t[1])),
    "max_side": lambda t: (-max(t[0], t[1]), -min(t[0], t[1])),
    "min_side": lambda t: (-min(t[0], t[1]), -max(t[0], t[1])),
    "height": lambda t: (-t[1], -t[0]),
    "width": lambda t: (-t[0], -t[1]),
    "diff": lambda t: (-abs(t[0] - t[1]), -t[0] * t[1]),
    "ratio": lambda t: (-t[0] / t[1], -t[0] * t[1]),
}
_REPACK_KEYS = ("area", "max_side", "perimeter", "min_side", "height", "width")

BAF, BSSF, BSSF1, BLSF, BL = Fit.BAF, Fit.BSSF, Fit.BSSF1, Fit.BLSF, Fit.BL
GUILLOTINE_RULES = [Rule(BAF, Split.SLAS), Rule(BSSF, Split.SLAS), Rule(BAF, Split.MINAS), Rule(BSSF, Split.MINAS),
                    Rule(BLSF, Split.SLAS), Rule(BAF, Split.LLAS), Rule(BSSF, Split.SAS), Rule(BAF, Split.MAXAS),
                    Rule(BLSF, Split.MINAS), Rule(BSSF, Split.LAS)]
MAXRECTS_RULES = [Rule(BSSF), Rule(BAF), Rule(BL), Rule(BLSF)]
# Passes are capped by work (items x passes), not only by the clock, so a slow machine gets the same answer.
_WORK_CAP = 18_000
_MIN_PASSES, _MAX_PASSES = 60, 600  # few parts have few orders worth trying


def _seed(fit: Fit, split: Split, choice: Choice, merge: bool = False) -> tuple[Rule, Choice]:
    return Rule(fit, split, merge), choice


# Constructive passes, each with every sort order: (rule, bin choice); the strongest first. Slab-by-slab (global)
# passes barely depend on the order, so they get two orders; the others get all of them.
_GLOBAL, _BEST, _FIRST = Choice.GLOBAL, Choice.BEST_FIT, Choice.FIRST_FIT
_GUILLOTINE_SEEDS = [
    _seed(BAF, Split.SLAS, _GLOBAL), _seed(BSSF, Split.SAS, _BEST, merge=True), _seed(BAF, Split.SLAS, _BEST),
    _seed(BAF, Split.LLAS, _BEST, merge=True), _seed(BSSF, Split.SLAS, _GLOBAL),
    _seed(BAF, Split.SLAS, _BEST, merge=True), _seed(BSSF, Split.SLAS, _BEST), _seed(BSSF, Split.MAXAS, _GLOBAL),
    _seed(BAF, Split.LLAS, _GLOBAL), _seed(BAF, Split.MINAS, _BEST), _seed(BSSF, Split.MAXAS, _BEST, merge=True),
    _seed(BSSF, Split.MINAS, _BEST), _seed(BSSF, Split.SAS, _FIRST, merge=True),
    _seed(BAF, Split.SLAS, _GLOBAL, merge=True), _seed(BSSF1, Split.MAXAS, _GLOBAL), _seed(BSSF1, Split.SLAS, _BEST),
    _seed(BSSF1, Split.SLAS, _GLOBAL)]
_MAXRECTS_SEEDS = [(Rule(BSSF), _GLOBAL), (Rule(BSSF), _BEST), (Rule(BAF), _BEST), (Rule(BAF), _GLOBAL),
                   (Rule(BL), _BEST), (Rule(BLSF), _BEST), (Rule(BSSF), _FIRST)]
_ELIMINATE_SHARE = 0.4  # of the pass budget kept for emptying the last slab into the others


class Search:
    """Keeps the best solution seen and decides when to stop."""

    def __init__(self, problem: Problem, target_bins: int, time_limit_s: float) -> None:
        self.problem = problem
        self.target_bins = target_bins
        self.start = time.monotonic()
        self.deadline = self.start + max(0.0, time_limit_s)
        self.max_passes = min(_MAX_PASSES, max(_MIN_PASSES, _WORK_CAP // max(1, len(problem.items))))
        self.passes = 0.0
        self.best: Solution | None = None

    def done(self) -> bool:
        if self.passes >= self.max_passes or time.monotonic() >= self.deadline:
            return True
        best = self.best
        # Nothing beats the bound on the most preferred slab: every further pass would be wasted.
        return best is not None and len(best.bins) <= self.target_bins and all(b.slab == 0 for b in best.bins)

    def offer(self, sol: Solution | None) -> bool:
        self.passes += 1
        if sol is None:
            return False
        if self.best is None or sol.cost < self.best.cost:
            self.best = sol
            return True
        return False


def search(problem: Problem, target_bins: int, time_limit_s: float, seed: int) -> Solution | None:
    budget = Search(problem, target_bins, time_limit_s)
    n = len(problem.items)
    seeds = _GUILLOTINE_SEEDS if problem.guillotine else _MAXRECTS_SEEDS
    rules = GUILLOTINE_RULES if problem.guillotine else MAXRECTS_RULES
    if problem.guillotine:
        rules = rules + [rule._replace(merge=True) for rule in rules[:4]] + [Rule(BSSF, Split.SAS, True)]
    orders = {name: sorted(range(n), key=lambda i, k=key: (k(problem.items[i]), i)) for name, key in SORT_KEYS.items()}
    # 1. constructive passes: every rule with the first order, then the other orders. A time-limited search
    # keeps a share of its time for step 2.
    eliminate_time = budget.deadline - (budget.deadline - budget.start) * _ELIMINATE_SHARE
    seq_best: Solution | None = None
    config = (rules[0], Choice.BEST_FIT)
    # The parts as given, too: slab-by-slab passes only use the order to break ties (as rectpack's Global does).
    orders["given"] = list(range(n))
    names = list(orders)
    schedule = [(c, names[0]) for c in seeds] + [(c, name) for name in names[1:] for c in seeds
                                                 if (c[1] is not Choice.GLOBAL and name != "given")
                                                 or name in (names[1], "given")]
    for (rule, choice), name in schedule:
        if budget.done():
            return budget.best
        if seq_best is not None and time.monotonic() >= eliminate_time:
            break
        sol = pack(problem, orders[name], rule, choice)
        budget.offer(sol)
        if sol is not None and choice is not Choice.GLOBAL and (seq_best is None or sol.cost < seq_best.cost):
            seq_best, config = sol, (rule, choice)
    if not problem.guillotine:
        # A guillotine layout is a free layout too, and on some instances the guillotine passes find one with
        # fewer slabs: their seeds on the first two orders. They come on top of the work cap (which is the
        # MaxRects search's), not out of it.
        twin = problem.as_guillotine()
        work = budget.passes
        for rule, choice in _GUILLOTINE_SEEDS:
            for name in names[:2]:
                if budget.done():
                    return budget.best
                budget.offer(pack(twin, orders[name], rule, choice))
        budget.passes = work
    if seq_best is None:
        return budget.best
    # 2. local search on the order: move the emptiest slab's parts forward, so earlier slabs take them;
    # part of the budget goes to emptying the last slab of the best solution into the others.
    rng = random.Random(seed)
    current = seq_best
    # Emptying the last slab right away often saves a slab the order search would need many passes for;
    # it runs again later from the best found by then, if that is a different solution.
    if budget.best is not None and not budget.done():
        sol = eliminate(problem, budget.best, budget, rules)
        if sol is not budget.best and budget.offer(sol):
            current = sol
    tried = budget.best
    eliminate_at = budget.passes + (budget.max_passes - budget.passes) * (1 - _ELIMINATE_SHARE)
    eliminated = False
    while not budget.done():
        if not eliminated and (budget.passes >= eliminate_at or time.monotonic() >= eliminate_time):
            eliminated = True
            if budget.best is not None and budget.best is not tried:
                sol = eliminate(problem, budget.best, budget, rules)
                if sol is not budget.best and budget.offer(sol):
                    current = sol
                continue
        order = _perturb(current, rng)
        if rng.random() < 0.8:
            rule, choice = config
        else:
            rule, choice = rules[rng.randrange(len(rules))], (Choice.BEST_FIT if rng.random() < 0.5
                                                              else Choice.FIRST_FIT)
        sol = pack(problem, order, rule, choice)
        budget.offer(sol)
        if sol is not None and sol.cost <= current.cost:
            current = sol
            config = (rule, choice)
    return budget.best


def _add_to_bin(problem: Problem, target: OpenBin, item: int, rules: list[Rule], budget: Search) -> OpenBin | None:
    """Bin `target` with `item` added: into a free rectangle as it is, else by repacking its items with it."""
    w, h, rot = problem.items[item]
    if target.takes(w, h, rot):
        for rule in rules[:2]:
            _, _, spot, turned = target.find(w, h, rot, rule.fit)
            if spot >= 0:
                trial = target.copy()
                x, y = trial.place(spot, h if turned else w, w if turned else h, rule)
                trial.items.append((item, x, y, turned))
                if all_guillotine(problem, [trial]):
                    return trial
    # No free rectangle takes it: repacking can only help if the area left is enough.
    bin_w, bin_h = problem.bin_sizes[target.slab]
    if target.area + w * h > bin_w * bin_h + EPS:
        return None
    items = [t[0] for t in target.items] + [item]
    n = len(problem.items)
    for name in _REPACK_KEYS:
        key = SORT_KEYS[name]
        order = sorted(items, key=lambda i: (key(problem.items[i]), i))
        for rule in rules[:3]:
            if budget.done():
                return None
            budget.passes += len(items) / n
            repacked = pack_one(problem, target.slab, order, rule)
            if repacked is not None:
                return repacked
    return None


def eliminate(problem: Problem, sol: Solution, budget: Search, rules: list[Rule]) -> Solution:
    """Empty the least filled slab into the others, part by part (largest first), repeatedly; the best result."""
    best = sol
    bins = list(sol.bins)
    while len(bins) > 1 and not budget.done():
        fill = [b.fill() for b in bins]
        weakest = min(range(len(bins)), key=lambda k: (fill[k], -k))
        others = [b for k, b in enumerate(bins) if k != weakest]
        todo = sorted((t[0] for t in bins[weakest].items),
                      key=lambda i: (-problem.items[i][0] * problem.items[i][1], i))
        for item in todo:
            # Emptiest slabs first: they have the most room to take the part.
            for k in sorted(range(len(others)), key=lambda k: (others[k].fill(), k)):
                grown = _add_to_bin(problem, others[k], item, rules, budget)
                if grown is not None:
                    others[k] = grown
                    break
            else:
                return best
        bins = others
        best = Solution(bins, problem, [t[0] for b in bins for t in b.items])
    return best


def _perturb(sol: Solution, rng: random.Random) -> list[int]:
    """A neighbour order: parts of a weakly filled slab moved ahead, or two parts swapped."""
    order = list(sol.order)
    n = len(order)
    move = rng.random()
    if move < 0.5 and len(sol.bins) > 1:
        # The last slabs are the emptiest; pull one of their parts to a random earlier position.
        weakest = min(sol.bins, key=OpenBin.fill)
        source = weakest if rng.random() < 0.7 else sol.bins[rng.randrange(len(sol.bins))]
        for _ in range(1 + (rng.random() < 0.3)):
            item = source.items[rng.randrange(len(source.items))][0]
            pos = order.index(item)
            order.pop(pos)
            order.insert(rng.randrange(max(1, pos)), item)
    elif n > 1:
        for _ in range(1 + int(rng.random() * 2)):
            i, j = rng.randrange(n), rng.randrange(n)
            order[i], order[j] = order[j], order[i]
    return order
