"""Our exceptions mapped to 4xx bodies that name the field and the problem; anything else is a logged 500."""

from __future__ import annotations

import re
from typing import Any

import msgspec
import psycopg
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)

from api.schemas import ErrorBody, Problem
from engine.model import Finding

log = structlog.get_logger()
_AT = re.compile(r"^(?P<msg>.*) - at (?P<key>`key` in )?`\$\.?(?P<path>[^`]*)`$", re.S)


class InvalidJob(Exception):
    """A job that cannot be queued: 422 with every problem found."""

    def __init__(self, detail: str, errors: list[Problem], warnings: list[Problem] | None = None) -> None:
        super().__init__(detail)
        self.detail, self.errors, self.warnings = detail, errors, warnings or []

    @classmethod
    def from_validation(cls, exc: msgspec.ValidationError) -> InvalidJob:
        """`Expected int, got str - at $.pieces[0].qty` -> path `pieces[0].qty` and its message."""
        text = str(exc)
        match = _AT.match(text)
        path, msg = ((match["path"] or "$", match["msg"] + (" for a key" if match["key"] else "")) if match
                     else ("$", text))
        code = "MISSING_FIELD" if "missing required field" in msg else (
            "UNKNOWN_FIELD" if "unknown field" in msg else "INVALID_VALUE")
        return cls(f"invalid job: {path}: {msg}", [Problem(path=path, message=msg, code=code)])


_WHY = {400: "Bad parameter or body that is not JSON", 404: "No such job (or not yours)",
        401: "Auth is on and the bearer token is missing, invalid or expired (operator endpoints: not ADMIN_TOKEN)",
        409: "The job is in the wrong state, or the Idempotency-Key was used with another body",
        408: "The request body did not arrive within BODY_READ_TIMEOUT_S",
        413: "Body too large", 415: "Not application/json", 422: "Not a valid job: `errors` name each field",
        429: "Too many submissions, jobs in flight or event streams for this client: wait `Retry-After` seconds",
        503: "The database did not answer: retry after `Retry-After` seconds"}


def errors(*codes: int) -> dict[int, ResponseSpec]:
    """Document error responses in OpenAPI: every one is an ErrorBody (detail, errors with path and code).

    401 and 503 are always listed: any /api route answers 401 when auth is on, and 503 when the database is down.
    """
    return {c: ResponseSpec(data_container=ErrorBody, description=_WHY[c], generate_examples=False)
            for c in sorted({401, 503, *codes})}


def problems_from_findings(findings: list[Finding]) -> list[Problem]:
    return [Problem(path=f.path, message=f.message, code=f.code) for f in findings]


def _body(status: int, detail: str, errors: list[Problem] | None = None,
          warnings: list[Problem] | None = None) -> Response[ErrorBody]:
    return Response(ErrorBody(status_code=status, detail=detail, errors=errors or [], warnings=warnings or []),
                    status_code=status)


def invalid_job_handler(_: Request[Any, Any, Any], exc: InvalidJob) -> Response[ErrorBody]:
    return _body(HTTP_422_UNPROCESSABLE_ENTITY, exc.detail, exc.errors, exc.warnings)


def http_exception_handler(_: Request[Any, Any, Any], exc: HTTPException) -> Response[ErrorBody]:
    errors: list[Problem] = []
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list):
        # Litestar's own parameter validation (query, header, path): name the parameter.
        for item in exc.extra:
            if isinstance(item, dict):
                errors.append(Problem(path=str(item.get("key", "")), message=str(item.get("message", "")),
                                      code="INVALID_PARAMETER"))
    detail = exc.detail
    if errors:
        detail = "; ".join(f"{p.path}: {p.message}" for p in errors)
    response = _body(exc.status_code, detail, errors)
    headers = dict(exc.headers or {})
    if exc.status_code == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="studio"')
    response.headers.update(headers)
    return response


def database_unavailable_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    """The pool found no working connection in time, or the connection broke: the database is down or restarting."""
    log.warning("database_unavailable", method=request.method, path=request.url.path,
                error=str(exc).strip()[:200] or type(exc).__name__)
    response = _body(HTTP_503_SERVICE_UNAVAILABLE, "the database did not answer; retry shortly (a submission retried "
                                                   "with the same Idempotency-Key cannot make a second job)")
    response.headers["Retry-After"] = "5"
    return response


def too_deep_handler(_: Request[Any, Any, Any], __: RecursionError) -> Response[ErrorBody]:
    """A body nested deeper than the decoder goes (thousands of `[`): the client's fault, not ours."""
    return _body(HTTP_400_BAD_REQUEST, "the body nests too deeply (JSON depth)")


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    log.exception("request_failed", method=request.method, path=request.url.path)
    return _body(HTTP_500_INTERNAL_SERVER_ERROR, "internal error; the request id is in the X-Request-ID header")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    InvalidJob: invalid_job_handler,
    HTTPException: http_exception_handler,
    psycopg.OperationalError: database_unavailable_handler,  # PoolTimeout is one too
    RecursionError: too_deep_handler,
    Exception: internal_error_handler,
}
