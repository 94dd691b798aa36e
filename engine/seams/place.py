"""`options.auto_seams` in the CAD stage: plan each piece no slab holds, choose the plans that nest on the
fewest slabs, split the job, and say where each seam is and why."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engine import geometry
from engine.checks.common import CUTOUT_NAMES, LengthFormat, thresholds_mm
from engine.model import EngineError, Finding, Seam, Slabs
from engine.seams.plan import ZONE_WORDS, PiecePlans, Plan, SeamError, plan_piece
from engine.seams.split import split_job
from engine.spec import MM_PER_INCH, JobSpec, Piece, to_mm

__all__ = ["Placed", "apply_seams", "place_seams"]

MAX_NESTS = 6  # plans compared by nesting the whole job; the first is the one farthest from cutouts


@dataclass(frozen=True)
class Placed:
    job: JobSpec  # with each seamed piece replaced by its parts (the job as given when none needed a seam)
    seams: list[Seam]
    slabs: Slabs | None  # the nest of the chosen plans (None when nothing was split)


def _in_units(job: JobSpec, x_mm: float) -> float:
    return round(x_mm / MM_PER_INCH if job.units == "in" else x_mm, 6)


def apply_seams(job: JobSpec, seams: list[Seam]) -> JobSpec:
    """The job split at the summary's seams: the PDF stage draws the parts the CAD stage made."""
    positions: dict[str, list[float]] = {}
    for seam in seams:
        positions.setdefault(seam.piece, []).append(seam.position)
    return split_job(job, positions)[0]


def place_seams(job: JobSpec, nest: Callable[[JobSpec], Slabs]) -> Placed:
    """Split every piece no slab can hold, at the positions that keep the rules, with the fewest seams, then the
    fewest slabs (`nest` a split job), then farthest from cutouts. Raises EngineError when a piece has no plan."""
    mm = to_mm(job)
    if not isinstance(mm.slab_stock, list):  # slabs not known here (a yard the pipeline resolves): nothing to fit
        return Placed(job, [], None)
    rules, fmt = thresholds_mm(mm), LengthFormat(job.units)
    plans: dict[str, PiecePlans] = {}
    pieces: dict[str, Piece] = {}
    for i, piece in enumerate(mm.pieces):
        if piece.id in plans:
            continue
        try:
            found = plan_piece(mm, piece, rules, fmt)
        except SeamError as err:
            message = f"No seam on piece {piece.id} keeps the rules: {err}."  # check() says this on submission
            raise EngineError(message, [Finding("PIECE_LARGER_THAN_SLABS", f"pieces[{i}]", message)]) from None
        if found.plans:
            plans[piece.id], pieces[piece.id] = found, piece
    if not plans:
        return Placed(job, [], None)
    choice = {pid: found.plans[0] for pid, found in plans.items()}

    failures: list[EngineError] = []

    def attempt(chosen: dict[str, Plan]) -> tuple[JobSpec, Slabs | None]:
        from engine.nest import NestError  # here, so check() (which plans too) never loads the nester

        split = split_job(job, {pid: [_in_units(job, x) for x in plan.xs] for pid, plan in chosen.items()})[0]
        try:
            return split, nest(split)
        except NestError as err:
            failures.append(err)
            return split, None

    best_job, best = attempt(choice)
    budget = MAX_NESTS - 1
    for pid, found in plans.items():
        for plan in found.plans[1:]:
            if budget <= 0:
                break
            budget -= 1
            trial = {**choice, pid: plan}
            split, slabs = attempt(trial)
            if slabs is not None and (best is None or slabs.used < best.used):
                choice, best_job, best = trial, split, slabs
    if best is None:  # the parts fit the slabs' sizes, but not the stock's count or around its defect zones
        raise EngineError(f"{failures[0]} (options.auto_seams places seams by the slabs' sizes; it cannot make the "
                          "parts fit around defect zones or within the stock's quantities)", failures[0].findings)
    parts = split_job(job, {pid: [_in_units(job, x) for x in plan.xs] for pid, plan in choice.items()})[1]
    seams = [seam for pid, plan in choice.items()
             for seam in _describe(job, pieces[pid], plans[pid], plan, parts[pid], fmt)]
    return Placed(best_job, seams, best)


def _describe(job: JobSpec, piece: Piece, found: PiecePlans, plan: Plan, parts: list[str],
              fmt: LengthFormat) -> list[Seam]:
    """Each seam of a plan: where, which parts, why the piece needs it and the rules it keeps."""
    mm = to_mm(job)
    margin = mm.options.slab_margin
    largest = max(mm.slab_stock, key=lambda s: s.length * s.width)
    reason = (f"{piece.id} is {fmt(found.length_mm)} long and {fmt(found.depth_mm)} deep; no slab holds it whole "
              f"(the largest, {largest.id}, holds {fmt(largest.length - 2 * margin)} x "
              f"{fmt(largest.width - 2 * margin)} inside its {fmt(margin)} margin)")
    rules = found.rules
    out = []
    for k, x in enumerate(plan.xs):
        kept: list[str] = []
        cutout_gap = corner_gap = None
        near = []
        for cutout in piece.cutouts:
            if not geometry.cutout_missing(cutout):
                c0, _, c1, _ = geometry.bbox(geometry.cutout_segs(cutout))
                near.append((max(c0 - x, x - c1, 0.0), cutout))
        if near:
            cutout_gap, cutout = min(near, key=lambda t: t[0])
            name = f"{CUTOUT_NAMES.get(cutout.type, 'Cutout').lower()} {cutout.id}"
            kept.append(f"{fmt(cutout_gap)} from {name} (at least {fmt(rules.cutout_to_seam(cutout.type))})")
        if found.corners_x:
            corner_gap, cx = min((abs(x - c), c) for c in found.corners_x)
            kept.append(f"{fmt(corner_gap)} from the inside corner at {fmt(cx)} "
                        f"(at least {fmt(rules.min_seam_to_inside_corner)})")
        if piece.appliance_zones:
            zone = min(piece.appliance_zones, key=lambda z: max(z.start - x, x - z.end, 0.0))
            kept.append(f"clear of the {ZONE_WORDS[zone.type]} opening from {fmt(zone.start)} to {fmt(zone.end)}")
        out.append(Seam(piece=piece.id, parts=[parts[k], parts[k + 1]], position=_in_units(job, x),
                        position_mm=round(x, 3), reason=reason, rules=kept,
                        cutout_clearance=None if cutout_gap is None else _in_units(job, cutout_gap),
                        inside_corner_clearance=None if corner_gap is None else _in_units(job, corner_gap)))
    return out
