"""Where a seam may go on a piece no slab can hold, and the plans with the fewest seams.

A seam is a straight cut across the piece at x (its frame, mm), between two straight edges. The piece is seen
as a strip of candidate positions (whole millimetres, or sixteenths of an inch for a job in inches); each rule
blocks an open interval of x and says why in a fabricator's words. A plan is a set of positions such that
every part fits a slab (its bounding box, turned if the stone allows, inside the margins). Greedy
farthest-reach gives the fewest seams (a shorter part always fits where a longer one does); among plans with
that many, the candidates are the ones farthest from cutouts, the ones packed to either end and the most
even one, for the CAD stage to nest (`engine.seams.place`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine import geometry
from engine.checks.common import CUTOUT_NAMES, LengthFormat, Thresholds, can_rotate
from engine.checks.joins import JOIN_REF
from engine.spec import MM_PER_INCH, JobSpec, Piece

__all__ = ["Blocked", "PiecePlans", "Plan", "SeamError", "plan_piece"]

STEP_MM = {"mm": 1.0, "in": MM_PER_INCH / 16}  # seams land on whole millimetres, or sixteenths of an inch
MAX_POSITIONS = 20_000  # a longer piece gets a coarser step: the work stays bounded on every submission
MAX_SEAMS = 9
AT_A_VERTEX_MM = 1.0  # a cut this close to a corner of the outline would leave a sliver edge
DEPTH_SAGITTA_MM = 1.0  # arcs as chords for the depth profile; curved stretches are blocked anyway
INSIDE_CORNER_RAD = math.radians(30)  # a notch, not the bend between two stretches of a scribed edge
MAX_REASONS = 4  # rules named in an error; the rest are counted
ZONE_WORDS = {"dishwasher": "dishwasher", "range": "range", "other": "appliance"}


class SeamError(ValueError):
    """No plan keeps every rule; the message says which rule blocked it, for a fabricator."""


@dataclass(frozen=True)
class Blocked:
    """An open interval of x (mm, piece frame) where no seam may go, and the rule in words."""

    lo: float
    hi: float
    why: str


@dataclass(frozen=True)
class Plan:
    xs: tuple[float, ...]  # seam positions, mm, piece frame, left to right
    clearance_mm: float  # from the seams to the nearest cutout (inf: the piece has none)
    spread_mm: float  # longest part minus shortest


@dataclass
class PiecePlans:
    plans: list[Plan]  # fewest seams; farthest from cutouts first, then the most even; [] when the piece fits whole
    length_mm: float
    depth_mm: float
    rules: Thresholds
    blocked: list[Blocked]
    corners_x: list[float]  # inside corners


class _Strip:
    """The piece along x: positions xs[0] (left end) .. xs[n] (right end), and each cell's y extent."""

    def __init__(self, xs: np.ndarray, ylo: np.ndarray, yhi: np.ndarray, slabs: list[tuple[float, float]]) -> None:
        self.xs, self.ylo, self.yhi, self.slabs = xs, ylo, yhi, slabs

    def run(self, depth: np.ndarray) -> np.ndarray:
        """The longest part of each depth that some slab holds (-inf: none is wide enough)."""
        best = np.full(depth.shape, -np.inf)
        for length, width in self.slabs:
            best = np.where(depth <= width + 1e-6, np.maximum(best, length), best)
        return best

    def reach(self, p: int) -> int:
        """The farthest position j such that the part from xs[p] to xs[j] fits a slab (p: not even one cell)."""
        depth = np.maximum.accumulate(self.yhi[p:]) - np.minimum.accumulate(self.ylo[p:])
        fits = self.xs[p + 1:] - self.xs[p] <= self.run(depth) + 1e-6
        return p + (len(fits) if fits.all() else int(np.argmin(fits)))

    def mirrored(self) -> _Strip:
        return _Strip(-self.xs[::-1], self.ylo[::-1], self.yhi[::-1], self.slabs)


class _Stuck(Exception):
    """The greedy plan cannot go on from position p: the part from there fits up to position r at most."""

    def __init__(self, p: int, r: int, too_many: bool = False) -> None:
        self.p, self.r, self.too_many = p, r, too_many


def _greedy(strip: _Strip, valid: np.ndarray) -> list[int]:
    """Fewest seams: each as far along as the part before it allows (indices into strip.xs)."""
    n = len(strip.xs) - 1
    seams: list[int] = []
    p = 0
    while True:
        r = strip.reach(p)
        if r >= n:
            return seams
        window = np.flatnonzero(valid[p + 1:r + 1])
        if r == p or not len(window):
            raise _Stuck(p, r)
        if len(seams) == MAX_SEAMS:
            raise _Stuck(p, r, too_many=True)
        p = p + 1 + int(window[-1])
        seams.append(p)


def _from_right(strip: _Strip, valid: np.ndarray) -> list[int]:
    """_greedy from the right end: the last parts longest."""
    n = len(strip.xs) - 1
    return sorted(n - i for i in _greedy(strip.mirrored(), valid[::-1]))


def _positions(lo: float, hi: float, step: float) -> np.ndarray:
    """The left end, every multiple of the step strictly inside, the right end."""
    while (hi - lo) / step > MAX_POSITIONS:
        step *= 2
    inner = np.arange(math.floor(lo / step) + 1, math.ceil(hi / step)) * step
    inner = inner[(inner > lo + 1e-9) & (inner < hi - 1e-9)]
    return np.concatenate([[lo], inner, [hi]])


def _cells(xs: np.ndarray, ring: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each cell's y extent, and how many outline edges a cut at each position crosses."""
    x0, y0 = ring[:-1, 0], ring[:-1, 1]
    x1, y1 = ring[1:, 0], ring[1:, 1]
    lo_x, hi_x = np.minimum(x0, x1), np.maximum(x0, x1)
    slope = np.divide(y1 - y0, x1 - x0, out=np.zeros_like(x0), where=hi_x > lo_x)
    at_lo, at_hi, crossings = [], [], []
    for start in range(0, len(xs), 2000):  # in chunks: positions x edges stays small
        x = xs[start:start + 2000, None]
        spans = (lo_x <= x) & (x <= hi_x) & (hi_x > lo_x)
        y = y0 + (x - x0) * slope
        at_lo.append(np.where(spans, y, np.inf).min(axis=1))
        at_hi.append(np.where(spans, y, -np.inf).max(axis=1))
        crossings.append(((lo_x < x) & (x < hi_x)).sum(axis=1))
    ymin, ymax = np.concatenate(at_lo), np.concatenate(at_hi)
    lo, hi = np.minimum(ymin[:-1], ymin[1:]), np.maximum(ymax[:-1], ymax[1:])
    vx, vy = ring[:-1, 0], ring[:-1, 1]
    last = len(xs) - 2
    for side in ("left", "right"):  # a vertex on a position belongs to the cells on both sides of it
        cell = np.clip(np.searchsorted(xs, vx, side=side) - 1, 0, last)  # type: ignore[call-overload]
        np.minimum.at(lo, cell, vy)
        np.maximum.at(hi, cell, vy)
    return lo, hi, np.concatenate(crossings)


def _slab_sizes(job_mm: JobSpec) -> list[tuple[float, float]]:
    """(length, width) each slab in stock offers a part, inside its margins, turned too if the stone allows."""
    margin = job_mm.options.slab_margin
    out = []
    for slab in job_mm.slab_stock:
        if slab.qty is not None and slab.qty <= 0:
            continue
        ul, uw = slab.length - 2 * margin, slab.width - 2 * margin
        out.append((ul, uw))
        if can_rotate(job_mm):
            out.append((uw, ul))
    return out


def _blocked(job_mm: JobSpec, piece: Piece, outline: geometry.Outline, rules: Thresholds,
             fmt: LengthFormat) -> tuple[list[Blocked], list[float]]:
    """Every interval where a seam may not go, and the x of each inside corner."""
    out: list[Blocked] = []
    for cutout in piece.cutouts:
        if geometry.cutout_missing(cutout):
            continue
        c0, _, c1, _ = geometry.bbox(geometry.cutout_segs(cutout))
        d = rules.cutout_to_seam(cutout.type)
        name = f"{CUTOUT_NAMES.get(cutout.type, 'Cutout').lower()} {cutout.id}"
        out.append(Blocked(c0 - d, c1 + d, f"{name} needs {fmt(d)} of stone between it and a seam"))
    for zone in piece.appliance_zones:
        out.append(Blocked(zone.start, zone.end, f"the {ZONE_WORDS[zone.type]} opening from {fmt(zone.start)} to "
                                                 f"{fmt(zone.end)} has no cabinet under it to carry a seam"))
    pts, bulges = geometry.raw_vertices(piece)
    n = len(pts)
    orientation = 1.0 if geometry.signed_area_vertices(pts) >= 0 else -1.0
    corners_x = [pts[i][0] for i, turn in enumerate(geometry.vertex_turns(piece))
                 if turn * orientation < -INSIDE_CORNER_RAD]
    d = rules.min_seam_to_inside_corner
    out += [Blocked(x - d, x + d, f"a seam within {fmt(d)} of the inside corner at {fmt(x)} cracks") for x in corners_x]
    left, right = min(x for x, _ in pts), max(x for x, _ in pts)
    out += [Blocked(x - AT_A_VERTEX_MM, x + AT_A_VERTEX_MM, f"a corner of the outline is at {fmt(x)}")
            for x, _ in pts if left + AT_A_VERTEX_MM < x < right - AT_A_VERTEX_MM]
    names = geometry.edge_names(piece)
    for i in range(n):
        if abs(bulges[i]) > geometry.EPS:
            x0, _, x1, _ = geometry.bbox([geometry.Seg(pts[i], pts[(i + 1) % n], bulges[i])])
            out.append(Blocked(x0, x1, f"{names[i]} is curved from {fmt(x0)} to {fmt(x1)} (a seam is a straight "
                                       "cut between straight edges)"))
    for span in outline.spans:
        if span.corner is not None:
            x0, _, x1, _ = geometry.bbox([span.seg])
            out.append(Blocked(x0, x1, f"the corner at vertex {span.corner} runs from {fmt(x0)} to {fmt(x1)}"))
    unit_mm = MM_PER_INCH if fmt.units == "in" else 1.0  # join ranges are written in the job's units
    for join in job_mm.joins:
        for ref, other in ((join.a, join.b), (join.b, join.a)):
            match = JOIN_REF.match(ref)
            if not match or match["piece"] != piece.id or match["edge"] not in names:
                continue
            i = names.index(match["edge"])
            seg = geometry.Seg(pts[i], pts[(i + 1) % n], bulges[i])
            length = seg.length()
            a = float(match["a"]) * unit_mm / length if match["a"] else 0.0
            b = float(match["b"]) * unit_mm / length if match["b"] else 1.0
            x0, _, x1, _ = geometry.bbox([seg.sub(max(0.0, a), min(1.0, b))])
            out.append(Blocked(x0, x1, f"the join {ref} with {other.split('.')[0]} runs from {fmt(x0)} to {fmt(x1)}"))
    return out, corners_x


def _clearance(piece: Piece, xs: np.ndarray) -> np.ndarray:
    """Distance along x from each position to the nearest cutout (inf: none)."""
    out = np.full(xs.shape, np.inf)
    for cutout in piece.cutouts:
        if not geometry.cutout_missing(cutout):
            c0, _, c1, _ = geometry.bbox(geometry.cutout_segs(cutout))
            out = np.minimum(out, np.maximum(np.maximum(c0 - xs, xs - c1), 0.0))
    return out


def _stuck_message(err: _Stuck, strip: _Strip, blocked: list[Blocked], crossings: np.ndarray,
                   fmt: LengthFormat) -> str:
    xs = strip.xs
    if err.too_many:
        return f"it would need more than {MAX_SEAMS} seams"
    if err.r == err.p:
        depth = float(strip.yhi[err.p] - strip.ylo[err.p])
        return (f"its depth of {fmt(depth)} at {fmt(xs[err.p])} is more than any slab's width after the margins; "
                "auto_seams cuts across the length only, so split it front to back by hand")
    lo, hi = float(xs[err.p]), float(xs[err.r])
    where = f"after the seam at {fmt(lo)}, the next" if err.p else "a seam"
    last = len(xs) - 1 - strip.mirrored().reach(0)  # where the last part may start at the earliest
    if lo < xs[last] <= hi:  # one seam would finish the piece: it must also leave the last part short enough
        lo = float(xs[last])
    why = [b.why for b in blocked if b.lo < hi and b.hi > lo]
    inside = (xs > lo) & (xs <= hi)
    if (crossings[inside] > 2).any():
        why.append("a cut there would cross the piece more than once")
    why = list(dict.fromkeys(why)) or ["the rules leave no room there"]
    more = f"; and {len(why) - MAX_REASONS} more" if len(why) > MAX_REASONS else ""
    return (f"{where} must fall between {fmt(lo)} and {fmt(hi)} from the left end for the parts to fit a slab, and "
            f"no seam may go there: {'; '.join(why[:MAX_REASONS])}{more}")


def plan_piece(job_mm: JobSpec, piece: Piece, rules: Thresholds, fmt: LengthFormat) -> PiecePlans:
    """The plans for one piece (mm) that need the fewest seams; raises SeamError when none keeps every rule."""
    outline = geometry.outline(piece)
    minx, miny, maxx, maxy = geometry.bbox(outline.segs)
    xs = _positions(minx, maxx, STEP_MM[fmt.units])
    ring = np.asarray(outline.polygon(DEPTH_SAGITTA_MM).exterior.coords)
    ylo, yhi, crossings = _cells(xs, ring)
    strip = _Strip(xs, ylo, yhi, _slab_sizes(job_mm))
    blocked, corners_x = _blocked(job_mm, piece, outline, rules, fmt)
    valid = crossings == 2
    valid[0] = valid[-1] = False
    for b in blocked:
        valid[np.searchsorted(xs, b.lo, side="right"):np.searchsorted(xs, b.hi, side="left")] = False
    found = PiecePlans([], maxx - minx, maxy - miny, rules, blocked, corners_x)
    try:
        fewest = _greedy(strip, valid)
    except _Stuck as err:
        raise SeamError(_stuck_message(err, strip, blocked, crossings, fmt)) from None
    if not fewest:
        return found
    clearance = _clearance(piece, xs)
    levels = np.unique(clearance[valid])  # the farthest-from-cutouts plan: the highest level that still works
    low, high = 0, len(levels) - 1
    while low < high:
        mid = (low + high + 1) // 2
        try:
            ok = len(_greedy(strip, valid & (clearance >= levels[mid]))) == len(fewest)
        except _Stuck:
            ok = False
        low, high = (mid, high) if ok else (low, mid - 1)
    far = valid & (clearance >= levels[low])
    seen: set[tuple[int, ...]] = set()
    for make in (lambda: _greedy(strip, far), lambda: _from_right(strip, far), lambda: fewest,
                 lambda: _from_right(strip, valid), lambda: _even(strip, valid, len(fewest))):
        try:
            candidate = make()
        except _Stuck:
            continue
        if candidate is None or len(candidate) != len(fewest) or tuple(candidate) in seen:
            continue
        seen.add(tuple(candidate))
        ends = [0, *candidate, len(xs) - 1]
        parts = [float(xs[b] - xs[a]) for a, b in zip(ends, ends[1:])]
        found.plans.append(Plan(tuple(float(xs[i]) for i in candidate), float(clearance[candidate].min()),
                                max(parts) - min(parts)))
    found.plans.sort(key=lambda plan: (-plan.clearance_mm, plan.spread_mm))
    return found


def _even(strip: _Strip, valid: np.ndarray, count: int) -> list[int] | None:
    """The valid positions nearest to equal parts, if every part then fits."""
    xs = strip.xs
    allowed = np.flatnonzero(valid)
    picks = []
    for k in range(1, count + 1):
        ideal = xs[0] + (xs[-1] - xs[0]) * k / (count + 1)
        picks.append(int(allowed[np.argmin(np.abs(xs[allowed] - ideal))]))
    ends = [0, *picks, len(xs) - 1]
    if len(set(picks)) != count or any(strip.reach(a) < b for a, b in zip(ends, ends[1:])):
        return None
    return picks
