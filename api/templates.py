"""POST /api/templates/import: a digital templater's DXF in, a v1 job draft and its problems out (docs/TEMPLATES.md)."""

from __future__ import annotations

from typing import Any

import anyio
import msgspec
from litestar import Controller, Request, Response, post
from litestar.datastructures import UploadFile
from litestar.status_codes import HTTP_200_OK, HTTP_415_UNSUPPORTED_MEDIA_TYPE, HTTP_422_UNPROCESSABLE_ENTITY

from api.errors import errors
from api.schemas import ErrorBody, Problem
from engine.templates import Defaults, TemplateError, import_template

# ezdxf is synchronous CPU work: at most two imports at once, each in a worker thread, off the event loop.
IMPORTS = anyio.CapacityLimiter(2)
DXF_TYPES = ("application/dxf", "application/octet-stream", "image/vnd.dxf", "image/x-dxf", "application/x-dxf",
             "text/plain")
FIELDS = ("units", "material", "material_type", "thickness", "layers", "edge_default", "edge_profile",
          "gap_tolerance_mm", "spline_tolerance_mm", "job_id", "job_name")


class Imported(msgspec.Struct):
    job: dict[str, Any]
    problems: list[dict[str, Any]]


def _refuse(status: int, detail: str, problems: list[Problem]) -> Response[ErrorBody]:
    return Response(ErrorBody(status_code=status, detail=detail, errors=problems), status_code=status)


def _defaults(raw: dict[str, Any]) -> Defaults:
    """Query parameters and form fields as Defaults; a bad one is a TemplateError naming it."""
    values = {key: value for key, value in raw.items() if key in FIELDS and value not in (None, "")}
    if isinstance(values.get("layers"), str):
        try:
            values["layers"] = msgspec.json.decode(values["layers"], type=dict[str, str])
        except msgspec.DecodeError as exc:
            raise TemplateError("BAD_PARAMETER", f"layers: not a JSON object of layer name -> role ({exc})",
                                'send e.g. layers={"MY_WALL": "wall", "KANTE": "finished"}') from None
    for name in ("thickness", "gap_tolerance_mm", "spline_tolerance_mm"):
        if name in values:
            try:
                values[name] = float(values[name])
            except ValueError:
                raise TemplateError("BAD_PARAMETER", f"{name}: {values[name]!r} is not a number", "send a number")
    checks = {"units": lambda value: value in ("mm", "in"),
              "edge_default": lambda value: value in ("finished", "sawn"),
              "thickness": lambda value: 0.01 <= value <= 1000,
              "gap_tolerance_mm": lambda value: 0 <= value <= 10,
              "spline_tolerance_mm": lambda value: 0.001 <= value <= 10,
              "job_id": lambda value: 0 < len(value) <= 64,
              "job_name": lambda value: len(value) <= 200,
              "material": lambda value: len(value) <= 200,
              "material_type": lambda value: 0 < len(value) <= 64,
              "edge_profile": lambda value: 0 < len(value) <= 64}
    for name, ok in checks.items():
        if name in values and not ok(values[name]):
            raise TemplateError("BAD_PARAMETER", f"{name}: {values[name]!r} is out of range",
                                "see docs/TEMPLATES.md for the allowed values")
    return Defaults(**values)


class TemplatesController(Controller):
    path = "/api/templates"
    tags = ["templates"]

    @post("/import", operation_id="importTemplate", status_code=HTTP_200_OK,
          summary="A templater's DXF in (multipart `file` or raw body), a v1 job draft and its problems out",
          responses=errors(400, 413, 415, 422))
    async def import_dxf(self, request: Request[Any, Any, Any]) -> Response[Imported] | Response[ErrorBody]:
        """Defaults (units, material, thickness, layers, ...) come as query parameters or form fields."""
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        raw: dict[str, Any] = dict(request.query_params)
        if content_type == "multipart/form-data":
            form = await request.form()
            upload = form.get("file")
            raw.update({key: value for key, value in form.items() if key != "file" and isinstance(value, str)})
            if not isinstance(upload, UploadFile):
                return _refuse(400, "multipart body without a `file` field holding the DXF",
                               [Problem(path="file", message="missing", code="MISSING_FIELD")])
            data = await upload.read()
        elif content_type in DXF_TYPES or not content_type:
            data = await request.body()
        else:
            return _refuse(HTTP_415_UNSUPPORTED_MEDIA_TYPE, f"send the DXF as multipart/form-data (field `file`) or "
                           f"as application/dxf, not {content_type}", [])
        try:
            defaults = _defaults(raw)
            result = await anyio.to_thread.run_sync(import_template, data, defaults, limiter=IMPORTS)
        except TemplateError as exc:
            problems = [Problem(path=exc.code, message=f"{exc.message}; fix: {exc.fix}", code=exc.code)]
            problems += [Problem(path=problem.handle or "$", message=f"{problem.message}; fix: {problem.fix}",
                                 code=problem.code) for problem in exc.problems]
            return _refuse(HTTP_422_UNPROCESSABLE_ENTITY, f"{exc.message} ({exc.code}): {exc.fix}", problems)
        return Response(Imported(**result), status_code=HTTP_200_OK)
