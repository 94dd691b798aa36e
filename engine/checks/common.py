"""What every rule family uses: the thresholds in mm, lengths written in the job's units, and the names a
fabricator reads in a message (a cutout's, an edge's)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine import geometry
from engine.spec import DEFAULT_RULES_MM, MM_PER_INCH, JobSpec, Piece, RectShape, max_overhang_mm

__all__ = ["CHECK_PER_CIRCLE", "CHECK_SAGITTA_MM", "CUTOUT_NAMES", "SINK_TYPES", "LengthFormat", "Thresholds",
           "can_rotate", "cutout_name", "nearest_edge", "side_word", "thresholds_mm"]

# Coarser than drawing quality: distances matter to the millimetre, not to 0.05 mm, and checks must be fast.
CHECK_SAGITTA_MM = 0.2
CHECK_PER_CIRCLE = 32

CUTOUT_NAMES = {
    "undermount_sink": "Sink", "dropin_sink": "Sink", "farm_sink": "Farm sink", "cooktop": "Cooktop",
    "faucet_hole": "Faucet hole", "soap_hole": "Soap hole", "outlet": "Outlet", "custom": "Cutout",
}
SINK_TYPES = frozenset({"undermount_sink", "dropin_sink", "farm_sink", "cooktop"})  # what min_sink_to_seam covers
SIDE_WORDS = {"front": "front edge", "right": "right edge", "back": "back edge", "left": "left edge"}


@dataclass(frozen=True)
class Thresholds:
    """The rule thresholds of one job in mm: spec's `Rules` (job units, None for the default) resolved."""

    min_cutout_to_edge: float
    min_hole_to_edge: float
    min_web_between_cutouts: float
    min_cutout_to_seam: float
    min_inside_corner_radius: float
    min_seam_to_inside_corner: float
    max_unsupported_overhang: float
    min_sink_to_seam: float  # sinks and cooktops: never less than min_cutout_to_seam

    def cutout_to_seam(self, cutout_type: str) -> float:
        """How far a seam stays from a cutout of this type."""
        return self.min_sink_to_seam if cutout_type in SINK_TYPES else self.min_cutout_to_seam


def thresholds_mm(job_mm: JobSpec) -> Thresholds:
    """Effective thresholds (mm) for a job already in mm."""
    given = job_mm.options.rules
    values = {name: getattr(given, name) if getattr(given, name) is not None else default
              for name, default in DEFAULT_RULES_MM.items()}
    overhang = given.max_unsupported_overhang
    values["max_unsupported_overhang"] = overhang if overhang is not None else max_overhang_mm(job_mm.material.thickness)
    values["min_sink_to_seam"] = max(given.min_sink_to_seam or 0.0, values["min_cutout_to_seam"])
    return Thresholds(**values)


class LengthFormat:
    """Lengths in the job's own units, as a fabricator would write them."""

    def __init__(self, units: str) -> None:
        self.units = units

    def __call__(self, mm: float) -> str:
        if self.units == "in":
            return f'{mm / MM_PER_INCH:.2f}"'.replace('.00"', '"')
        return f"{mm:.0f} mm" if abs(mm - round(mm)) < 0.05 or abs(mm) >= 100 else f"{mm:.1f} mm"


def can_rotate(job: JobSpec) -> bool:
    """Pieces may be turned on the slab unless the vein or grain direction must be kept."""
    keep = job.options.grain is not None and job.options.grain.keep_direction
    return not (job.material.vein == "directional" or keep)


def cutout_name(piece: Piece, index: int) -> str:
    """'Sink S1' style name of a cutout."""
    cutout = piece.cutouts[index]
    return f"{CUTOUT_NAMES.get(cutout.type, 'Cutout')} {cutout.id}"


def side_word(piece: Piece, edge: int) -> str:
    """'right edge' for a rect side, 'edge 2' for a polygon edge."""
    if isinstance(piece.shape, RectShape):
        return SIDE_WORDS[geometry.edge_names(piece)[edge]]
    return f"edge {edge}"


def nearest_edge(piece: Piece, outline: geometry.Outline, point: tuple[float, float]) -> int | None:
    """Index of the original edge nearest a point (for 'past the right edge' messages)."""
    best, best_dist = None, math.inf
    for span in outline.spans:
        if span.edge is None:
            continue
        dist = span.seg.distance_to(point)
        if dist < best_dist:
            best, best_dist = span.edge, dist
    return best
