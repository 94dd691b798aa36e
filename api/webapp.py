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
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State, UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import ClientException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody
from litestar.params import Body
from litestar.response import Redirect
from msgspec import Meta, Struct

from api.errors import InvalidJob, errors
from api.jobs import TERMINAL, job_url, owner_of, submit_job
from api.openapi import REF, RawSchema
from api.schemas import ErrorBody, Problem
from api.security import PUBLIC
from engine.pricing import Catalogue
from engine.spec import JobSpec, LegacyDims, LegacyEdges, LegacyNamed, LegacyRequest, RectSide, legacy_to_v1
from pipeline import store
from pipeline.rows import JobRow

MM_PER_CM = 10.0
SYNC_PRIORITY = 10  # someone is waiting on these: claimed before batch jobs (claim_jobs orders priority DESC)
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
    """§3: dimensions (cm), material_name, surface_finish_name, edge_profile_name, processed_edges, okapnik_edges."""

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


class AIResult(Struct):
    success: bool
    result: Any = None
    error: str | None = None


# ---- the bodies in the OpenAPI document ----------------------------------------------------------

_DOCUMENTED: list[type[Any]] = []


def body_doc(kind: type[Any]) -> type[Operation]:
    """An operation class whose request body is `kind`'s msgspec JSON Schema (the handlers read the raw body, so
    that a bad field is named the house's way), lengths in cm."""
    _DOCUMENTED.append(kind)

    @dataclass
    class BodyOperation(Operation):
        def __post_init__(self) -> None:
            self.request_body = RequestBody(required=True, description=CM, content={
                "application/json": OpenAPIMediaType(schema=RawSchema(raw={"$ref": REF.format(name=kind.__name__)}))})

    return BodyOperation


def add_webapp_schemas(openapi: Any) -> None:
    """Add the web app's bodies to the built OpenAPI document (as api/openapi.py does for JobSpec)."""
    _, components = msgspec.json.schema_components(tuple(_DOCUMENTED), ref_template=REF)
    openapi.components.schemas.update({name: RawSchema(raw=c) for name, c in components.items()})


def answers(ok: type[Any], *codes: int) -> dict[int, ResponseSpec]:
    """200 with `ok`, 202 Pending when SYNC_WAIT_S ran out, and the house's error bodies."""
    out = {200: ResponseSpec(data_container=ok, description="The CAD stage finished", generate_examples=False),
           202: ResponseSpec(data_container=Pending, description="Still running after SYNC_WAIT_S: follow "
                             "status_url", generate_examples=False), **errors(*codes)}
    out[422] = ResponseSpec(data_container=ErrorBody | ok, generate_examples=False,  # type: ignore[arg-type]
                            description="The body breaks a rule (ErrorBody, naming the field), or the job failed "
                                        "(success false, with the job's error)")
    return out


# ---- to and from job spec v1 --------------------------------------------------------------------


class MaterialFacts(Struct, frozen=True):
    """What the catalogue knows of a material beyond its price: what the app's bodies leave out."""

    type: str
    density_kg_m3: float
    color: str | None = None


class AppCatalogue(Struct, frozen=True):
    """The shop's price lists (engine.pricing.Catalogue) and each material's type, density and colour."""

    prices: Catalogue | None
    materials: dict[str, MaterialFacts]


async def catalogue(state: State) -> AppCatalogue:
    raw = await store.get_catalogue(state.pool)
    rows = await store.list_catalogue_materials(state.pool)
    return AppCatalogue(prices=msgspec.json.decode(raw, type=Catalogue) if raw else None,
                        materials={r.name: MaterialFacts(type=r.type, density_kg_m3=r.density_kg_m3, color=r.color)
                                   for r in rows})


MAX_CM = 100_000 / MM_PER_CM  # job spec v1's longest length (100 000 mm), in the app's centimetres


def app_job(req: LegacyRequest, job_id: str, cat: AppCatalogue | None, *, renders: bool = False,
            where: str = "$.dims.") -> JobSpec:
    """The app's body (cm) as a v1 job in mm; the material's density from the catalogue; CAD artifacts only."""
    dims = req.dims
    too_long = [Problem(path=f"{where}{field}", message=f"at most {MAX_CM:g} cm", code="OUT_OF_RANGE")
                for field in ("length", "width", "height") if getattr(dims, field) > MAX_CM]
    if too_long:
        raise InvalidJob("a length is out of range", too_long)
    mm = msgspec.structs.replace(req, dims=LegacyDims(length=dims.length * MM_PER_CM, width=dims.width * MM_PER_CM,
                                                      height=dims.height * MM_PER_CM))
    job = legacy_to_v1(mm, job_id)
    known = cat.materials.get(job.material.name) if cat else None
    material = job.material
    if known is not None:  # the model's colour, the weight's density: the shop's own, not legacy_to_v1's guess
        material = msgspec.structs.replace(material, density_kg_m3=known.density_kg_m3, type=known.type,
                                           color=known.color or material.color)
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
                     job_id: uuid.UUID) -> Response[Pending] | tuple[JobRow, dict[str, bytes]]:
    """Submit, then wait (LISTEN/NOTIFY, at most SYNC_WAIT_S) for the CAD stage: the job row and its CAD files,
    or the 202 to send when the wait ran out."""
    loop = asyncio.get_running_loop()
    with state.hub.subscribe(job_id) as changes:  # before the insert: its notifications cannot be missed
        await submit_job(request, state, job_id, job, body, priority=SYNC_PRIORITY)  # 422 on check errors
        deadline = loop.time() + state.settings.sync_wait_s
        read = True
        while True:
            if read:
                row = await store.get_job(state.pool, job_id, owner_of(request))
                if row is None or row.status in TERMINAL or row.stage != "cad":
                    break
            remaining = deadline - loop.time()
            if remaining <= 0:
                url = job_url(job_id)
                return Response(Pending(success=False, job_id=job_id, status=row.status, status_url=url,
                                        events_url=f"{url}/events",
                                        error=f"still {row.status} after {state.settings.sync_wait_s:g} s; "
                                              "the job goes on: follow status_url"),
                                status_code=202, headers={"Location": url})
            try:  # re-read at least every 5 s: a notification is a hint, lost ones happen on reconnects
                hint = await asyncio.wait_for(changes.get(), timeout=min(remaining, 5.0))
                read = b'"running"' not in hint.encode()  # a claim changes nothing we wait for
            except TimeoutError:
                read = True
    if row is None:
        raise ClientException(status_code=404, detail=f"job {job_id} was deleted while it ran")
    if row.status != "succeeded" and row.stage == "cad":
        return row, {}
    files = {f.name: bytes(f.data) for f in await store.list_stage_files(state.pool, job_id, "cad")}
    return row, files


def _failed(row: JobRow) -> str | None:
    if row.status != "succeeded" and row.stage == "cad":
        return row.last_error or f"the job was {row.status}"
    return None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _warnings(row: JobRow) -> list[Problem]:
    return [Problem(path=w.get("path", ""), message=w.get("message", ""), code=w.get("code", "INVALID"))
            for w in row.warnings or []]


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
        return Response(CADResponse(success=False, data=data, error=error, job_id=job_id, status_url=url),
                        status_code=422)
    stem = "piece-P1"
    return Response(CADResponse(
        success=True, svg=_b64(files[f"{stem}.svg"]), dxf_filename=f"{stem}.dxf", data=data, job_id=job_id,
        status_url=url, dxf_url=f"{url}/artifacts/{stem}.dxf", warnings=_warnings(row),
        quote=(row.summary or {}).get("quote")), status_code=200)


# ---- the routes ---------------------------------------------------------------------------------


class WebAppController(Controller):
    """The first backend's drawing and model routes, each a job through the pipeline. Lengths in cm."""

    path = "/"
    tags = ["web app"]

    @post("/api/cad/generate-drawing", operation_id="generateDrawing", status_code=200,
          summary="Drawing of one top (cm), synchronously",
          description=f"{CM} Submits the job like /api/cad/generate and waits up to SYNC_WAIT_S for its CAD stage; "
                      "200 CADResponse, 202 with the job's URLs on time-out, 422 when the job fails.",
          operation_class=body_doc(LegacyRequest), responses=answers(CADResponse, 400, 413, 422, 429))
    async def generate_drawing(self, request: Request[Any, Any, Any], state: State) -> Response[Any]:
        return await drawing(request, state, await request.body())

    @post("/api/cad/process-slab", operation_id="processSlab", status_code=200,
          summary="Drawing from an uploaded JSON file (cm)",
          description=f"{CM} Multipart upload, field `file`: a JSON file shaped like generate-drawing's body.",
          responses=answers(CADResponse, 400, 413, 422, 429))
    async def process_slab(self, request: Request[Any, Any, Any], state: State,
                           data: Annotated[dict[str, UploadFile], Body(media_type=RequestEncodingType.MULTI_PART)]
                           ) -> Response[Any]:
        upload = data.get("file")
        if not isinstance(upload, UploadFile):
            raise ClientException(detail="file: send the job as a multipart file field named `file`")
        return await drawing(request, state, await upload.read())

    @post("/api/cad/export-glb", operation_id="exportGlb", status_code=200,
          summary="Binary glTF of one top (cm in, metres in glTF)",
          description=f"{CM} Waits for the CAD stage like generate-drawing; `glb` is the base64 of model.glb.",
          operation_class=body_doc(ModelRequest), responses=answers(GlbResponse, 400, 422, 429))
    async def export_glb(self, request: Request[Any, Any, Any], state: State) -> Response[Any]:
        return await self._model(request, state, renders=False)

    @post("/api/cad/render-3d", operation_id="render3d", status_code=200,
          summary="PNG views (top, front, isometric) of one top (cm)",
          description=f"{CM} Same body as export-glb; the CAD stage renders the views (no GPU).",
          operation_class=body_doc(ModelRequest), responses=answers(RendersResponse, 400, 422, 429))
    async def render_3d(self, request: Request[Any, Any, Any], state: State) -> Response[Any]:
        return await self._model(request, state, renders=True)

    async def _model(self, request: Request[Any, Any, Any], state: State, *, renders: bool) -> Response[Any]:
        body = await request.body()
        req: ModelRequest = decode(body, ModelRequest)
        job_id = uuid.uuid4()
        job = app_job(req.legacy(), str(job_id)[:8].upper(), await catalogue(state), renders=renders,
                      where="$.dimensions.")
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
            if not views:  # the job asked for them: a CAD stage that stored none is our bug, a logged 500
                raise RuntimeError(f"job {job_id}: the CAD stage stored no view-*.png")
            return Response(RendersResponse(success=True, renders=views, job_id=job_id), status_code=200)
        if "model.glb" not in files:
            raise RuntimeError(f"job {job_id}: the CAD stage stored no model.glb")
        return Response(GlbResponse(success=True, glb=_b64(files["model.glb"]), job_id=job_id,
                                    glb_url=f"{job_url(job_id)}/artifacts/model.glb"), status_code=200)

    @post("/api/cad/ai/optimize_layout", operation_id="optimizeLayout", status_code=200,
          summary="Slab layout for one top (cm), from the CAD stage's nesting", description=CM,
          operation_class=body_doc(LegacyRequest), responses=answers(AIResult, 400, 413, 422, 429))
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
        return Response(AIResult(success=True, result=row.summary["slabs"]), status_code=200)


def openapi_aliases() -> list[Any]:
    """FastAPI's default paths, which the first backend's clients know: /openapi.json and /redoc beside /docs."""
    @get("/openapi.json", operation_id="openapiJson", include_in_schema=False, sync_to_thread=False,
         opt={PUBLIC: True})
    def openapi_json(request: Request[Any, Any, Any]) -> dict[str, Any]:
        return request.app.openapi_schema.to_schema()

    @get("/redoc", operation_id="redoc", include_in_schema=False, sync_to_thread=False, opt={PUBLIC: True})
    def redoc() -> Redirect:
        return Redirect("/docs/redoc")

    return [openapi_json, redoc]
