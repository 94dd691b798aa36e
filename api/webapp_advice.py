"""The web app's advice and price routes (FRONTEND_CONTRACT.md §4, §5): Studio's fabrication checks and its quote,
run in the API process (cheap and bounded, as every submission's checks are), no job and no external AI service.
Lengths in cm, as on every route of api/webapp.py, whose conversion to job spec v1 these share.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, post
from litestar.datastructures import State
from msgspec import Meta, Struct

from api.errors import InvalidJob, errors
from api.schemas import Problem
from api.webapp import CM, AIResult, AppCatalogue, app_job, body_doc, catalogue, decode
from engine.checks import check
from engine.model import Finding
from engine.pricing import quote, unpriced_names
from engine.spec import (RECT_SIDES, JobSpec, LegacyDims, LegacyEdges, LegacyNamed, LegacyRequest, RectSide,
                         SlabStock)
from engine.summary import summarize
from pipeline import store

Cm = Annotated[float, Meta(ge=0.01, le=10_000)]  # job spec v1's 0.01-100 000 mm, in the app's centimetres
ANALYSIS_SLAB_MM = (3200.0, 1600.0)  # the slab a design is checked against (legacy_to_v1's smallest stock)
HEAVY_KG = 80.0  # above this a top needs a lifting clamp or more than two people (an info finding)


class DesignRequest(Struct):
    """§4, lengths in cm; `material_density` in g/cm³ is used when the material is not in the catalogue."""

    length: Cm
    width: Cm
    height: Cm = 2.0
    material_density: Annotated[float, Meta(gt=0, le=10)] | None = None
    material_name: Annotated[str, Meta(max_length=200)] = ""
    order_unit: Annotated[str, Meta(max_length=20)] = "piece"


class DesignFinding(Struct):
    severity: Literal["error", "warning", "info"]
    code: str
    message: str
    suggestion: str


Edges = list[RectSide] | dict[RectSide, bool]


class PriceRequest(Struct):
    """§5, lengths in cm; items by catalogue id (GET /api/cad/materials etc.)."""

    length: Cm
    width: Cm
    height: Cm = 2.0
    quantity: Annotated[int, Meta(ge=1, le=1000)] = 1
    order_unit: Annotated[str, Meta(max_length=20)] = "piece"
    material_id: int | None = None
    finish_id: int | None = None
    profile_id: int | None = None
    processed_edges: Edges = []
    okapnik_edges: Edges = []
    bunja_edge_style: Annotated[str, Meta(max_length=64)] | None = None  # accepted; the catalogue has no bunja price
    has_special_bunja_edges: bool = False


class PriceResponse(Struct):
    surface_area: float  # m², all pieces
    weight: float  # kg
    material_cost: float
    processing_cost: float  # finish, fabrication and edges
    okapnik_cost: float  # drip grooves
    total_cost: float  # with VAT (net + vat)
    currency: str
    net: str
    vat: str
    vat_rate: str
    lines: list[Any]
    warnings: list[Problem] = []


# ---- design advice from the checks --------------------------------------------------------------

_SUGGESTIONS = {
    "CUTOUT_TOO_CLOSE_TO_EDGE": "Move the cutout away from that edge so at least the minimum of stone remains.",
    "CUTOUT_TOO_CLOSE_TO_SEAM": "Move the seam or the cutout so they are at least the minimum apart.",
    "WEB_TOO_NARROW": "Move the cutouts apart, or join them into one cutout.",
    "CUTOUTS_OVERLAP": "Merge the two cutouts into one, or move one of them.",
    "CUTOUT_OUTSIDE_PIECE": "Move the cutout inside the top.",
    "INSIDE_CORNER_TOO_SHARP": "Give the inside corner a radius (a CNC bit leaves at least 4 mm anyway).",
    "OVERHANG_NEEDS_SUPPORT": "Add a support bracket (corbel) every 600 mm under the overhang, or shorten it.",
    "UNKNOWN_MATERIAL": "Pick a material from the catalogue so the top can be priced.",
    "UNKNOWN_FINISH": "Pick a finish from the catalogue so it can be priced.",
    "UNKNOWN_PROFILE": "Pick an edge profile from the catalogue so its edges can be priced.",
}


def suggestion(finding: Finding) -> str:
    """What a fabricator would tell the customer; the checks' own advice where the message carries it."""
    if finding.code == "PIECE_LARGER_THAN_SLABS":
        advice = finding.message.rstrip(".").rsplit(". ", 1)[-1]
        return advice + "." if advice != finding.message.rstrip(".") else "Split the top into two pieces with a seam."
    if finding.code.startswith("UNKNOWN_") and "did you mean" in finding.message:
        return "Did you mean " + finding.message.rsplit("did you mean ", 1)[1]
    return _SUGGESTIONS.get(finding.code, "Check this with the workshop before ordering.")


def design_findings(job: JobSpec, cat: AppCatalogue) -> list[DesignFinding]:
    """check() on the job against a standard slab, the catalogue's unknown names, and the top's weight."""
    job = msgspec.structs.replace(job, slab_stock=[SlabStock(id="SLAB", length=ANALYSIS_SLAB_MM[0],
                                                             width=ANALYSIS_SLAB_MM[1])])
    findings = check(job)
    summary = summarize(job, None, findings)
    findings += unpriced_names(job, summary, cat.prices)
    out = [DesignFinding(severity=f.severity, code=f.code, message=f.message, suggestion=suggestion(f))
           for f in findings]
    if summary.weight_kg > HEAVY_KG:
        out.append(DesignFinding(severity="info", code="HEAVY_PIECE",
                                 message=f"The top weighs {summary.weight_kg:g} kg.",
                                 suggestion="Plan a lifting clamp or three people for carrying and installing it."))
    return out


class WebAppAdviceController(Controller):
    """The first backend's advice and price routes: checks and quote arithmetic in process, no job. Lengths in cm."""

    path = "/"
    tags = ["web app"]

    @post("/api/ai/analyze-design", operation_id="analyzeDesign", summary="Design warnings for one top (cm)",
          description=f"{CM} Studio's fabrication checks (no external AI), each with a fabricator's suggestion.",
          operation_class=body_doc(DesignRequest),
          responses=errors(400, 422), status_code=200)
    async def analyze_design(self, request: Request[Any, Any, Any], state: State) -> list[DesignFinding]:
        req: DesignRequest = decode(await request.body(), DesignRequest)
        cat = await catalogue(state)
        job = app_job(LegacyRequest(dims=LegacyDims(req.length, req.width, req.height),
                                    material=LegacyNamed(req.material_name)), "DESIGN", cat)
        if req.material_density and req.material_name not in cat.materials:
            job = msgspec.structs.replace(job, material=msgspec.structs.replace(
                job.material, density_kg_m3=req.material_density * 1000))
        return design_findings(job, cat)

    @post("/api/cad/ai/analyze_geometry", operation_id="analyzeGeometry", status_code=200,
          summary="Figures and fabrication findings for one top (cm)", description=CM,
          operation_class=body_doc(LegacyRequest), responses=errors(400, 422))
    async def analyze_geometry(self, request: Request[Any, Any, Any], state: State) -> AIResult:
        req: LegacyRequest = decode(await request.body(), LegacyRequest)
        cat = await catalogue(state)
        job = app_job(req, "GEOMETRY", cat)
        summary = summarize(job, None, check(job))
        return AIResult(success=True, result={
            "area_m2": summary.area_gross_m2, "weight_kg": summary.weight_kg,
            "finished_edge_m": summary.finished_edge_m,
            "perimeter_m": round(2 * (req.dims.length + req.dims.width) / 100, 3),
            "findings": msgspec.to_builtins(design_findings(job, cat))})

    @post("/api/pricing/calculate", operation_id="calculatePrice", status_code=200,
          summary="Price of a top (cm) from the catalogue, by item ids",
          description=f"{CM} The same quote as a job's (engine/pricing.py), in the catalogue's currency. Money is "
                      "JSON numbers here (the first backend's shape); `net`, `vat` and `lines` are exact strings.",
          operation_class=body_doc(PriceRequest),
          responses=errors(400, 422))
    async def calculate_price(self, request: Request[Any, Any, Any], state: State) -> PriceResponse:
        req: PriceRequest = decode(await request.body(), PriceRequest)
        names = await store.catalogue_names_by_id(state.pool, material_id=req.material_id, finish_id=req.finish_id,
                                                  profile_id=req.profile_id)
        for field, kind in (("material_id", "material"), ("finish_id", "finish"), ("profile_id", "profile")):
            if getattr(req, field) is not None and getattr(names, kind) is None:
                raise InvalidJob(f"no {kind} with id {getattr(req, field)}",
                                 [Problem(path=f"$.{field}", message=f"no {kind} with id {getattr(req, field)} in "
                                          "the catalogue (GET /api/cad/materials, /finishes, /profiles)")])
        sides = {key: [side for side in RECT_SIDES if side in edges and (not isinstance(edges, dict) or edges[side])]
                 for key, edges in (("p", req.processed_edges), ("o", req.okapnik_edges))}
        legacy = LegacyRequest(
            dims=LegacyDims(req.length, req.width, req.height), material=LegacyNamed(names.material or ""),
            finish=LegacyNamed(names.finish) if names.finish else None,
            profile=LegacyNamed(names.profile) if names.profile else None,
            processedEdges=LegacyEdges(**{side: True for side in sides["p"]}),
            okapnikEdges=LegacyEdges(**{side: True for side in sides["o"]}))
        cat = await catalogue(state)
        job = app_job(legacy, "PRICE", cat)
        job = msgspec.structs.replace(job, pieces=[msgspec.structs.replace(job.pieces[0], qty=req.quantity)])
        summary = summarize(job, None, [])
        quoted = quote(job, summary, cat.prices)
        lines = quoted.lines if quoted else []

        def total(*prefixes: str) -> float:
            amounts = (Decimal(line.amount) for line in lines if line.description.startswith(prefixes))
            return float(sum(amounts, Decimal(0)))

        return PriceResponse(
            surface_area=summary.area_gross_m2, weight=summary.weight_kg, material_cost=total("Material"),
            processing_cost=total("Finish", "Fabrication", "Edge"), okapnik_cost=total("Drip groove"),
            total_cost=float(quoted.total) if quoted else 0.0,
            currency=quoted.currency if quoted else (cat.prices.default_currency if cat.prices else None) or "EUR",
            net=quoted.net if quoted else "0.00", vat=quoted.vat if quoted else "0.00",
            vat_rate=quoted.vat_rate if quoted else "0",
            lines=msgspec.to_builtins(lines),
            warnings=[Problem(path=finding.path, message=finding.message, code=finding.code)
                      for finding in unpriced_names(job, summary, cat.prices)])
