"""Fabricator checks on a job: errors that make it invalid, warnings a shop should see (JOB_SPEC.md, 'Rules').

`check()` runs on every API submission, so the work is bounded: cutout pairs go through an STRtree, arcs are
discretised coarsely, and the overhang check samples the outline rather than comparing every pair of points.
One module per rule family: `pieces` (outline, slab fit, inside corners), `joins`, `cutouts`, `overhang`;
`common` holds the thresholds and the wording.
"""

from __future__ import annotations

from shapely.geometry import Polygon

from engine import geometry
from engine.checks.common import LengthFormat, Thresholds, can_rotate, thresholds_mm
from engine.checks.cutouts import check_cutouts
from engine.checks.joins import check_joins
from engine.checks.overhang import check_overhang
from engine.checks.pieces import check_inside_corners, check_piece_shape, check_slab_fit
from engine.model import Finding
from engine.spec import JobSpec, to_mm

__all__ = ["Thresholds", "can_rotate", "check", "thresholds_mm"]


def check(job: JobSpec) -> list[Finding]:
    """Every error and warning for a job as given; messages use the job's own units."""
    fmt = LengthFormat(job.units)
    mm = to_mm(job)
    limits = thresholds_mm(mm)
    findings: list[Finding] = []
    # The outline and its polygon are built once per piece: every rule below reads them.
    shapes: list[tuple[geometry.Outline, Polygon] | None] = []
    by_id: dict[str, geometry.Outline] = {}
    for pi, piece in enumerate(mm.pieces):
        path = f"pieces[{pi}]"
        duplicate = any(other.id == piece.id for other in mm.pieces[:pi])
        if duplicate:
            findings.append(Finding("UNKNOWN_REFERENCE", path, f"Piece id {piece.id} is used twice; ids must be unique."))
        shape = check_piece_shape(piece, path, fmt, findings)
        shapes.append(shape)
        if shape is None:
            continue
        outline, poly = shape
        by_id.setdefault(piece.id, outline)
        check_slab_fit(mm, piece, poly, limits, path, fmt, findings)
        check_inside_corners(piece, limits, path, fmt, findings)
    seams = check_joins(mm, by_id, findings, job.units)
    for pi, (piece, shape) in enumerate(zip(mm.pieces, shapes)):
        if shape is None:
            continue
        outline, poly = shape
        own = seams.get(piece.id, []) if by_id.get(piece.id) is outline else []
        check_cutouts(piece, outline, poly, own, limits, f"pieces[{pi}]", fmt, findings)
        check_overhang(mm, piece, outline, poly, limits, f"pieces[{pi}]", fmt, findings)
    return findings
