"""The shop web app's routes (FRONTEND_CONTRACT.md §2-§5): a thin adapter to and from job spec v1.

Every length these routes receive is in **centimetres**, as the app sends them; each body becomes a v1 job in
millimetres (lengths x 10) and goes through the one submission path (api/jobs.py `submit_job`: same checks, same
jobs table, same group commit, same workers). The synchronous routes then wait for the CAD stage through
LISTEN/NOTIFY (api/events.py), at most `SYNC_WAIT_S`; past that they answer 202 with the job's URLs and the job
carries on. The API process never runs the CAD stage itself; only the cheap, bounded fabrication checks and the
quote arithmetic (engine/checks.py, engine/pricing.py, as the submission path already does) run in process.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State, UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import ClientException
from litestar.params import Body
from litestar.response import Redirect
from msgspec import Meta, Struct

from api.errors import InvalidJob, errors
from api.jobs import TERMINAL, job_url, owner_of, submit_job
from api.schemas import Problem
from engine.checks import check
from engine.model import Finding
from engine.pricing import Catalogue, quote, unpriced_names
from engine.spec import (RECT_SIDES, Length, LegacyDims, LegacyEdges, LegacyNamed, LegacyRequest, Outputs,
                         RectSide, SlabStock, legacy_to_v1, JobSpec)
from engine.summary import summarize
from pipeline import store

MM_PER_CM = 10.0
SYNC_PRIORITY = 10  # someone is waiting on these: claimed before batch jobs (claim_jobs orders priority DESC)
RENDERS_SUPPORTED = "renders" in Outputs.__struct_fields__  # the PNG views arrive with the 3D model stage
ANALYSIS_SLAB_MM = (3200.0, 1600.0)  # the slab a design is checked against (legacy_to_v1's smallest stock)
HEAVY_KG = 80.0  # above this a top needs a lifting clamp or more than two people (an info finding)
CM = "Lengths are in centimetres (the app's units); Studio converts them to millimetres (x 10)."

# ---- bodies and answers -------------------------------------------------------------------------


class DrawingData(Struct):
    length: float  # cm, as sent
    width: float
    height: float
    material: str


class CADResponse(Struct):
    """The first backend's answer; `svg` is the base64 of the piece's SVG document. Extra fields are Studio's."""

    success: bool
    svg: str | None = None
    dxf_filename: str | None = None
    data: DrawingData | None = None
    error: str | None = None
    job_id: uuid.UUID | None = None
    status_url: str | None = None
    dxf_url: str | None = None
    warnings: list[Problem] = []
    quote: Any = None


class Pending(Struct):
    """202: the CAD stage did not finish within SYNC_WAIT_S; the job goes on, follow it at these URLs."""

    success: bool
    job_id: uuid.UUID
    status: str
    status_url: str
    events_url: str
    error: str


class ModelRequest(Struct):
    """§3: `{"dimensions", "material_name", "surface_finish_name", "edge_profile_name", "processed_edges", "okapnik_edges"}`."""

    dimensions: LegacyDims
    material_name: Annotated[str, Meta(max_length=200)] = ""
    surface_finish_name: Annotated[str, Meta(max_length=200)] | None = None
    edge_profile_name: Annotated[str, Meta(max_length=200)] | None = None
    processed_edges: Annotated[list[RectSide], Meta(max_length=4)] = []
    okapnik_edges: Annotated[list[RectSide], Meta(max_length=4)] = []

    def legacy(self) -> LegacyRequest:
        return LegacyRequest(
            dims=self.dimensions, material=LegacyNamed(self.material_name),
            finish=LegacyNamed(self.surface_finish_name) if self.surface_finish_name else None,
            profile=LegacyNamed(self.edge_profile_name) if self.edge_profile_name else None,
            processedEdges=LegacyEdges(**{s: True for s in self.processed_edges}),
            okapnikEdges=LegacyEdges(**{s: True for s in self.okapnik_edges}))


class GlbResponse(Struct):
    success: bool
    glb: str | None = None  # base64 of model.glb (binary glTF, metres)
    error: str | None = None
    job_id: uuid.UUID | None = None
    glb_url: str | None = None


class Render(Struct):
    name: str  # top, front, iso
    image: str  # base64 PNG


class RendersResponse(Struct):
    success: bool
    renders: list[Render] = []
    error: str | None = None
    job_id: uuid.UUID | None = None


class DesignRequest(Struct):
    """§4, lengths in cm; `material_density` in g/cm³ is used when the material is not in the catalogue."""

    length: Length
    width: Length
    height: Length = 2.0
    material_density: Annotated[float, Meta(gt=0, le=10)] | None = None
    material_name: Annotated[str, Meta(max_length=200)] = ""
    order_unit: Annotated[str, Meta(max_length=20)] = "piece"


class DesignFinding(Struct):
    severity: Literal["error", "warning", "info"]
    code: str
    message: str
    suggestion: str


class AIResult(Struct):
    success: bool
    result: Any = None
    error: str | None = None


Edges = list[RectSide] | dict[RectSide, bool]


class PriceRequest(Struct):
    """§5, lengths in cm; items by catalogue id (GET /api/cad/materials etc.)."""

    length: Length
    width: Length
    height: Length = 2.0
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


# ---- to and from job spec v1 --------------------------------------------------------------------


async def catalogue(state: State) -> Catalogue | None:
    raw = await store.get_catalogue(state.pool)
    return msgspec.json.decode(raw, type=Catalogue) if raw else None


def app_job(req: LegacyRequest, job_id: str, cat: Catalogue | None, *, renders: bool = False) -> JobSpec:
    """The app's body (cm) as a v1 job in mm; the material's density from the catalogue; CAD artifacts only."""
    d = req.dims
    mm = msgspec.structs.replace(req, dims=LegacyDims(length=d.length * MM_PER_CM, width=d.width * MM_PER_CM,
                                                      height=d.height * MM_PER_CM))
    job = legacy_to_v1(mm, job_id)
    known = cat.materials.get(job.material.name) if cat else None
    material = job.material
    if known is not None and known.density_kg_m3:
        material = msgspec.structs.replace(material, density_kg_m3=known.density_kg_m3)
    outputs: dict[str, Any] = {"pdf": None}  # the app shows the SVG and keeps the DXF; no shop-drawing PDF
    if renders:
        outputs["renders"] = True
    return msgspec.structs.replace(job, material=material, options=msgspec.structs.replace(
        job.options, outputs=msgspec.structs.replace(job.options.outputs, **outputs)))


def decode(body: bytes, kind: type[Any]) -> Any:
    try:
        return msgspec.json.decode(body, type=kind)
    except msgspec.ValidationError as exc:  # names the field: `$.dims.length`
        raise InvalidJob.from_validation(exc) from None
    except msgspec.DecodeError as exc:
        raise ClientException(detail=f"the body is not valid JSON: {exc}") from None


async def run_to_cad(request: Request[Any, Any, Any], state: State, job: JobSpec, body: bytes,
                     job_id: uuid.UUID) -> Response[Pending] | tuple[dict[str, Any], dict[str, bytes]]:
    """Submit, then wait (LISTEN/NOTIFY, at most SYNC_WAIT_S) for the CAD stage: the job row and its CAD files,
    or the 202 to send when the wait ran out."""
    loop = asyncio.get_running_loop()
    with state.hub.subscribe(job_id) as changes:  # before the insert: its notifications cannot be missed
        submitted = await submit_job(request, state, job_id, job, body, priority=SYNC_PRIORITY)
        deadline = loop.time() + state.settings.sync_wait_s
        read = True
        while True:
            if read:
                row = await store.get_job(state.pool, job_id, owner_of(request))
                if row is None or row["status"] in TERMINAL or row["stage"] != "cad":
                    break
            remaining = deadline - loop.time()
            if remaining <= 0:
                url = job_url(job_id)
                return Response(Pending(success=False, job_id=job_id, status=row["status"], status_url=url,
                                        events_url=f"{url}/events",
                                        error=f"still {row['status']} after {state.settings.sync_wait_s:g} s; "
                                              "the job goes on: follow status_url"),
                                status_code=202, headers={"Location": url})
            try:  # re-read at least every 5 s: a notification is a hint, lost ones happen on reconnects
                hint = await asyncio.wait_for(changes.get(), timeout=min(remaining, 5.0))
                read = b'"running"' not in hint.encode()  # a claim changes nothing we wait for
            except TimeoutError:
                read = True
    del submitted
    if row is None:
        raise ClientException(status_code=404, detail=f"job {job_id} was deleted while it ran")
    if row["status"] != "succeeded" and row["stage"] == "cad":
        return row, {}
    files = {f["name"]: bytes(f["data"]) for f in await store.list_stage_files(state.pool, job_id, "cad")}
    return row, files


def _failed(row: dict[str, Any]) -> str | None:
    if row["status"] != "succeeded" and row["stage"] == "cad":
        return row["last_error"] or f"the job was {row['status']}"
    return None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _warnings(row: dict[str, Any]) -> list[Problem]:
    return [Problem(path=w.get("path", ""), message=w.get("message", ""), code=w.get("code", "INVALID"))
            for w in row.get("warnings") or []]


async def drawing(request: Request[Any, Any, Any], state: State, body: bytes) -> Response[Any]:
    """generate-drawing and process-slab: a §2 body (cm) in, a CADResponse out."""
    req: LegacyRequest = decode(body, LegacyRequest)
    job_id = uuid.uuid4()
    job = app_job(req, str(job_id)[:8].upper(), await catalogue(state))
    outcome = await run_to_cad(request, state, job, body, job_id)
    if isinstance(outcome, Response):
        return outcome
    row, files = outcome
    data = DrawingData(length=req.dims.length, width=req.dims.width, height=req.dims.height,
                       material=req.material.name)
    url = job_url(job_id)
    if (error := _failed(row)) is not None:  # a permanent failure: 422, the app retries then tells the user
        return Response(CADResponse(success=False, data=data, error=error, job_id=job_id, status_url=url), status_code=422)
    stem = "piece-P1"
    return Response(CADResponse(
        success=True, svg=_b64(files[f"{stem}.svg"]), dxf_filename=f"{stem}.dxf", data=data, job_id=job_id,
        status_url=url, dxf_url=f"{url}/artifacts/{stem}.dxf", warnings=_warnings(row),
        quote=(row["summary"] or {}).get("quote")), status_code=200)


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


def suggestion(f: Finding) -> str:
    """What a fabricator would tell the customer; the checks' own advice where the message carries it."""
    if f.code == "PIECE_LARGER_THAN_SLABS":
        advice = f.message.rstrip(".").rsplit(". ", 1)[-1]
        return advice + "." if advice != f.message.rstrip(".") else "Split the top into two pieces with a seam."
    if f.code.startswith("UNKNOWN_") and "did you mean" in f.message:
        return "Did you mean " + f.message.rsplit("did you mean ", 1)[1]
    return _SUGGESTIONS.get(f.code, "Check this with the workshop before ordering.")


def design_findings(job: JobSpec, cat: Catalogue | None) -> list[DesignFinding]:
    """check() on the job against a standard slab, the catalogue's unknown names, and the top's weight."""
    job = msgspec.structs.replace(job, slab_stock=[SlabStock(id="SLAB", length=ANALYSIS_SLAB_MM[0],
                                                             width=ANALYSIS_SLAB_MM[1])])
    findings = check(job)
    summary = summarize(job, None, findings)
    findings += unpriced_names(job, summary, cat)
    out = [DesignFinding(severity=f.severity, code=f.code, message=f.message, suggestion=suggestion(f))
           for f in findings]
    if summary.weight_kg > HEAVY_KG:
        out.append(DesignFinding(severity="info", code="HEAVY_PIECE",
                                 message=f"The top weighs {summary.weight_kg:g} kg.",
                                 suggestion="Plan a lifting clamp or three people for carrying and installing it."))
    return out


# ---- the routes ---------------------------------------------------------------------------------


class WebAppController(Controller):
    """The first backend's drawing and model routes, each a job through the pipeline. Lengths in cm."""

    path = "/"
    tags = ["web app"]

    @post("/api/cad/generate-drawing", operation_id="generateDrawing", summary="Drawing of one top (cm), synchronously",
          description=f"{CM} Submits the job like /api/cad/generate and waits up to SYNC_WAIT_S for its CAD stage; "
                      "200 CADResponse, 202 with the job's URLs on time-out, 422 when the job fails.",
          responses=errors(400, 413, 422, 429))
    async def generate_drawing(self, request: Request[Any, Any, Any], state: State) -> Response[Any]:
        return await drawing(request, state, await request.body())

    @post("/api/cad/process-slab", operation_id="processSlab", summary="Drawing from an uploaded JSON file (cm)",
          description=f"{CM} Multipart upload, field `file`: a JSON file shaped like generate-drawing's body.",
          responses=errors(400, 413, 422))
    async def process_slab(self, request: Request[Any, Any, Any], state: State,
                           data: Annotated[dict[str, UploadFile], Body(media_type=RequestEncodingType.MULTI_PART)]
                           ) -> Response[Any]:
        upload = data.get("file")
        if not isinstance(upload, UploadFile):
            raise ClientException(detail="file: send the job as a multipart file field named `file`")
        return await drawing(request, state, await upload.read())

    @post("/api/cad/export-glb", operation_id="exportGlb", summary="Binary glTF of one top (cm in, metres in glTF)",
          description=f"{CM} Waits for the CAD stage like generate-drawing; `glb` is the base64 of model.glb.",
          responses=errors(400, 422))
    async def export_glb(self, request: Request[Any, Any, Any], state: State) -> Response[Any]:
        return await self._model(request, state, renders=False)

    @post("/api/cad/render-3d", operation_id="render3d", summary="PNG views (top, front, isometric) of one top (cm)",
          description=f"{CM} Same body as export-glb; the CAD stage renders the views (no GPU).",
          responses=errors(400, 422))
    async def render_3d(self, request: Request[Any, Any, Any], state: State) -> Response[Any]:
        if not RENDERS_SUPPORTED:
            return Response(RendersResponse(success=False, error="this Studio release renders no PNG views "
                                            "(options.outputs has no `renders`)"), status_code=501)
        return await self._model(request, state, renders=True)

    async def _model(self, request: Request[Any, Any, Any], state: State, *, renders: bool) -> Response[Any]:
        body = await request.body()
        req: ModelRequest = decode(body, ModelRequest)
        job_id = uuid.uuid4()
        job = app_job(req.legacy(), str(job_id)[:8].upper(), await catalogue(state), renders=renders)
        outcome = await run_to_cad(request, state, job, body, job_id)
        if isinstance(outcome, Response):
            return outcome
        row, files = outcome
        answer = RendersResponse if renders else GlbResponse
        if (error := _failed(row)) is not None:
            return Response(answer(success=False, error=error, job_id=job_id), status_code=422)
        if renders:
            views = [Render(name=n.removeprefix("view-").removesuffix(".png"), image=_b64(d))
                     for n, d in sorted(files.items()) if n.startswith("view-") and n.endswith(".png")]
            return Response(RendersResponse(success=bool(views), renders=views, job_id=job_id,
                                            error=None if views else "the CAD stage made no views"),
                            status_code=200 if views else 501)
        if "model.glb" not in files:
            return Response(GlbResponse(success=False, job_id=job_id, error="this Studio release makes no "
                                        "model.glb (the 3D model stage is not installed)"), status_code=501)
        return Response(GlbResponse(success=True, glb=_b64(files["model.glb"]), job_id=job_id,
                                    glb_url=f"{job_url(job_id)}/artifacts/model.glb"), status_code=200)

    @post("/api/cad/ai/optimize_layout", operation_id="optimizeLayout", status_code=200,
          summary="Slab layout for one top (cm), from the CAD stage's nesting", description=CM,
          responses=errors(400, 422))
    async def optimize_layout(self, request: Request[Any, Any, Any], state: State) -> Response[Any]:
        body = await request.body()
        req: LegacyRequest = decode(body, LegacyRequest)
        job_id = uuid.uuid4()
        outcome = await run_to_cad(request, state, app_job(req, str(job_id)[:8].upper(), await catalogue(state)),
                                   body, job_id)
        if isinstance(outcome, Response):
            return outcome
        row, _ = outcome
        if (error := _failed(row)) is not None:
            return Response(AIResult(success=False, error=error), status_code=422)
        return Response(AIResult(success=True, result=row["summary"]["slabs"]), status_code=200)


class WebAppAdviceController(Controller):
    """The first backend's advice and price routes: checks and quote arithmetic in process, no job. Lengths in cm."""

    path = "/"
    tags = ["web app"]

    @post("/api/ai/analyze-design", operation_id="analyzeDesign", summary="Design warnings for one top (cm)",
          description=f"{CM} Studio's fabrication checks (no external AI), each with a fabricator's suggestion.",
          responses=errors(400, 422), status_code=200)
    async def analyze_design(self, request: Request[Any, Any, Any], state: State) -> list[DesignFinding]:
        req: DesignRequest = decode(await request.body(), DesignRequest)
        cat = await catalogue(state)
        job = app_job(LegacyRequest(dims=LegacyDims(req.length, req.width, req.height),
                                    material=LegacyNamed(req.material_name)), "DESIGN", cat)
        if req.material_density and (cat is None or req.material_name not in cat.materials):
            job = msgspec.structs.replace(job, material=msgspec.structs.replace(
                job.material, density_kg_m3=req.material_density * 1000))
        return design_findings(job, cat)

    @post("/api/cad/ai/analyze_geometry", operation_id="analyzeGeometry", status_code=200,
          summary="Figures and fabrication findings for one top (cm)", description=CM, responses=errors(400, 422))
    async def analyze_geometry(self, request: Request[Any, Any, Any], state: State) -> AIResult:
        req: LegacyRequest = decode(await request.body(), LegacyRequest)
        cat = await catalogue(state)
        job = app_job(req, "GEOMETRY", cat)
        s = summarize(job, None, check(job))
        return AIResult(success=True, result={
            "area_m2": s.area_gross_m2, "weight_kg": s.weight_kg, "finished_edge_m": s.finished_edge_m,
            "perimeter_m": round(2 * (req.dims.length + req.dims.width) / 100, 3),
            "findings": msgspec.to_builtins(design_findings(job, cat))})

    @post("/api/pricing/calculate", operation_id="calculatePrice", status_code=200,
          summary="Price of a top (cm) from the catalogue, by item ids",
          description=f"{CM} The same quote as a job's (engine/pricing.py), in the catalogue's currency. Money is "
                      "JSON numbers here (the first backend's shape); `net`, `vat` and `lines` are exact strings.",
          responses=errors(400, 422))
    async def calculate_price(self, request: Request[Any, Any, Any], state: State) -> PriceResponse:
        req: PriceRequest = decode(await request.body(), PriceRequest)
        names = await store.catalogue_names_by_id(state.pool, material_id=req.material_id, finish_id=req.finish_id,
                                                  profile_id=req.profile_id)
        for field, kind in (("material_id", "material"), ("finish_id", "finish"), ("profile_id", "profile")):
            if getattr(req, field) is not None and names[kind] is None:
                raise InvalidJob(f"no {kind} with id {getattr(req, field)}",
                                 [Problem(path=f"$.{field}", message=f"no {kind} with id {getattr(req, field)} in "
                                          "the catalogue (GET /api/cad/materials, /finishes, /profiles)")])
        sides = {k: [s for s in RECT_SIDES if s in e and (not isinstance(e, dict) or e[s])]
                 for k, e in (("p", req.processed_edges), ("o", req.okapnik_edges))}
        legacy = LegacyRequest(
            dims=LegacyDims(req.length, req.width, req.height), material=LegacyNamed(names["material"] or ""),
            finish=LegacyNamed(names["finish"]) if names["finish"] else None,
            profile=LegacyNamed(names["profile"]) if names["profile"] else None,
            processedEdges=LegacyEdges(**{s: True for s in sides["p"]}),
            okapnikEdges=LegacyEdges(**{s: True for s in sides["o"]}))
        cat = await catalogue(state)
        job = app_job(legacy, "PRICE", cat)
        job = msgspec.structs.replace(job, pieces=[msgspec.structs.replace(job.pieces[0], qty=req.quantity)])
        summary = summarize(job, None, [])
        q = quote(job, summary, cat)
        lines = q.lines if q else []

        def total(*prefixes: str) -> float:
            return float(sum((Decimal(ln.amount) for ln in lines if ln.description.startswith(prefixes)), Decimal(0)))

        return PriceResponse(
            surface_area=summary.area_gross_m2, weight=summary.weight_kg, material_cost=total("Material"),
            processing_cost=total("Finish", "Fabrication", "Edge"), okapnik_cost=total("Drip groove"),
            total_cost=float(q.total) if q else 0.0, currency=q.currency if q else (cat.currency if cat else "EUR"),
            net=q.net if q else "0.00", vat=q.vat if q else "0.00", vat_rate=q.vat_rate if q else "0",
            lines=msgspec.to_builtins(lines),
            warnings=[Problem(path=f.path, message=f.message, code=f.code)
                      for f in unpriced_names(job, summary, cat)])


def openapi_aliases() -> list[Any]:
    """FastAPI's default paths, which the first backend's clients know: /openapi.json and /redoc beside /docs."""
    @get("/openapi.json", operation_id="openapiJson", include_in_schema=False, sync_to_thread=False)
    def openapi_json(request: Request[Any, Any, Any]) -> dict[str, Any]:
        return request.app.openapi_schema.to_schema()

    @get("/redoc", operation_id="redoc", include_in_schema=False, sync_to_thread=False)
    def redoc() -> Redirect:
        return Redirect("/docs/redoc")

    return [openapi_json, redoc]
