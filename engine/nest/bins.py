"""Open slabs as free-rectangle bins: the fit rules that score a free rectangle, the guillotine split rules, and
the two packers (Jylanki's GuillotineBinPack for the saw, MaxRects for waterjet and CNC).

Sizes here are inflated by the kerf (see engine.nest.layout): any two items packed without overlap end at least
one kerf apart.
"""

from __future__ import annotations

import enum
import math
from typing import NamedTuple

__all__ = ["EPS", "Fit", "GuillotineBin", "MaxRectsBin", "OpenBin", "Rule", "Split", "guillotine_ok"]

EPS = 1e-6  # float slack for "fits": sizes in mm with decimals must not fail by rounding

Rect = tuple[float, float, float, float]  # x, y, w, h


class Fit(enum.StrEnum):
    """How a free rectangle is scored for an item (lower is better)."""

    BAF = "best_area_fit"
    BSSF = "best_short_side_fit"
    BLSF = "best_long_side_fit"
    BL = "bottom_left"
    # BSSF without its tie-break on the long side (ties go to the first free rectangle), as rectpack scores it:
    # different ties, other layouts.
    BSSF1 = "best_short_side_fit_no_tie_break"


class Split(enum.StrEnum):
    """Guillotine split rules (Jylanki): which of the two cuts to make after placing an item in a free rectangle."""

    SAS = "shorter_axis"
    LAS = "longer_axis"
    SLAS = "shorter_leftover_axis"
    LLAS = "longer_leftover_axis"
    MINAS = "min_area"
    MAXAS = "max_area"


class Rule(NamedTuple):
    """A packing rule. `merge` joins free rectangles that share a whole edge (as rectpack does): more room, but
    the layout may stop being a guillotine pattern, so a pass using it is checked at the end and dropped if it
    is not. MaxRects bins use only `fit`."""

    fit: Fit
    split: Split = Split.SAS
    merge: bool = False


NO_FIT = (math.inf, math.inf, -1, False)

# Module globals for the hot paths below: an enum attribute look-up costs several times a global's.
_BAF, _BSSF, _BLSF, _BSSF1 = Fit.BAF, Fit.BSSF, Fit.BLSF, Fit.BSSF1
_SAS, _LAS, _SLAS, _LLAS, _MINAS = Split.SAS, Split.LAS, Split.SLAS, Split.LLAS, Split.MINAS


class OpenBin:
    """One open slab: its stock index, inflated usable size, free rectangles and placed items."""

    __slots__ = ("slab", "w", "h", "free", "items", "area", "max_w", "max_h")

    def __init__(self, slab: int, w: float, h: float) -> None:
        self.slab = slab
        self.w = w
        self.h = h
        self.free: list[Rect] = [(0.0, 0.0, w, h)]
        self.items: list[tuple[int, float, float, bool]] = []  # (item index, x, y, rotated)
        self.area = 0.0  # inflated area used, for the fill ratio
        self.max_w = w  # the widest and the tallest free rectangle: no larger item fits anywhere in this bin
        self.max_h = h

    def takes(self, w: float, h: float, rot: bool) -> bool:
        """False when no free rectangle can take a w x h item (turned, if `rot`): the cheap reject."""
        max_w, max_h = self.max_w + EPS, self.max_h + EPS
        return (w <= max_w and h <= max_h) or (rot and h <= max_w and w <= max_h)

    def fill(self) -> float:
        return self.area / (self.w * self.h)

    def copy(self) -> OpenBin:
        twin = type(self)(self.slab, self.w, self.h)
        twin.free = list(self.free)
        twin.items = list(self.items)
        twin.area, twin.max_w, twin.max_h = self.area, self.max_w, self.max_h
        return twin

    def place(self, i: int, w: float, h: float, rule: Rule) -> tuple[float, float]:
        raise NotImplementedError

    def block(self, x: float, y: float, w: float, h: float) -> None:
        """Take a rectangle (a placed item, or a defect zone of the slab) out of the free space: each free
        rectangle it overlaps is split around it."""
        x2, y2 = x + w, y + h
        out: list[Rect] = []
        for rect in self.free:
            fx, fy, fw, fh = rect
            if x >= fx + fw - EPS or x2 <= fx + EPS or y >= fy + fh - EPS or y2 <= fy + EPS:
                out.append(rect)
            else:
                out.extend(self._around(rect, x, y, x2, y2))
        self.free = self._settled(out)
        self._bounds()

    def _around(self, rect: Rect, x: float, y: float, x2: float, y2: float) -> list[Rect]:
        """What is left of a free rectangle around the taken one (x, y)-(x2, y2) that overlaps it."""
        raise NotImplementedError

    def _settled(self, free: list[Rect]) -> list[Rect]:
        return free

    def find(self, w: float, h: float, rot: bool, fit: Fit) -> tuple[float, float, int, bool]:
        """Best free rectangle for a w x h item: (score, tie-break score, index, rotated); index -1 if none."""
        max_w, max_h = self.max_w + EPS, self.max_h + EPS
        upright = w <= max_w and h <= max_h
        turn = rot and w != h and h <= max_w and w <= max_h
        if not (upright or turn):  # cheap reject: most slabs are full long before the last items come
            return NO_FIT
        # The hot path of the whole search: one loop per rule, the item's two orientations as two entries.
        sizes = ((w, h, False), (h, w, True)) if upright and turn else ((w, h, False),) if upright else ((h, w, True),)
        b1 = b2 = math.inf
        bi, br = -1, False
        free = self.free
        for iw, ih, r in sizes:
            wl, hl = iw - EPS, ih - EPS
            if fit is _BSSF:
                for i, (fx, fy, fw, fh) in enumerate(free):
                    if fw >= wl and fh >= hl:
                        dw, dh = fw - iw, fh - ih
                        s1, s2 = (dw, dh) if dw < dh else (dh, dw)
                        if s1 < b1 or (s1 == b1 and s2 < b2):
                            b1, b2, bi, br = s1, s2, i, r
            elif fit is _BAF:
                a = w * h
                for i, (fx, fy, fw, fh) in enumerate(free):
                    if fw >= wl and fh >= hl:
                        dw, dh = fw - iw, fh - ih
                        s1, s2 = fw * fh - a, (dw if dw < dh else dh)
                        if s1 < b1 or (s1 == b1 and s2 < b2):
                            b1, b2, bi, br = s1, s2, i, r
            elif fit is _BSSF1:
                for i, (fx, fy, fw, fh) in enumerate(free):
                    if fw >= wl and fh >= hl:
                        dw, dh = fw - iw, fh - ih
                        s1 = dw if dw < dh else dh
                        if s1 < b1:
                            b1, b2, bi, br = s1, 0.0, i, r
            elif fit is _BLSF:
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
        self.max_w = max((f[2] for f in self.free), default=0.0)
        self.max_h = max((f[3] for f in self.free), default=0.0)


class GuillotineBin(OpenBin):
    __slots__ = ()

    def place(self, i: int, w: float, h: float, rule: Rule) -> tuple[float, float]:
        """Put a w x h item at the corner of free rectangle i and cut the rest in two; returns (x, y)."""
        fx, fy, fw, fh = self.free[i]
        dw, dh = fw - w, fh - h
        split = rule.split
        if split is _SAS:
            horizontal = fw <= fh
        elif split is _LAS:
            horizontal = fw > fh
        elif split is _SLAS:
            horizontal = dw <= dh
        elif split is _LLAS:
            horizontal = dw > dh
        elif split is _MINAS:
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
        for rect in (top, right):
            if rect[2] > EPS and rect[3] > EPS:
                if rule.merge:
                    rect = self._merge(rect)
                self.free.append(rect)
        self.area += w * h
        self._bounds()
        return fx, fy

    def _around(self, rect: Rect, x: float, y: float, x2: float, y2: float) -> list[Rect]:
        """Disjoint pieces, cut through at the taken rectangle's sides and then across its column (or the other
        way round, whichever leaves the larger piece), so the free space stays a guillotine pattern."""
        fx, fy, fw, fh = rect
        fx2, fy2 = fx + fw, fy + fh
        cx, cx2, cy, cy2 = max(fx, x), min(fx2, x2), max(fy, y), min(fy2, y2)
        across = [(fx, fy, x - fx, fh), (x2, fy, fx2 - x2, fh), (cx, fy, cx2 - cx, y - fy),
                  (cx, y2, cx2 - cx, fy2 - y2)]
        along = [(fx, fy, fw, y - fy), (fx, y2, fw, fy2 - y2), (fx, cy, x - fx, cy2 - cy),
                 (x2, cy, fx2 - x2, cy2 - cy)]
        # A pit near the long edge keeps the slab's full length below it.
        pieces = max(across, along, key=lambda ps: max(max(p[2], 0.0) * max(p[3], 0.0) for p in ps))
        return [p for p in pieces if p[2] > EPS and p[3] > EPS]

    def _merge(self, rect: Rect) -> Rect:
        """Join rect with free rectangles sharing a whole edge with it, until none does; returns the union."""
        joined = True
        while joined:
            joined = False
            rx, ry, rw, rh = rect
            for k, (fx, fy, fw, fh) in enumerate(self.free):
                if abs(fx - rx) <= EPS and abs(fw - rw) <= EPS and (abs(fy + fh - ry) <= EPS
                                                                     or abs(ry + rh - fy) <= EPS):
                    rect = (rx, min(ry, fy), rw, rh + fh)
                elif abs(fy - ry) <= EPS and abs(fh - rh) <= EPS and (abs(fx + fw - rx) <= EPS
                                                                       or abs(rx + rw - fx) <= EPS):
                    rect = (min(rx, fx), ry, rw + fw, rh)
                else:
                    continue
                self.free[k] = self.free[-1]
                self.free.pop()
                joined = True
                break
        return rect


def guillotine_ok(rects: list[Rect]) -> bool:
    """True when the (x, y, w, h) rectangles can be separated by recursive edge-to-edge cuts."""
    if len(rects) <= 1:
        return True
    for axis in (0, 1):
        for cut in sorted({r[axis] + r[axis + 2] for r in rects}):
            low = [r for r in rects if r[axis] + r[axis + 2] <= cut + EPS]
            if len(low) == len(rects):
                break
            high = [r for r in rects if r[axis] >= cut - EPS]
            if len(low) + len(high) == len(rects):
                return guillotine_ok(low) and guillotine_ok(high)
    return False


class MaxRectsBin(OpenBin):
    __slots__ = ()

    def place(self, i: int, w: float, h: float, rule: Rule) -> tuple[float, float]:
        """Put a w x h item at the corner of free rectangle i and keep every maximal free rectangle."""
        x, y = self.free[i][0], self.free[i][1]
        self.block(x, y, w, h)
        self.area += w * h
        return x, y

    def _around(self, rect: Rect, x: float, y: float, x2: float, y2: float) -> list[Rect]:
        """The maximal free rectangles left around the taken one (they overlap each other)."""
        fx, fy, fw, fh = rect
        fx2, fy2 = fx + fw, fy + fh
        out: list[Rect] = []
        if x > fx + EPS:
            out.append((fx, fy, x - fx, fh))
        if x2 < fx2 - EPS:
            out.append((x2, fy, fx2 - x2, fh))
        if y > fy + EPS:
            out.append((fx, fy, fw, y - fy))
        if y2 < fy2 - EPS:
            out.append((fx, y2, fw, fy2 - y2))
        return out

    def _settled(self, free: list[Rect]) -> list[Rect]:
        """Drop rectangles contained in another: largest first, so each is checked against few keepers."""
        free.sort(key=lambda r: -r[2] * r[3])
        kept: list[Rect] = []
        for rect in free:
            rx, ry, rw, rh = rect
            for k in kept:
                if rx >= k[0] - EPS and ry >= k[1] - EPS and rx + rw <= k[0] + k[2] + EPS \
                        and ry + rh <= k[1] + k[3] + EPS:
                    break
            else:
                kept.append(rect)
        return kept
