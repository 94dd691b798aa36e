"""Work caps per job: what one request may ask the pipeline to cut, draw and nest.

The schema bounds each list (200 pieces, 500 vertices a polygon, 50 cutouts a piece, qty up to 1000); these caps
bound the job as a whole, where the work is: every copy of a piece is nested, drawn and priced. The largest
kitchen-and-bath order a shop sends is tens of pieces, so the caps leave a wide margin above real jobs while
keeping the largest accepted job well inside the stage timeout (docs/BENCHMARKS.md, "Largest accepted job").
"""

from __future__ import annotations

from typing import Literal

from engine.model import Finding
from engine.spec import JobSpec, PolygonShape

MAX_COPIES = 60  # sum of `qty` over the pieces
MAX_TOTAL_VERTICES = 3_000  # polygon vertices (and footprint vertices) over all pieces, each copy counted
MAX_TOTAL_CUTOUTS = 150  # cutouts over all pieces, each copy counted
MAX_FINDINGS_LISTED = 50  # errors or warnings listed in one answer; the rest are counted


def _vertices(piece) -> int:  # type: ignore[no-untyped-def]
    outline = len(piece.shape.vertices) if isinstance(piece.shape, PolygonShape) else 4
    footprint = len(piece.support.cabinet_footprint or ()) if piece.support is not None else 0
    return outline + len(piece.corners) + footprint


def limit_findings(job: JobSpec) -> list[Finding]:
    """One error per cap the job is over, naming the field that makes it big and the cap."""
    copies = sum(piece.qty for piece in job.pieces)
    vertices = sum(piece.qty * _vertices(piece) for piece in job.pieces)
    cutouts = sum(piece.qty * len(piece.cutouts) for piece in job.pieces)
    biggest = max(range(len(job.pieces)), key=lambda i: job.pieces[i].qty)
    problems = []
    if copies > MAX_COPIES:
        problems.append(Finding(
            code="TOO_MANY_COPIES", path=f"pieces[{biggest}].qty",
            message=f"The job asks for {copies} pieces in all (the sum of qty); one job holds at most "
                    f"{MAX_COPIES}. Split the order into several jobs."))
    if vertices > MAX_TOTAL_VERTICES:
        worst = max(range(len(job.pieces)), key=lambda i: job.pieces[i].qty * _vertices(job.pieces[i]))
        problems.append(Finding(
            code="TOO_MANY_VERTICES", path=f"pieces[{worst}].shape",
            message=f"The job's outlines have {vertices} vertices in all (each copy counted); one job holds at "
                    f"most {MAX_TOTAL_VERTICES}. Simplify the outlines or split the job."))
    if cutouts > MAX_TOTAL_CUTOUTS:
        worst = max(range(len(job.pieces)), key=lambda i: job.pieces[i].qty * len(job.pieces[i].cutouts))
        problems.append(Finding(
            code="TOO_MANY_CUTOUTS", path=f"pieces[{worst}].cutouts",
            message=f"The job has {cutouts} cutouts in all (each copy counted); one job holds at most "
                    f"{MAX_TOTAL_CUTOUTS}. Split the job."))
    return problems


def _listed(findings: list[Finding], severity: Literal["error", "warning"], where: str) -> list[Finding]:
    if len(findings) <= MAX_FINDINGS_LISTED:
        return findings
    rest = len(findings) - MAX_FINDINGS_LISTED
    return [*findings[:MAX_FINDINGS_LISTED],
            Finding(code=f"MORE_{severity.upper()}S", path="$", severity=severity,
                    message=f"{rest} more {severity}{'s' if rest > 1 else ''} not listed here{where}.")]


def listed_warnings(warnings: list[Finding]) -> list[Finding]:
    """At most MAX_FINDINGS_LISTED warnings, then one that counts the rest (the job itself keeps them all)."""
    return _listed(warnings, "warning", "; GET the job for all of them")


def listed_errors(errors: list[Finding]) -> list[Finding]:
    """At most MAX_FINDINGS_LISTED errors in a 422, then one that counts the rest."""
    return _listed(errors, "error", "")
