"""One typed function per named query in queries.sql (the slab yard's are in yard_store.py, which runs them through
`_rows`, `_one` and `_all` here); the two are the only modules that talk SQL at run time."""

from __future__ import annotations

import functools
import hashlib
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import Any, LiteralString, TypeVar, cast

import structlog
from psycopg import AsyncConnection, sql
from psycopg.cursor import BaseCursor
from psycopg.rows import BaseRowFactory, RowMaker, class_row, no_result, scalar_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from pipeline.rows import (
    ArtifactInfoRow, ArtifactRow, AttemptInfo, CatalogueFinish, CatalogueMaterial, CatalogueNames, ClaimedJob,
    CutoutPrice, DurationBucketRow, EdgeProfile, IdempotentJobRow, InsertedRow, JobListRow, JobRow, JobStateRow,
    LeaseRow, QueueStatsRow, RescuedJob, StageFile, Status, StatusCountRow,
)

log = structlog.get_logger()

T = TypeVar("T")


def load_queries() -> dict[str, LiteralString]:
    """Parse `-- name: x` blocks of queries.sql once."""
    text = resources.files("pipeline").joinpath("queries.sql").read_text()
    queries: dict[str, str] = {}
    for block in re.split(r"^-- name: ", text, flags=re.M)[1:]:
        name, _, body = block.partition("\n")
        queries[name.strip()] = body.strip()
    return cast(dict[str, LiteralString], queries)


QUERIES = load_queries()
ECHO = False  # DB_ECHO: log each statement's name and duration (never its parameters)


def notifying_row(cls: type[T]) -> BaseRowFactory[T]:
    """`class_row` for a write whose SELECT list also calls pg_notify(): those columns (void) are left out. A field
    the statement does not return still fails, at the first result."""
    fields: tuple[str, ...] = cls.__struct_fields__  # type: ignore[attr-defined]

    def maker(cursor: BaseCursor[Any, Any]) -> RowMaker[T]:
        result = cursor.pgresult
        if result is None or not result.nfields:
            return no_result
        names = [result.fname(i).decode() for i in range(result.nfields)]  # as class_row reads them (no Column)
        at = [names.index(name) for name in fields]

        def row(values: Sequence[Any]) -> T:
            return cls(*[values[i] for i in at])

        return row

    return maker


async def _rows(conn: AsyncConnection[Any], name: str, params: dict[str, Any] | None,
                row: BaseRowFactory[T], *, query: bytes | None = None) -> list[T]:
    started = time.perf_counter()
    cur = conn.cursor(row_factory=row)
    await cur.execute(QUERIES[name] if query is None else query, params)
    rows = await cur.fetchall() if cur.description else []
    if ECHO:
        log.debug("sql_executed", query=name, rows=len(rows) if cur.description else cur.rowcount,
                  duration_ms=round((time.perf_counter() - started) * 1000, 3))
    return rows


async def _one(pool: AsyncConnectionPool, name: str, params: dict[str, Any], row: BaseRowFactory[T]) -> T | None:
    async with pool.connection() as conn:
        rows = await _rows(conn, name, params, row)
    return rows[0] if rows else None


async def _all(pool: AsyncConnectionPool, name: str, params: dict[str, Any], row: BaseRowFactory[T], *,
               query: bytes | None = None) -> list[T]:
    async with pool.connection() as conn:
        return await _rows(conn, name, params, row, query=query)


# ---- submission ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Inserted:
    """What one submission became: the job's id and status (the API's `Submitted` answer is built from it)."""

    id: uuid.UUID
    status: Status
    created: bool  # False: an earlier request with the same Idempotency-Key made this job


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used before with a different request body."""


def request_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True, slots=True)
class NewJob:
    """A job to insert. The caller may choose its id (the API does, before the insert). `spec` and `warnings`
    are anything msgspec encodes: builtins, or the engine's Structs."""

    spec: Any
    job_ref: str
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    owner: str | None = None
    priority: int = 0
    run_after: datetime | None = None
    max_attempts: int = 3
    idempotency_key: str | None = None
    request_sha256: str | None = None
    warnings: list[Any] | None = None


async def insert_jobs(pool: AsyncConnectionPool, jobs: list[NewJob]) -> list[Inserted | IdempotencyConflict]:
    """Insert jobs and NOTIFY in one statement (its own transaction): per job, what it became, or the conflict
    of a reused Idempotency-Key. A repeated key with the same body returns the job its first request made."""
    async with pool.connection() as conn:
        rows = await _rows(conn, "insert_jobs", {"jobs": Jsonb(jobs)},  # msgspec encodes the dataclasses
                           notifying_row(InsertedRow))
        inserted = {row.id: row.status for row in rows}
        return [Inserted(job.id, inserted[job.id], True) if job.id in inserted else await _replay(conn, job)
                for job in jobs]


async def _replay(conn: AsyncConnection[Any], job: NewJob) -> Inserted | IdempotencyConflict:
    """The job an earlier request with this Idempotency-Key made."""
    existing = await _rows(conn, "get_job_by_idempotency_key",
                           {"owner": job.owner, "idempotency_key": job.idempotency_key}, class_row(IdempotentJobRow))
    if not existing:  # deleted between the two statements: vanishingly rare, and safe to report
        return IdempotencyConflict("the job for this Idempotency-Key was deleted")
    if existing[0].request_sha256 != job.request_sha256:
        return IdempotencyConflict("this Idempotency-Key was used with a different request body")
    return Inserted(existing[0].id, existing[0].status, False)


async def insert_job(pool: AsyncConnectionPool, **fields: Any) -> Inserted:
    """One job (`NewJob`'s fields); raises IdempotencyConflict."""
    (result,) = await insert_jobs(pool, [NewJob(**fields)])
    if isinstance(result, IdempotencyConflict):
        raise result
    return result


# ---- the worker's side --------------------------------------------------------------------------


async def claim_jobs(
    pool: AsyncConnectionPool, *, worker_id: str, stages: tuple[str, ...], lease_s: float, limit: int = 1
) -> list[ClaimedJob]:
    """Claim up to `limit` runnable jobs (FOR UPDATE SKIP LOCKED); an attempt is written to job_attempts when it ends."""
    return await _all(pool, "claim_jobs", {"worker_id": worker_id, "stages": list(stages), "lease_s": lease_s},
                      notifying_row(ClaimedJob), query=_claim_query(limit))


@functools.cache
def _claim_query(limit: int) -> bytes:
    """claim_jobs with its limit written in as a literal: one prepared statement, and one plan, per limit."""
    before, placeholder, after = QUERIES["claim_jobs"].partition("%(limit)s")
    assert placeholder, "claim_jobs has no %(limit)s"
    return sql.Composed([sql.SQL(before), sql.Literal(int(limit)), sql.SQL(after)]).as_bytes(None)


async def extend_leases(pool: AsyncConnectionPool, *, worker_id: str, ids: list[uuid.UUID],
                        lease_s: float) -> list[LeaseRow]:
    """Heartbeat: extend the leases still held; returns (id, cancel_requested) for each."""
    return await _all(pool, "extend_leases", {"worker_id": worker_id, "ids": ids, "lease_s": lease_s},
                      class_row(LeaseRow))


# The transitions a worker makes after a claim (River's JobSetStateIfRunning, one parameter set per outcome).
# Each is the lease-guarded `transition_job` statement with every parameter spelled out for its case.
# False: the lease was lost and nothing changed.

async def _transition_job(conn: AsyncConnection[Any], params: dict[str, Any]) -> bool:
    return bool(await _rows(conn, "transition_job", params, scalar_row))


async def requeue_for_next_stage(conn: AsyncConnection[Any], *, id: uuid.UUID, worker_id: str, stage: str,
                                 summary: Any = None, warnings: Any = None) -> bool:
    """The stage succeeded: queue the job for `stage` with a fresh count of attempts (cancelled if asked to)."""
    return await _transition_job(conn, {
        "id": id, "worker_id": worker_id, "status": "queued", "outcome": "succeeded", "stage": stage, "error": None,
        "delay_s": 0.0, "attempts_reset": True, "attempt_refund": False,
        "summary": None if summary is None else Jsonb(summary), "warnings": None if warnings is None else Jsonb(warnings),
    })


async def schedule_retry(conn: AsyncConnection[Any], *, id: uuid.UUID, worker_id: str, error: str,
                         delay_s: float) -> bool:
    """A transient failure: the same stage runs again after `delay_s`; the attempt stays spent."""
    return await _transition_job(conn, {
        "id": id, "worker_id": worker_id, "status": "queued", "outcome": "retry", "stage": None, "error": error,
        "delay_s": delay_s, "attempts_reset": False, "attempt_refund": False, "summary": None, "warnings": None,
    })


async def fail_job(conn: AsyncConnection[Any], *, id: uuid.UUID, worker_id: str, error: str,
                   warnings: Any = None) -> bool:
    """A permanent failure (the engine's verdict, a timeout, attempts spent): the job ends `failed`."""
    return await _transition_job(conn, {
        "id": id, "worker_id": worker_id, "status": "failed", "outcome": "failed", "stage": None, "error": error,
        "delay_s": 0.0, "attempts_reset": False, "attempt_refund": False, "summary": None,
        "warnings": None if warnings is None else Jsonb(warnings),
    })


async def release_job(conn: AsyncConnection[Any], *, id: uuid.UUID, worker_id: str,
                      error: str = "released at shutdown") -> bool:
    """The worker stopped the stage (shutdown): back to the queue with the attempt refunded."""
    return await _transition_job(conn, {
        "id": id, "worker_id": worker_id, "status": "queued", "outcome": "released", "stage": None, "error": error,
        "delay_s": 0.0, "attempts_reset": False, "attempt_refund": True, "summary": None, "warnings": None,
    })


async def renest_job(conn: AsyncConnection[Any], *, id: uuid.UUID, worker_id: str, error: str, delay_s: float) -> bool:
    """Another job took a slab this CAD stage was nested on: the stage runs again on what the yard has left, with
    its attempt refunded (the job did nothing wrong)."""
    return await _transition_job(conn, {
        "id": id, "worker_id": worker_id, "status": "queued", "outcome": "retry", "stage": None, "error": error,
        "delay_s": delay_s, "attempts_reset": False, "attempt_refund": True, "summary": None, "warnings": None,
    })


async def complete_jobs(conn: AsyncConnection[Any], *, worker_id: str, ids: list[uuid.UUID],
                        summaries: list[Any] | None = None, warnings: list[Any] | None = None) -> set[uuid.UUID]:
    """Mark many claimed jobs succeeded in one statement, each guarded by its lease.

    Returns the ids that changed; an id missing from it lost its lease (its result must be dropped).
    """
    if not ids:
        return set()
    return set(await _rows(conn, "complete_jobs", {
        "worker_id": worker_id, "ids": ids,
        "summaries": [None if summary is None else Jsonb(summary) for summary in (summaries or [None] * len(ids))],
        "warnings": [None if warning is None else Jsonb(warning) for warning in (warnings or [None] * len(ids))],
    }, scalar_row))  # the first column: the job's id


async def replace_artifact(conn: AsyncConnection[Any], *, job_id: uuid.UUID, stage: str, name: str,
                           content_type: str, data: bytes) -> None:
    """Store one artifact, replacing an earlier attempt's file of the same name."""
    await _rows(conn, "replace_artifact", {
        "job_id": job_id, "name": name, "stage": stage, "content_type": content_type, "size_bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(), "data": data,
    }, scalar_row)


async def list_stage_files(pool: AsyncConnectionPool, id: uuid.UUID, stage: str) -> list[StageFile]:
    """Name, content type and bytes of the artifacts one stage stored."""
    return await _all(pool, "list_stage_files", {"id": id, "stage": stage}, class_row(StageFile))


async def rescue_jobs(pool: AsyncConnectionPool) -> list[RescuedJob]:
    """Requeue (or fail) jobs whose lease expired."""
    return await _all(pool, "rescue_jobs", {}, notifying_row(RescuedJob))


async def queue_statistics_stale(pool: AsyncConnectionPool) -> bool:
    """job_queue holds more than twice the rows its planner statistics say (and over a thousand)."""
    return bool(await _one(pool, "queue_statistics_stale", {}, scalar_row))


async def analyze_queue(pool: AsyncConnectionPool) -> None:
    await _all(pool, "analyze_queue", {}, scalar_row)


# ---- reading and operating ----------------------------------------------------------------------


async def get_job(pool: AsyncConnectionPool, id: uuid.UUID, owner: str | None = None) -> JobRow | None:
    return await _one(pool, "get_job", {"id": id, "owner": owner}, class_row(JobRow))


async def list_job_attempts(pool: AsyncConnectionPool, id: uuid.UUID) -> list[AttemptInfo]:
    return await _all(pool, "list_job_attempts", {"id": id}, class_row(AttemptInfo))


async def list_artifacts(pool: AsyncConnectionPool, id: uuid.UUID) -> list[ArtifactInfoRow]:
    return await _all(pool, "list_artifacts", {"id": id}, class_row(ArtifactInfoRow))


async def get_artifact(pool: AsyncConnectionPool, id: uuid.UUID, name: str,
                       owner: str | None = None) -> ArtifactRow | None:
    return await _one(pool, "get_artifact", {"id": id, "name": name, "owner": owner}, class_row(ArtifactRow))


async def list_jobs(
    pool: AsyncConnectionPool, *, owner: str | None = None, status: str | None = None,
    before: tuple[datetime, uuid.UUID] | None = None, limit: int = 50,
) -> list[JobListRow]:
    return await _all(pool, "list_jobs", {
        "owner": owner, "status": status, "limit": limit,
        "before_created_at": before[0] if before else None, "before_id": before[1] if before else None,
    }, class_row(JobListRow))


async def cancel_job(pool: AsyncConnectionPool, id: uuid.UUID, owner: str | None = None) -> JobStateRow | None:
    return await _one(pool, "cancel_job", {"id": id, "owner": owner}, notifying_row(JobStateRow))


async def retry_job(pool: AsyncConnectionPool, id: uuid.UUID, owner: str | None = None) -> JobStateRow | None:
    return await _one(pool, "retry_job", {"id": id, "owner": owner}, notifying_row(JobStateRow))


async def delete_job(pool: AsyncConnectionPool, id: uuid.UUID, owner: str | None = None) -> bool:
    return await _one(pool, "delete_job", {"id": id, "owner": owner}, scalar_row) is not None


async def job_exists(pool: AsyncConnectionPool, id: uuid.UUID, owner: str | None = None) -> Status | None:
    return await _one(pool, "job_exists", {"id": id, "owner": owner}, scalar_row)


async def prune_jobs(pool: AsyncConnectionPool, *, days: float, limit: int = 500) -> int:
    return len(await _all(pool, "prune_jobs", {"days": days, "limit": limit}, scalar_row))


async def queue_stats(pool: AsyncConnectionPool) -> list[QueueStatsRow]:
    return await _all(pool, "queue_stats", {}, class_row(QueueStatsRow))


async def stage_duration_buckets(pool: AsyncConnectionPool, bounds: list[float]) -> list[DurationBucketRow]:
    return await _all(pool, "stage_duration_buckets", {"bounds": bounds}, class_row(DurationBucketRow))


async def throughput(pool: AsyncConnectionPool, minutes: int = 5) -> list[StatusCountRow]:
    return await _all(pool, "throughput", {"minutes": minutes}, class_row(StatusCountRow))


async def list_cutout_prices(pool: AsyncConnectionPool) -> list[CutoutPrice]:
    return await _all(pool, "list_cutout_prices", {}, class_row(CutoutPrice))


async def get_catalogue(pool: AsyncConnectionPool) -> bytes | None:
    """The price lists by currency as JSON (engine.pricing.Catalogue's shape), or None when the shop has none."""
    catalogue: str | None = await _one(pool, "get_catalogue", {}, scalar_row)
    return catalogue.encode() if catalogue is not None else None


async def ping(pool: AsyncConnectionPool) -> bool:
    return await _one(pool, "ping", {}, scalar_row) is not None


async def count_active_jobs(pool: AsyncConnectionPool, owner: str | None) -> int:
    """How many of `owner`'s jobs are queued or running (the per-owner cap on work in flight)."""
    return int(await _one(pool, "count_active_jobs", {"owner": owner}, scalar_row) or 0)


# ---- the web app's catalogue (ids, swatches) ----------------------------------------------------


async def list_catalogue_materials(pool: AsyncConnectionPool) -> list[CatalogueMaterial]:
    return await _all(pool, "list_catalogue_materials", {}, class_row(CatalogueMaterial))


async def list_catalogue_finishes(pool: AsyncConnectionPool) -> list[CatalogueFinish]:
    return await _all(pool, "list_catalogue_finishes", {}, class_row(CatalogueFinish))


async def list_catalogue_edge_profiles(pool: AsyncConnectionPool) -> list[EdgeProfile]:
    return await _all(pool, "list_catalogue_edge_profiles", {}, class_row(EdgeProfile))


async def catalogue_names_by_id(pool: AsyncConnectionPool, *, material_id: int | None, finish_id: int | None,
                                profile_id: int | None) -> CatalogueNames:
    """The names for these ids, None where an id is unknown."""
    row = await _one(pool, "catalogue_names_by_id",
                     {"material_id": material_id, "finish_id": finish_id, "profile_id": profile_id},
                     class_row(CatalogueNames))
    return row or CatalogueNames(None, None, None)
