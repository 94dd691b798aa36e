"""Run nest() and a multistart rectpack baseline on the CLASS instances, in the same process, same budget."""

from __future__ import annotations

import multiprocessing
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import rectpack

from bench.nest.instances import Instance, lower_bound
from bench.nest.reference import published_total
from engine.nest import Part, StockSlab, nest
from engine.nest import guillotine_ok  # the check nest() applies to its own layouts

METHODS = ("ours_guillotine", "ours_free", "rectpack_guillotine", "rectpack_guillotine_raw", "rectpack_all")

_GUILLOTINE_ALGOS = [rectpack.GuillotineBssfSas, rectpack.GuillotineBafSlas, rectpack.GuillotineBssfSlas,
                     rectpack.GuillotineBafMinas, rectpack.GuillotineBlsfSas, rectpack.GuillotineBafLlas,
                     rectpack.GuillotineBssfMaxas, rectpack.GuillotineBafSas]
_FREE_ALGOS = [rectpack.MaxRectsBssf, rectpack.MaxRectsBaf, rectpack.MaxRectsBl, rectpack.MaxRectsBlsf,
               rectpack.SkylineMwf, rectpack.SkylineMwfl, rectpack.SkylineBl]
_SORTS = [rectpack.SORT_AREA, rectpack.SORT_PERI, rectpack.SORT_LSIDE, rectpack.SORT_SSIDE, rectpack.SORT_DIFF,
          rectpack.SORT_RATIO]
_BIN_ALGOS = [rectpack.PackingBin.BFF, rectpack.PackingBin.BBF, rectpack.PackingBin.Global, rectpack.PackingBin.BNF]
_RANDOM_RESTARTS = 300  # after the fixed configurations: shuffled orders, until the budget or this cap


@dataclass
class Result:
    name: str
    cls: int
    n: int
    rotation: bool
    lower_bound: int
    bins: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


_UNCUTTABLE = 10**9  # a layout a saw cannot cut counts as no layout
T = TypeVar("T")


def _rectpack_once(inst: Instance, algo: type, sort: object, bin_algo: object, rotation: bool,
                   items: list[tuple[int, int]], cuts: bool) -> tuple[int, int]:
    """(bins used, bins used if the layout must be a true guillotine pattern) for one rectpack pass."""
    packer = rectpack.newPacker(mode=rectpack.PackingMode.Offline, bin_algo=bin_algo, pack_algo=algo,
                                sort_algo=sort, rotation=rotation)
    packer.add_bin(inst.bin_w, inst.bin_h, count=float("inf"))
    for i, (w, h) in enumerate(items):
        packer.add_rect(w, h, rid=i)
    packer.pack()
    placed = sum(len(b) for b in packer)
    if placed != len(items):
        return 10**9, _UNCUTTABLE
    used = len(packer)
    if not cuts:
        return used, _UNCUTTABLE
    # rectpack's guillotine packers merge free rectangles, which can leave a bin no saw can cut.
    ok = all(guillotine_ok([(r.x, r.y, r.width, r.height) for r in b]) for b in packer)
    return used, used if ok else _UNCUTTABLE


def rectpack_multistart(inst: Instance, algos: list[type], rotation: bool, time_limit_s: float, bound: int,
                        seed: int, cuts: bool = False) -> tuple[int, int]:
    """Best bin count over algorithms x sort orders x bin selection, then shuffled orders, within the budget.

    Returns (best, best among true guillotine layouts); the second is only checked when `cuts`.
    """
    deadline = time.monotonic() + time_limit_s
    items = list(inst.items)
    best = best_cut = 10**9

    def done() -> bool:
        return (best_cut if cuts else best) <= bound or time.monotonic() >= deadline

    configs = [(a, s, b) for b in _BIN_ALGOS for s in _SORTS for a in algos]
    for algo, sort, bin_algo in configs:
        used, cut = _rectpack_once(inst, algo, sort, bin_algo, rotation, items, cuts)
        best, best_cut = min(best, used), min(best_cut, cut)
        if done():
            return best, best_cut
    rng = random.Random(seed)
    for k in range(_RANDOM_RESTARTS):
        rng.shuffle(items)
        algo = algos[k % len(algos)]
        bin_algo = _BIN_ALGOS[k // len(algos) % 2]
        used, cut = _rectpack_once(inst, algo, rectpack.SORT_NONE, bin_algo, rotation, items, cuts)
        best, best_cut = min(best, used), min(best_cut, cut)
        if done():
            break
    return best, best_cut


def ours(inst: Instance, guillotine: bool, rotation: bool, time_limit_s: float, seed: int) -> int:
    """Bins used by engine.nest.nest with kerf 0 and margin 0."""
    parts = [Part(key=f"{i}", piece=f"{i}", copy=1, length=w, width=h, can_rotate=rotation)
             for i, (w, h) in enumerate(inst.items)]
    slab = StockSlab(id="bin", length=inst.bin_w, width=inst.bin_h, qty=None, kind="full")
    slabs = nest(parts, [slab], kerf=0.0, margin=0.0, guillotine=guillotine, prefer_remnants=False,
                 time_limit_s=time_limit_s, seed=seed)
    return slabs.used


def run_instance(inst: Instance, rotation: bool, time_limit_s: float, seed: int = 0) -> Result:
    """All four methods on one instance."""
    bound = lower_bound(inst, rotation)
    res = Result(inst.name, inst.cls, inst.n, rotation, bound)

    def timed(method: str, fn: Callable[[], T]) -> T:
        t0 = time.perf_counter()
        value = fn()
        res.seconds[method] = time.perf_counter() - t0
        return value

    res.bins["ours_guillotine"] = timed("ours_guillotine", lambda: ours(inst, True, rotation, time_limit_s, seed))
    res.bins["ours_free"] = timed("ours_free", lambda: ours(inst, False, rotation, time_limit_s, seed))
    raw, cut = timed("rectpack_guillotine", lambda: rectpack_multistart(inst, _GUILLOTINE_ALGOS, rotation,
                                                                        time_limit_s, bound, seed, cuts=True))
    # No true guillotine layout within the budget: one bin per item always is one.
    res.bins["rectpack_guillotine"], res.bins["rectpack_guillotine_raw"] = min(cut, inst.n), raw
    res.bins["rectpack_all"], _ = timed("rectpack_all", lambda: rectpack_multistart(
        inst, _FREE_ALGOS + _GUILLOTINE_ALGOS, rotation, time_limit_s, bound, seed))
    return res


def _star(args: tuple[Instance, bool, float]) -> Result:
    return run_instance(*args)


def run(instances: list[Instance], rotations: tuple[bool, ...], time_limit_s: float,
        workers: int = 1) -> list[Result]:
    """Every instance x rotation setting; `workers` processes (instances are independent)."""
    jobs = [(inst, rot, time_limit_s) for rot in rotations for inst in instances]
    if workers <= 1:
        return [_star(j) for j in jobs]
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        return pool.map(_star, jobs, chunksize=1)


def _pct(a: int, b: int) -> str:
    return f"{100.0 * (a - b) / b:+.1f}%" if b else "-"


def table(results: list[Result], source: str) -> str:
    """Markdown: per class and rotation setting, sums of bins and the gaps that matter."""
    groups: dict[tuple[bool, int], list[Result]] = defaultdict(list)
    for r in results:
        groups[(r.rotation, r.cls)].append(r)
    published = source == "original"
    head = ["rot", "class", "inst", "LB", *(["BRKGA"] if published else []), "ours G", "ours F", "rectpack G",
            "rectpack G unchecked", "rectpack all", "G vs LB", "F vs LB", *(["F vs BRKGA"] if published else []),
            "G > rp G", "F > rp all", "s/inst ours G", "s/inst ours F"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    totals: dict[str, int] = defaultdict(int)
    for (rot, cls), rs in sorted(groups.items()):
        s = {m: sum(r.bins[m] for r in rs) for m in METHODS}
        lb = sum(r.lower_bound for r in rs)
        ref = sum(published_total(cls, n, rot) for n in sorted({r.n for r in rs})) if published \
            and len(rs) == 10 * len({r.n for r in rs}) else None
        worse_g = sum(1 for r in rs if r.bins["ours_guillotine"] > r.bins["rectpack_guillotine"])
        worse_f = sum(1 for r in rs if r.bins["ours_free"] > r.bins["rectpack_all"])
        for k, v in {**s, "lb": lb, "worse_g": worse_g, "worse_f": worse_f, "ref": ref or 0}.items():
            totals[f"{rot}:{k}"] += v
        row = ["R" if rot else "O", str(cls), str(len(rs)), str(lb), *([str(ref or "-")] if published else []),
               *(str(s[m]) for m in METHODS), _pct(s["ours_guillotine"], lb), _pct(s["ours_free"], lb),
               *([_pct(s["ours_free"], ref) if ref else "-"] if published else []), str(worse_g), str(worse_f),
               f"{sum(r.seconds['ours_guillotine'] for r in rs) / len(rs):.2f}",
               f"{sum(r.seconds['ours_free'] for r in rs) / len(rs):.2f}"]
        lines.append("| " + " | ".join(row) + " |")
    for rot in sorted({r.rotation for r in results}):
        t = {k.split(":", 1)[1]: v for k, v in totals.items() if k.startswith(f"{rot}:")}
        ref = t.get("ref", 0)
        row = ["R" if rot else "O", "**all**", str(sum(1 for r in results if r.rotation == rot)), str(t["lb"]),
               *([str(ref or "-")] if published else []), *(str(t[m]) for m in METHODS),
               _pct(t["ours_guillotine"], t["lb"]), _pct(t["ours_free"], t["lb"]),
               *([_pct(t["ours_free"], ref) if ref else "-"] if published else []), str(t["worse_g"]),
               str(t["worse_f"]), "", ""]
        lines.append("| " + " | ".join(row) + " |")
    worse = [f"{r.name} {'R' if r.rotation else 'O'} ({m}: ours {r.bins[ours]}, baseline {r.bins[base]})"
             for r in results for m, ours, base in (("G", "ours_guillotine", "rectpack_guillotine"),
                                                    ("F", "ours_free", "rectpack_all"))
             if r.bins[ours] > r.bins[base]]
    lines.append("\nInstances where ours used more bins than the baseline: " + ("; ".join(worse) or "none") + ".")
    return "\n".join(lines)
