"""Joins between pieces: references that name real edges and ranges, and the seam lines they make."""

from __future__ import annotations

import re

from shapely.geometry import LineString

from engine import geometry
from engine.model import Finding
from engine.spec import MM_PER_UNIT, JobSpec, Piece

__all__ = ["JOIN_REF", "check_joins"]

JOIN_REF = re.compile(r"^(?P<piece>.+)\.(?P<edge>front|right|back|left|edge\d+)"
                      r"(?:\[(?P<a>\d+(?:\.\d+)?):(?P<b>\d+(?:\.\d+)?)\])?$")


def check_joins(job: JobSpec, outlines: dict[str, geometry.Outline], findings: list[Finding],
                units: str = "mm") -> dict[str, list[LineString]]:
    """Validate join references of a job in mm whose ranges are written in `units` (the job's own); returns the
    seam lines (mm, piece frame) per piece id."""
    seams: dict[str, list[LineString]] = {}
    pieces = {piece.id: piece for piece in job.pieces}
    for pid, outline in outlines.items():
        for span in outline.spans:
            if span.kind == "seam":
                seams.setdefault(pid, []).append(geometry.span_line(span))
    unit_mm = MM_PER_UNIT[units]  # to_mm leaves join references as written
    for ji, join in enumerate(job.joins):
        for ref in (join.a, join.b):
            match = JOIN_REF.match(ref)
            problem = None
            if not match:
                problem = f"'{ref}' is not PIECE.EDGE or PIECE.EDGE[from:to] (EDGE: front/right/back/left or edgeN)"
            elif match["piece"] not in pieces:
                problem = f"'{ref}' names piece {match['piece']}, which is not in this job"
            else:
                piece = pieces[match["piece"]]
                names = geometry.edge_names(piece)
                if match["edge"] not in names:
                    problem = f"'{ref}': piece {piece.id} has edges {', '.join(names[:6])}{'...' if len(names) > 6 else ''}"
                elif piece.id in outlines:
                    outline = outlines[piece.id]
                    edge = names.index(match["edge"])
                    length = outline.edge_lengths[edge]
                    start = float(match["a"]) * unit_mm if match["a"] else 0.0
                    end = float(match["b"]) * unit_mm if match["b"] else length
                    if end <= start or end > length + 0.5:
                        problem = f"'{ref}': the range must lie within the edge (0 to {length / unit_mm:g})"
                    else:
                        corners = len(outline.vertices)
                        start_pt, end_pt = outline.vertices[edge], outline.vertices[(edge + 1) % corners]
                        raw = geometry.Seg(start_pt, end_pt, _bulge(piece, edge))
                        span = geometry.Span(raw.sub(start / length, end / length), "seam", None, edge)
                        seams.setdefault(piece.id, []).append(geometry.span_line(span))
            if problem:
                findings.append(Finding("UNKNOWN_REFERENCE", f"joins[{ji}]", f"Join {ji}: {problem}."))
    return seams


def _bulge(piece: Piece, edge: int) -> float:
    _, bulges = geometry.raw_vertices(piece)
    return bulges[edge]
