"""Submitting jobs and following them: /api/cad/generate and /api/jobs/..."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any, NoReturn

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import State
from litestar.exceptions import ClientException, HTTPException, NotFoundException, TooManyRequestsException
from litestar.params import FromPath, HeaderParameter, QueryParameter
from litestar.response import ServerSentEvent
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_409_CONFLICT, HTTP_415_UNSUPPORTED_MEDIA_TYPE

from api.errors import InvalidJob, errors, problems_from_findings
from api.events import EventHub, StreamsFull
from api.openapi import SubmitOperation
from api.security import client_key, identity, requires_admin, requires_admin_unless_scoped
from api.schemas import ArtifactInfo, JobListItem, JobPage, JobState, JobView, Submitted
from engine.checks import check
from engine.limits import limit_findings, listed_errors, listed_warnings
from engine.spec import JobSpec, decode_job
from pipeline import store
from pipeline.rows import JobStateRow

TERMINAL = ("succeeded", "failed", "cancelled")


def owner_of(request: Request[Any, Any, Any]) -> str | None:
    """The job owner for this request (the token's `sub` when auth is on), or None: no scoping."""
    return identity(request).owner


def job_url(job_id: uuid.UUID) -> str:
    return f"/api/jobs/{job_id}"


class GenerateController(Controller):
    path = "/api/cad"
    tags = ["jobs"]

    @post("/generate", operation_id="submitJob", status_code=HTTP_202_ACCEPTED,
          summary="Submit a job (spec v1, or the first system's single-element shape)",
          operation_class=SubmitOperation, responses=errors(400, 409, 413, 415, 422, 429))
    async def generate(
        self,
        request: Request[Any, Any, Any],
        state: State,
        idempotency_key: Annotated[str | None, HeaderParameter(name="Idempotency-Key", max_length=200)] = None,
        priority: Annotated[int, QueryParameter(ge=-100, le=100)] = 0,
        run_after: Annotated[dt.datetime | None, QueryParameter()] = None,
    ) -> Response[Submitted]:
        """Validate the job, run the fabricator checks, and queue it; 202 with the URL to follow it."""
        content_type = request.headers.get("content-type", "")
        if content_type and "json" not in content_type.split(";")[0].lower():
            raise HTTPException(status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                                detail=f"send the job as application/json, not {content_type.split(';')[0]}")
        body = await request.body()
        job_id = uuid.uuid4()
        try:
            job = decode_job(body, fallback_id=str(job_id)[:8].upper())
        except msgspec.ValidationError as exc:  # a subclass of DecodeError: must come first
            raise InvalidJob.from_validation(exc) from None
        except msgspec.DecodeError as exc:
            raise ClientException(detail=f"the body is not valid JSON: {exc}") from None
        except RecursionError:
            raise ClientException(detail="the body nests too deeply to be a job (JSON depth)") from None
        return await submit_job(request, state, job_id, job, body, idempotency_key=idempotency_key,
                                priority=priority, run_after=_in_utc(run_after))


def _in_utc(moment: dt.datetime | None) -> dt.datetime | None:
    """`run_after` in UTC (a time without an offset is UTC): PostgreSQL refuses offsets past 15:59 that ISO allows."""
    if moment is None:
        return None
    try:
        return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    except (OverflowError, ValueError):
        raise ClientException(detail="run_after: out of range") from None


async def submit_job(request: Request[Any, Any, Any], state: State, job_id: uuid.UUID, job: JobSpec, body: bytes,
                     *, idempotency_key: str | None = None, priority: int = 0,
                     run_after: dt.datetime | None = None) -> Response[Submitted]:
    """The one submission path (this module's /generate and api/webapp.py's routes): the work caps (422), the
    owner's jobs in flight (429), the fabricator checks (422 on errors), the group-commit insert, and 202 with the
    URLs to follow the job."""
    too_big = limit_findings(job)
    if too_big:
        raise InvalidJob("the job is larger than one job may be", problems_from_findings(too_big))
    owner = owner_of(request)
    await _check_work_in_flight(state, owner)
    findings = await asyncio.to_thread(check, job) if len(job.pieces) > 20 else check(job)
    errors = [f for f in findings if f.severity == "error"]
    warnings = [f for f in findings if f.severity == "warning"]
    if errors:
        raise InvalidJob(f"the job breaks {len(errors)} fabrication rule{'s' if len(errors) > 1 else ''}",
                         problems_from_findings(listed_errors(errors)),
                         problems_from_findings(listed_warnings(warnings)))
    try:
        inserted = await state.submissions.submit(store.NewJob(  # the Structs go to msgspec's encoder as they are
            spec=job, job_ref=job.job.id, id=job_id, owner=owner, priority=priority,
            run_after=run_after, max_attempts=state.settings.max_attempts, idempotency_key=idempotency_key,
            request_sha256=store.request_digest(body) if idempotency_key else None,
            warnings=warnings))
    except store.IdempotencyConflict as exc:
        raise HTTPException(status_code=HTTP_409_CONFLICT, detail=str(exc)) from None
    url = job_url(inserted.id)
    # The request's one log line carries the job it made (api/app.py reads these).
    request.scope["state"]["log"] = {"job_id": str(inserted.id), "job_ref": job.job.id,
                                     "idempotent_replay": not inserted.created}
    return Response(
        Submitted(id=inserted.id, status=inserted.status, status_url=url, events_url=f"{url}/events",
                  created=inserted.created, warnings=problems_from_findings(listed_warnings(warnings))),
        status_code=HTTP_202_ACCEPTED, headers={"Location": url})


async def _check_work_in_flight(state: State, owner: str | None) -> None:
    """MAX_ACTIVE_JOBS_PER_OWNER queued + running jobs per signed-in owner: past it, 429 until some finish."""
    cap = state.settings.max_active_jobs_per_owner
    if owner is None or cap == 0:
        return
    active = await store.count_active_jobs(state.pool, owner)
    if active >= cap:
        raise TooManyRequestsException(
            detail=f"you have {active} jobs queued or running; at most {cap} at a time: retry when some finish",
            headers={"Retry-After": "30"})


class JobsController(Controller):
    path = "/api/jobs"
    tags = ["jobs"]

    @get("/", operation_id="listJobs", guards=[requires_admin_unless_scoped], responses=errors(400))
    async def list_jobs(
        self,
        request: Request[Any, Any, Any],
        state: State,
        status: Annotated[str | None, QueryParameter(pattern="^(queued|running|succeeded|failed|cancelled)$")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> JobPage:
        """Jobs newest first; pass `next_cursor` back as `cursor` for the next page."""
        before = decode_cursor(cursor) if cursor else None
        rows = await store.list_jobs(state.pool, owner=owner_of(request), status=status, before=before, limit=limit)
        items = [JobListItem(id=r.id, job_ref=r.job_ref, status=r.status, stage=r.stage, attempts=r.attempts,
                             error=r.last_error, created_at=r.created_at, updated_at=r.updated_at,
                             finished_at=r.finished_at, url=job_url(r.id))
                 for r in rows]
        nxt = encode_cursor(rows[-1].created_at, rows[-1].id) if len(rows) == limit else None
        return JobPage(items=items, next_cursor=nxt)

    @get("/{job_id:uuid}", operation_id="getJob", responses=errors(404))
    async def get_job(self, request: Request[Any, Any, Any], state: State, job_id: FromPath[uuid.UUID]) -> JobView:
        """Status, stage, attempts with their errors, warnings, summary and artifact links."""
        row = await store.get_job(state.pool, job_id, owner_of(request))
        if row is None:
            raise NotFoundException(detail=f"no job {job_id}")
        artifacts, attempts = await asyncio.gather(store.list_artifacts(state.pool, job_id),
                                                   store.list_job_attempts(state.pool, job_id))
        return JobView(
            id=row.id, job_ref=row.job_ref, status=row.status, stage=row.stage, attempts=row.attempts,
            max_attempts=row.max_attempts, priority=row.priority, created_at=row.created_at,
            updated_at=row.updated_at, started_at=row.started_at, finished_at=row.finished_at,
            run_after=row.run_after, cancel_requested=row.cancel_requested, error=row.last_error,
            warnings=row.warnings, summary=row.summary,
            artifacts=[ArtifactInfo(name=a.name, stage=a.stage, content_type=a.content_type, size_bytes=a.size_bytes,
                                    sha256=a.sha256, url=f"{job_url(job_id)}/artifacts/{a.name}") for a in artifacts],
            attempt_history=attempts)

    @get("/{job_id:uuid}/artifacts/{name:str}", operation_id="getArtifact",
         media_type="application/octet-stream", responses=errors(404))
    async def get_artifact(self, request: Request[Any, Any, Any], state: State, job_id: FromPath[uuid.UUID],
                           name: FromPath[str]) -> Response[bytes]:
        """The file itself, with its content type; PDFs and SVGs open in the browser, DXFs download."""
        row = await store.get_artifact(state.pool, job_id, name, owner_of(request))
        if row is None:
            raise NotFoundException(detail=f"job {job_id} has no artifact {name!r}")
        disposition = "inline" if row.content_type in ("application/pdf", "image/svg+xml") else "attachment"
        return Response(bytes(row.data), media_type=row.content_type, headers={
            "Content-Disposition": f'{disposition}; filename="{row.name}"',
            "ETag": f'"{row.sha256}"', "Cache-Control": "private, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
            # Cached for a year, and CORS headers depend on Origin: an <img> load (no Origin) must not be
            # reused for the page's later fetch() of the same file, which then fails CORS.
            "Vary": "Origin"})

    @post("/{job_id:uuid}/cancel", operation_id="cancelJob", status_code=202, responses=errors(404, 409))
    async def cancel(self, request: Request[Any, Any, Any], state: State, job_id: FromPath[uuid.UUID]) -> JobState:
        """Queued jobs cancel at once; running jobs stop at the next stage boundary."""
        return await _change_state(state, request, job_id, store.cancel_job, "cancel", "queued or running")

    @post("/{job_id:uuid}/retry", operation_id="retryJob", status_code=202, guards=[requires_admin],
          responses=errors(404, 409))
    async def retry(self, request: Request[Any, Any, Any], state: State, job_id: FromPath[uuid.UUID]) -> JobState:
        """Run a failed or cancelled job again from the stage where it stopped."""
        return await _change_state(state, request, job_id, store.retry_job, "retry", "failed or cancelled")

    @delete("/{job_id:uuid}", operation_id="deleteJob", status_code=204, guards=[requires_admin],
            responses=errors(404, 409))
    async def delete_job(self, request: Request[Any, Any, Any], state: State, job_id: FromPath[uuid.UUID]) -> None:
        """Delete a job and its artifacts (cancel a running job first)."""
        if not await store.delete_job(state.pool, job_id, owner_of(request)):
            await _explain_conflict(state, request, job_id, "delete", "not running")

    @get("/{job_id:uuid}/events", operation_id="jobEvents", media_type="text/event-stream",
         responses=errors(404, 429))
    async def events(self, request: Request[Any, Any, Any], state: State, job_id: FromPath[uuid.UUID]) -> ServerSentEvent:
        """Server-Sent Events: one `status` event per change, fed by LISTEN/NOTIFY; ends when the job does."""
        owner = owner_of(request)
        if await store.job_exists(state.pool, job_id, owner) is None:
            raise NotFoundException(detail=f"no job {job_id}")
        client = client_key(request)
        refused = state.hub.room_for(client)
        if refused is not None:
            raise TooManyRequestsException(detail=refused, headers={"Retry-After": "15"})
        return ServerSentEvent(_status_stream(state.pool, state.hub, job_id, owner, client), event_type="status")


async def _status_stream(pool: Any, hub: EventHub, job_id: uuid.UUID, owner: str | None,
                         client: str) -> AsyncIterator[str]:
    try:
        with hub.stream_slot(client):
            async for event in _job_changes(pool, hub, job_id, owner):
                yield event
    except StreamsFull:  # filled up between the handler's check and the stream's start
        return


async def _job_changes(pool: Any, hub: EventHub, job_id: uuid.UUID, owner: str | None) -> AsyncIterator[str]:
    with hub.subscribe(job_id) as changes:
        last = None
        while True:
            # Read the row, not the notification: a notification is a hint, the row is the truth,
            # and the timeout re-reads it in case a notification was lost while the listener reconnected.
            row = await store.get_job(pool, job_id, owner)
            if row is None:
                return
            state = (row.status, row.stage)
            if state != last:
                last = state
                yield msgspec.json.encode({"id": str(job_id), "status": row.status, "stage": row.stage,
                                           "error": row.last_error}).decode()
            if row.status in TERMINAL:
                return
            try:
                await asyncio.wait_for(changes.get(), timeout=15)
            except TimeoutError:
                pass


async def _change_state(state: State, request: Request[Any, Any, Any], job_id: uuid.UUID,
                        change: Callable[..., Awaitable[JobStateRow | None]], action: str, allowed: str) -> JobState:
    row = await change(state.pool, job_id, owner_of(request))
    if row is None:
        await _explain_conflict(state, request, job_id, action, allowed)
    return JobState(id=row.id, status=row.status, stage=row.stage)


async def _explain_conflict(state: State, request: Request[Any, Any, Any], job_id: uuid.UUID, action: str,
                            allowed: str) -> NoReturn:
    """404 when there is no such job (for this owner), else 409 naming the state it is in."""
    status = await store.job_exists(state.pool, job_id, owner_of(request))
    if status is None:
        raise NotFoundException(detail=f"no job {job_id}")
    raise HTTPException(status_code=HTTP_409_CONFLICT,
                        detail=f"cannot {action} a job that is {status}; it must be {allowed}")


def encode_cursor(created_at: dt.datetime, job_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{job_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, _, jid = raw.partition("|")
        return dt.datetime.fromisoformat(created), uuid.UUID(jid)
    except (ValueError, UnicodeDecodeError):
        raise ClientException(detail="cursor: not a cursor this API returned") from None
