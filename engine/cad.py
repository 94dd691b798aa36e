"""The CAD stage: check a job, nest its pieces on slabs, summarise, and draw the DXF, SVG and 3D artifacts."""

from __future__ import annotations

import math
import re

import msgspec

from engine import geometry
from engine.checks import can_rotate, check
from engine.dxf import piece_dxf, slab_dxf
from engine.pricing import Catalogue, price, unpriced_names
from engine.model import Artifact, CadResult, EngineError, Finding, Slabs
from engine.model3d import MODEL_NAME, MODEL_TYPE, model_glb
from engine.seams import place_seams
from engine.spec import JobSpec, to_mm
from engine.summary import summarize
from engine.svg import piece_svg, slab_svg

__all__ = ["check", "file_stem", "nest_job", "run_cad"]

DXF_TYPE = "image/vnd.dxf"
SVG_TYPE = "image/svg+xml"
NEST_SAGITTA_MM = 0.5  # arcs as chords for the nester (areas, free placement); it grows outlines by this much
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def file_stem(piece_id: str) -> str:
    """A piece id made safe for a file name: only [A-Za-z0-9._-], never empty or hidden."""
    stem = _UNSAFE.sub("_", piece_id).strip("._") or "piece"
    return stem[:64]


def nest_job(job_mm: JobSpec) -> Slabs:
    """Nest every piece copy on the slab stock; placements come back in each piece's own frame."""
    from engine.nest import Part, StockSlab, nest  # imported here so check() never needs the nester

    parts: list[Part] = []
    offsets: dict[str, tuple[float, float]] = {}
    rotate = can_rotate(job_mm)
    for piece in job_mm.pieces:
        outline = geometry.outline(piece)
        minx, miny, maxx, maxy = geometry.bbox(outline.segs)
        offsets[piece.id] = (minx, miny)
        pts = [(x - minx, y - miny) for x, y in list(outline.polygon(NEST_SAGITTA_MM).exterior.coords)[:-1]]
        for copy in range(1, piece.qty + 1):
            parts.append(Part(key=f"{piece.id}#{copy}", piece=piece.id, copy=copy, length=maxx - minx,
                              width=maxy - miny, can_rotate=rotate, outline=pts))
    if isinstance(job_mm.slab_stock, str):  # the pipeline puts the yard's slabs here before the CAD stage
        raise EngineError('"slab_stock": "inventory" is nested on the shop\'s yard, which only the pipeline reads')
    stock = [StockSlab(id=s.id, length=s.length, width=s.width, qty=s.qty, kind=s.kind,
                       defects=job_mm.defect_outlines(s.id)) for s in job_mm.slab_stock]
    options = job_mm.options
    slabs = nest(parts, stock, kerf=options.kerf, margin=options.slab_margin, guillotine=job_mm.guillotine,
                 prefer_remnants=options.prefer_remnants, time_limit_s=options.time_limit_s, seed=options.seed,
                 tolerance=NEST_SAGITTA_MM)
    # The nester places bboxes whose min corner is (0, 0); a piece whose outline does not start at its origin
    # (negative vertices, an arc bulging past x=0) must be shifted back by its rotated bbox offset.
    layouts = []
    for layout in slabs.layouts:
        placements = []
        for p in layout.placements:
            mx, my = offsets[p.piece]
            a = math.radians(p.rotation_deg)
            rx, ry = mx * math.cos(a) - my * math.sin(a), mx * math.sin(a) + my * math.cos(a)
            placements.append(msgspec.structs.replace(p, x_mm=round(p.x_mm - rx, 3), y_mm=round(p.y_mm - ry, 3)))
        layouts.append(msgspec.structs.replace(layout, placements=placements))
    return msgspec.structs.replace(slabs, layouts=layouts)


def _error_message(errors: list[Finding]) -> str:
    head = f"The job has {len(errors)} error{'s' if len(errors) != 1 else ''}; no files were made"
    return head + ": " + " ".join(f"[{f.path}] {f.message}" for f in errors[:20]) + (" ..." if len(errors) > 20 else "")


def run_cad(job: JobSpec, catalogue: Catalogue | None = None) -> CadResult:
    """Check, place seams (`options.auto_seams`), nest, summarise, price and draw a job; raises EngineError on
    check() errors or failed nesting.

    The quote uses the job's own `pricing` over the shop's `catalogue` (None: the job's pricing alone).
    """
    findings = check(job)
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        raise EngineError(_error_message(errors), errors)
    placed = place_seams(job, lambda split: nest_job(to_mm(split))) if job.options.auto_seams else None
    if placed is not None:
        job = placed.job  # from here on the job's pieces are the parts the seams make
    slabs = placed.slabs if placed is not None and placed.slabs is not None else nest_job(to_mm(job))
    summary = summarize(job, slabs, findings)
    if placed is not None:
        summary = msgspec.structs.replace(summary, seams=placed.seams)
    priced = price(job, summary, catalogue)
    summary = msgspec.structs.replace(summary, quote=priced.quote, warnings=[
        *summary.warnings, *priced.findings, *unpriced_names(job, summary, catalogue)])
    outputs = job.options.outputs
    artifacts: list[Artifact] = []
    used: set[str] = set()
    for i, piece in enumerate(job.pieces):
        stem = f"piece-{file_stem(piece.id)}"
        if stem in used:  # two ids that sanitise alike ("A/1", "A_1") must not overwrite each other
            stem = f"{stem}-{i + 1}"
        used.add(stem)
        if outputs.dxf:
            artifacts.append(Artifact(f"{stem}.dxf", DXF_TYPE, piece_dxf(job, i)))
        if outputs.svg:
            artifacts.append(Artifact(f"{stem}.svg", SVG_TYPE, piece_svg(job, i)))
    for layout in slabs.layouts:
        if outputs.dxf:
            artifacts.append(Artifact(f"slab-{layout.index}.dxf", DXF_TYPE, slab_dxf(job, layout)))
        if outputs.svg:
            artifacts.append(Artifact(f"slab-{layout.index}.svg", SVG_TYPE, slab_svg(job, layout)))
    if outputs.glb:
        artifacts.append(Artifact(MODEL_NAME, MODEL_TYPE, model_glb(job)))
    if outputs.renders:
        from engine.render3d import PNG_TYPE, VIEW_NAMES, model_views  # matplotlib loads only when asked for

        artifacts.extend(Artifact(VIEW_NAMES[view], PNG_TYPE, png) for view, png in model_views(job).items())
    return CadResult(summary=summary, artifacts=artifacts)
