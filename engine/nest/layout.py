"""From packed bins to the result: slab layouts in slab coordinates, their remnants, and `nest()` itself.

Two layouts:
- guillotine (bridge saw): every part comes off the slab by straight through-cuts, so blanks (each piece's
  axis-aligned bbox) are packed with a guillotine free-rectangle packer. Passes that merge free rectangles can
  break the cut order: their layouts are checked for guillotine cuts and a pass that fails the check is dropped;
- free (waterjet, cnc): MaxRects on the bboxes, non-guillotine, the kerf kept as spacing between them (the
  guillotine passes' layouts compete too: a saw's layout is also a waterjet's); when some piece is shaped
  (L, U, arcs), also bottom-left fill of the true outlines (engine.nest.outline), and the better of the two
  layouts is kept.

Kerf is handled by inflation: every part grows by `kerf` along x and y and so does the usable area, so any
two parts packed without overlap end at least one kerf apart and the last one ends inside the margin.
"""

from __future__ import annotations

import time

from engine.drawing.units import SQFT_PER_M2
from engine.model import Placement, Remnant, SlabLayout, Slabs
from engine.nest.bins import EPS, OpenBin
from engine.nest.outline import is_shaped, nest_outlines
from engine.nest.passes import Problem, Solution
from engine.nest.search import search
from engine.nest.stock import NestError, Part, StockSlab, lower_bound, usable_size

__all__ = ["MAX_REMNANTS", "REMNANT_MIN_MM", "nest"]

REMNANT_MIN_MM = 200.0  # an offcut smaller than this on either side is scrap to a fabricator
MAX_REMNANTS = 4


def _check_fits(problem: Problem, margin: float) -> None:
    for i, part in enumerate(problem.parts):
        if any(problem.fits(i, k) for k in range(len(problem.slabs))):
            continue
        sizes = ", ".join(f"{slab.id} {slab.length:g} x {slab.width:g} mm" for slab in problem.slabs)
        turn = "" if part.can_rotate else " (the grain direction forbids turning it)"
        zones = " clear of their defect zones" if any(slab.defects for slab in problem.slabs) else ""
        raise NestError(
            f"Piece {part.piece} (copy {part.copy}, {part.length:g} x {part.width:g} mm) fits no slab in stock"
            f"{turn}: slabs {sizes}, less a {margin:g} mm margin on every side{zones}. Add a seam to split it."
        )


def _remnant(margin: float, x: float, y: float, length: float, width: float) -> Remnant:
    """An offcut at (x, y) of the usable area, in slab coordinates."""
    return Remnant(x_mm=float(margin + x), y_mm=float(margin + y), length_mm=float(length), width_mm=float(width))


def _remnants(packed: OpenBin, kerf: float, margin: float) -> list[Remnant]:
    """The largest disjoint offcuts of at least REMNANT_MIN_MM on both sides, in slab coordinates."""
    # A free rectangle of the inflated bin is one kerf too long where it meets a part or the margin.
    candidates = sorted(((fx, fy, fw - kerf, fh - kerf) for fx, fy, fw, fh in packed.free
                         if fw - kerf >= REMNANT_MIN_MM - EPS and fh - kerf >= REMNANT_MIN_MM - EPS),
                        key=lambda r: (-r[2] * r[3], r[1], r[0]))
    chosen: list[tuple[float, float, float, float]] = []
    for rect in candidates:
        # MaxRects free rectangles overlap; keep a remnant only if it is separate from those kept.
        if all(rect[0] >= c[0] + c[2] or c[0] >= rect[0] + rect[2] or rect[1] >= c[1] + c[3]
               or c[1] >= rect[1] + rect[3] for c in chosen):
            chosen.append(rect)
        if len(chosen) == MAX_REMNANTS:
            break
    return [_remnant(margin, *rect) for rect in chosen]


def _layout(problem: Problem, index: int, slab: int, items: list[tuple[int, float, float, float]],
            remnants: list[Remnant]) -> SlabLayout:
    """A slab of the result: items are (part, tx, ty, rotation) with slab point = rotate(part point) + t + margin."""
    stock = problem.slabs[slab]
    margin = problem.margin
    placements = [Placement(piece=problem.parts[it].piece, copy=problem.parts[it].copy, x_mm=margin + tx,
                            y_mm=margin + ty, rotation_deg=float(rot))
                  for it, tx, ty, rot in sorted(items, key=lambda t: (t[2], t[1]))]
    area = sum(problem.areas[it] for it, *_ in items)
    slab_area = stock.length * stock.width
    return SlabLayout(slab_id=stock.id, index=index, length_mm=stock.length, width_mm=stock.width,
                      kind="remnant" if stock.kind == "remnant" else "full", placements=placements,
                      used_area_m2=round(area / 1e6, 4), yield_pct=round(100.0 * area / slab_area, 2),
                      remnants=remnants, used_area_sqft=round(area / 1e6 * SQFT_PER_M2, 3))


def _box_layouts(problem: Problem, sol: Solution) -> list[SlabLayout]:
    out = []
    for index, packed in enumerate(sol.bins, start=1):
        # Rotating +90° maps (x, y) to (-y, x): the bbox lands on x in [-width, 0], so shift by the width.
        items = [(it, x + (problem.parts[it].width if turned else 0.0), y, 90.0 if turned else 0.0)
                 for it, x, y, turned in packed.items]
        out.append(_layout(problem, index, packed.slab, items, _remnants(packed, problem.kerf, problem.margin)))
    return out


def _outline_layouts(problem: Problem, tolerance: float, time_limit_s: float, seed: int) -> list[SlabLayout] | None:
    """Free placement of the true outlines (engine.nest.outline), or None when stock runs out that way."""
    parts, margin = problem.parts, problem.margin
    outlines = [p.outline if p.outline and len(p.outline) >= 3
                else [(0.0, 0.0), (p.length, 0.0), (p.length, p.width), (0.0, p.width)] for p in parts]
    usable = [usable_size(s, margin) for s in problem.slabs]
    slabs = [(size[0], size[1], s.qty, cost) for size, s, cost in zip(usable, problem.slabs, problem.slab_cost)]
    zones = [[[(x - margin, y - margin) for x, y in zone] for zone in s.defects] for s in problem.slabs]
    result = nest_outlines(outlines, problem.areas, [p.can_rotate for p in parts], [p.piece for p in parts], slabs,
                           kerf=problem.kerf, tolerance=tolerance, time_limit_s=time_limit_s, seed=seed,
                           obstacles=zones)
    if result is None:
        return None
    bins, cell = result
    out = []
    for index, packed in enumerate(bins, start=1):
        rem = [_remnant(margin, *rect)
               for rect in packed.remnants(cell, problem.kerf, usable[packed.slab], REMNANT_MIN_MM, MAX_REMNANTS)]
        out.append(_layout(problem, index, packed.slab, packed.items, rem))
    return out


def _cost(problem: Problem, layouts: list[SlabLayout]) -> tuple[float, int, float]:
    """Fewest (cheapest) slabs; then the largest offcut left on the last slab (bigger is better)."""
    by_id = {s.id: cost for s, cost in zip(problem.slabs, problem.slab_cost)}
    last = max((r.length_mm * r.width_mm for r in layouts[-1].remnants), default=0.0) if layouts else 0.0
    return round(sum(by_id[lay.slab_id] for lay in layouts), 6), len(layouts), -last


def nest(parts: list[Part], slabs: list[StockSlab], *, kerf: float, margin: float, guillotine: bool,
         prefer_remnants: bool, time_limit_s: float, seed: int, tolerance: float = 0.0) -> Slabs:
    """Place every part on slabs from `slabs`, fewest (cheapest) slabs first; raises NestError if impossible.

    Free placement (`guillotine` False) of parts with shaped outlines also nests the true outlines, grown by
    `tolerance` (how far the real edge may lie outside `outline`, e.g. arcs drawn as chords), and keeps that
    layout when it needs fewer or cheaper slabs or leaves a larger offcut than the bounding-box one.
    """
    if not parts:
        return Slabs(area_bound=0, used=0, yield_pct=0.0, layouts=[])
    if not slabs:
        raise NestError("No slabs in stock to nest the pieces on.")
    keys = [p.key for p in parts]
    if len(set(keys)) != len(keys):
        raise NestError("Part keys must be unique.")
    problem = Problem(parts, slabs, kerf, margin, guillotine, prefer_remnants)
    _check_fits(problem, margin)
    bound = lower_bound(parts, slabs, margin)
    shaped = not guillotine and any(is_shaped(p.outline, p.length, p.width) for p in parts)
    start = time.monotonic()
    best = search(problem, bound, time_limit_s / 2 if shaped else time_limit_s, seed)
    layouts = _box_layouts(problem, best) if best is not None else None
    if shaped:  # the outlines get what the bounding-box search left of the time
        alt = _outline_layouts(problem, tolerance, time_limit_s - (time.monotonic() - start), seed)
        if alt is not None and (layouts is None or _cost(problem, alt) < _cost(problem, layouts)):
            layouts = alt
    if layouts is None:
        stock = ", ".join(f"{s.qty} x {s.id}" for s in slabs if s.qty is not None)
        raise NestError(f"Not enough slabs in stock for all pieces ({stock}).")
    total_part = sum(problem.areas)
    total_slab = sum(lay.length_mm * lay.width_mm for lay in layouts)
    return Slabs(area_bound=bound, used=len(layouts), yield_pct=round(100.0 * total_part / total_slab, 2),
                 layouts=layouts)
