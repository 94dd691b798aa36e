"""The figures a fabricator checks: areas, finished edge by profile, cutouts, weight (JOB_SPEC.md)."""

from __future__ import annotations

from collections import Counter, defaultdict

from shapely import unary_union

from engine import geometry
from engine.drawing.units import FT_PER_M, LB_PER_KG, SQFT_PER_M2
from engine.model import CutoutCounts, Finding, PieceSummary, Slabs, Summary
from engine.spec import JobSpec, Piece, to_mm

UNSPECIFIED_PROFILE = "unspecified"


class PieceFigures:
    """Full-precision figures for one copy of a piece (mm, mm²)."""

    def __init__(self, piece: Piece) -> None:
        self.length_mm = self.depth_mm = 0.0
        self.gross_mm2 = self.net_mm2 = 0.0
        self.finished_mm = 0.0
        self.by_profile_mm: dict[str, float] = defaultdict(float)
        try:
            outline = geometry.outline(piece)
        except geometry.GeometryError:
            return  # check() reports why; an unbuildable piece contributes nothing
        poly = outline.polygon()
        if not poly.is_valid or poly.area <= 0:
            return
        minx, miny, maxx, maxy = geometry.bbox(outline.segs)
        self.length_mm, self.depth_mm = maxx - minx, maxy - miny
        self.gross_mm2 = geometry.area(outline.segs)
        # Only cutouts lying inside the piece remove stone; one reaching past an edge is an error, not a hole.
        holes, hole_area = [], 0.0
        cover = poly.buffer(1e-6)
        for cutout in piece.cutouts:
            if geometry.cutout_missing(cutout):
                continue
            segs = geometry.cutout_segs(cutout)
            hole = geometry.to_polygon(segs)
            if cover.covers(hole):
                holes.append(hole)
                hole_area += geometry.area(segs)
        self.net_mm2 = self.gross_mm2 - hole_area
        if len(holes) > 1 and unary_union(holes).area < sum(hole.area for hole in holes) - 1.0:
            # overlapping cutouts (an error check() reports): count shared stone once
            self.net_mm2 = self.gross_mm2 - unary_union(holes).area
        for span in outline.spans:
            if span.kind == "finished":
                length = span.seg.length()
                self.finished_mm += length
                self.by_profile_mm[span.profile or UNSPECIFIED_PROFILE] += length


def summarize(job: JobSpec, layout: Slabs | None, findings: list[Finding] | None = None) -> Summary:
    """Totals over pieces x qty for a job as given; `findings` defaults to `check(job)`."""
    if findings is None:
        from engine.checks import check  # deferred: checks need summary nowhere, summary needs checks only here

        findings = check(job)
    mm = to_mm(job)
    gross = net = finished = 0.0
    by_profile: dict[str, float] = defaultdict(float)
    cut_types: Counter[str] = Counter()
    pieces: list[PieceSummary] = []
    for piece in mm.pieces:
        figures = PieceFigures(piece)
        qty = piece.qty
        gross += figures.gross_mm2 * qty
        net += figures.net_mm2 * qty
        finished += figures.finished_mm * qty
        for profile, length in figures.by_profile_mm.items():
            by_profile[profile] += length * qty
        own = Counter(cutout.type for cutout in piece.cutouts)
        for kind, count in own.items():
            cut_types[kind] += count * qty
        pieces.append(PieceSummary(
            id=piece.id, type=piece.type, qty=qty, label=piece.label,
            length_mm=round(figures.length_mm, 3), depth_mm=round(figures.depth_mm, 3),
            area_gross_m2=round(figures.gross_mm2 / 1e6, 4), area_net_m2=round(figures.net_mm2 / 1e6, 4),
            finished_edge_m=round(figures.finished_mm / 1000, 3),
            finished_edge_by_profile_m={profile: round(length / 1000, 3)
                                        for profile, length in sorted(figures.by_profile_mm.items())},
            cutouts=CutoutCounts(total=sum(own.values()), by_type=dict(sorted(own.items()))),
            area_gross_sqft=round(figures.gross_mm2 / 1e6 * SQFT_PER_M2, 3),
            area_net_sqft=round(figures.net_mm2 / 1e6 * SQFT_PER_M2, 3),
            finished_edge_ft=round(figures.finished_mm / 1000 * FT_PER_M, 3),
            finished_edge_by_profile_ft=_feet(figures.by_profile_mm),
        ))
    thickness_m = mm.material.thickness / 1000
    weight_kg = net / 1e6 * thickness_m * mm.material.density_kg_m3
    return Summary(
        job_id=job.job.id,
        units=job.units,
        area_gross_m2=round(gross / 1e6, 4),
        area_net_m2=round(net / 1e6, 4),
        area_gross_sqft=round(gross / 1e6 * SQFT_PER_M2, 3),
        area_net_sqft=round(net / 1e6 * SQFT_PER_M2, 3),
        finished_edge_m=round(finished / 1000, 3),
        finished_edge_ft=round(finished / 1000 * FT_PER_M, 3),
        finished_edge_by_profile_m={profile: round(length / 1000, 3) for profile, length in sorted(by_profile.items())},
        cutouts=CutoutCounts(total=sum(cut_types.values()), by_type=dict(sorted(cut_types.items()))),
        weight_kg=round(weight_kg, 1),
        pieces=pieces,
        slabs=layout,
        warnings=[found for found in findings if found.severity == "warning"],
        errors=[found for found in findings if found.severity == "error"],
        finished_edge_by_profile_ft=_feet(by_profile),
        weight_lb=round(weight_kg * LB_PER_KG, 1),
    )


def _feet(by_profile_mm: dict[str, float]) -> dict[str, float]:
    return {profile: round(length / 1000 * FT_PER_M, 3) for profile, length in sorted(by_profile_mm.items())}
