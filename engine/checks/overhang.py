"""Overhang: stone past the cabinets farther than the limit for its thickness needs corbels or brackets."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import LinearRing, Polygon

from engine import geometry
from engine.checks.common import LengthFormat, Thresholds, nearest_edge, side_word
from engine.model import Finding
from engine.spec import JobSpec, Piece

__all__ = ["OVERHANG_SAMPLE_MM", "OVERHANG_TOLERANCE_MM", "check_overhang", "farthest_sample", "overhang_samples"]

OVERHANG_SAMPLE_MM = 10.0
MAX_OVERHANG_SAMPLES = 20_000
MAX_OVERHANG_PAIRS = 400_000  # samples x footprint segments numpy may pair up; above that GEOS goes point by point
OVERHANG_TOLERANCE_MM = 1e-6  # numpy's distances are within this of GEOS's (rounding is ~1e-10 mm at 10 m)


def farthest_sample(coords: np.ndarray, foot: Polygon, limit: float) -> tuple[int, float] | None:
    """The sample farthest from the footprint (first index, distance), or None when none is beyond `limit`.

    What `argmax(shapely.distance(shapely.points(coords), foot))` finds, to within OVERHANG_TOLERANCE_MM, without a
    GEOS point per sample (point by point, GEOS would be the costliest step of a submission's checks): numpy
    measures every sample against every segment of the footprint's rings, and GEOS only says which of the samples
    beyond `limit` are inside the footprint (distance 0). Above MAX_OVERHANG_PAIRS sample-segment pairs GEOS measures point by point instead.
    """
    parts = [] if foot.is_empty else [foot] if foot.geom_type == "Polygon" else \
        list(foot.geoms) if foot.geom_type == "MultiPolygon" else []
    rings = [np.asarray(ring.coords) for part in parts for ring in (part.exterior, *part.interiors)]
    if not rings or len(coords) * sum(len(ring) - 1 for ring in rings) > MAX_OVERHANG_PAIRS:
        dists = shapely.distance(shapely.points(coords), foot)
    else:
        # Segments down, samples across: numpy's inner loops then run along the samples, not the few segments.
        starts = np.concatenate([ring[:-1] for ring in rings])
        seg = np.concatenate([ring[1:] for ring in rings]) - starts
        ax, ay, ex, ey = (np.ascontiguousarray(column)[:, None]
                          for column in (starts[:, 0], starts[:, 1], seg[:, 0], seg[:, 1]))
        len2 = ex * ex + ey * ey
        dx = np.ascontiguousarray(coords[:, 0]) - ax
        dy = np.ascontiguousarray(coords[:, 1]) - ay
        frac = np.clip((dx * ex + dy * ey) / np.where(len2 > 0, len2, 1.0), 0.0, 1.0)  # the nearest point's fraction
        dx -= frac * ex
        dy -= frac * ey
        dists = np.sqrt((dx * dx + dy * dy).min(axis=0))
        beyond = np.flatnonzero(dists > limit)  # only these can be the answer; those inside the footprint are at 0
        dists[beyond[shapely.intersects_xy(foot, coords[beyond, 0], coords[beyond, 1])]] = 0.0
    far = int(np.argmax(dists))
    worst = float(dists[far])
    return None if worst <= limit else (far, worst)


def overhang_samples(boundary: LinearRing, foot: Polygon) -> np.ndarray:
    """The points of the piece's outline whose distance to the footprint is measured: every OVERHANG_SAMPLE_MM.

    Under a convex footprint (most are: a run of cabinets is a rectangle) the outline's own vertices give the
    same farthest distance: the distance to a convex set is a convex function along a straight line, so along
    each side of the outline it is largest at one of the side's ends, and the points in between cannot beat both.
    """
    if foot.geom_type == "Polygon" and not foot.interiors and foot.convex_hull.area - foot.area <= 1e-9 * foot.area:
        return np.asarray(boundary.coords)
    step = max(OVERHANG_SAMPLE_MM, boundary.length / MAX_OVERHANG_SAMPLES)
    return np.asarray(shapely.segmentize(boundary, step).coords)


def check_overhang(job: JobSpec, piece: Piece, outline: geometry.Outline, poly: Polygon, limits: Thresholds,
                   path: str, fmt: LengthFormat, findings: list[Finding]) -> None:
    """Stone past the cabinets farther than the limit needs corbels or brackets."""
    if piece.support is None or not piece.support.cabinet_footprint:
        return
    foot = geometry.footprint_polygon(piece.support.cabinet_footprint)
    if not foot.is_valid:
        foot = foot.buffer(0)
    if foot.is_empty or foot.area < 1.0:  # points in a line or on top of each other: nothing to measure against
        findings.append(Finding("INVALID_FOOTPRINT", f"{path}.support.cabinet_footprint",
                                f"The cabinet footprint under {piece.id} has no area (its corners are in a line or "
                                "repeat); give the outline of the cabinets, at least three corners around them.",
                                "error"))
        return
    coords = overhang_samples(poly.exterior, foot)
    limit = limits.max_unsupported_overhang + 0.5  # half a millimetre: drawings are not that exact
    farthest = farthest_sample(coords, foot, limit)
    if farthest is None:
        return
    far, worst = farthest
    edge = nearest_edge(piece, outline, (coords[far][0], coords[far][1]))
    where = f" at the {side_word(piece, edge)}" if edge is not None else ""
    thick = fmt(job.material.thickness)
    findings.append(Finding("OVERHANG_NEEDS_SUPPORT", path,
                            f"{piece.id} overhangs its cabinets by {fmt(worst)}{where}; more than "
                            f"{fmt(limits.max_unsupported_overhang)} unsupported in {thick} stone needs corbels or "
                            "a support bracket.", "warning"))
