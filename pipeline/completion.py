"""How a stage's end is recorded, each under the job's lease: the next stage queued (with the CAD drawings kept for
a PDF stage this worker may claim next), the job completed (group-committed), a retry scheduled, a failure, or a
release at shutdown. Each returns the outcome for the `stage_finished` line and the error, if any."""

from __future__ import annotations

import contextlib
import functools
import random
import uuid
from collections import OrderedDict
from typing import Any, NamedTuple

import psycopg_pool
import structlog

from ops.config.settings import Settings
from pipeline import store
from pipeline.db import GroupCommit
from pipeline.rows import ClaimedJob, TakenSlab
from pipeline.stages import StageOutput, next_stage
from pipeline.supervise import DB_ERRORS

log = structlog.get_logger()

Files = list[tuple[str, str, bytes]]  # (name, content_type, data)
Result = tuple[str, str | None]  # (outcome, error)


class Completion(NamedTuple):
    job_id: uuid.UUID
    stage: str
    summary: Any
    warnings: Any
    artifacts: Files


async def write_completions(pool: psycopg_pool.AsyncConnectionPool, worker_id: str,
                            items: list[Completion]) -> list[bool]:
    """Last-stage results, many in one commit (the worker's GroupCommit): each job stays guarded by its lease.
    False for a job whose lease was lost (nothing changed for it). Without files the batch is one statement, its
    own transaction in one round trip; files commit with it."""
    files = any(item.artifacts for item in items)
    async with pool.connection() as conn, (conn.transaction() if files else contextlib.nullcontext()):
        held = await store.complete_jobs(conn, worker_id=worker_id, ids=[i.job_id for i in items],
                                         summaries=[i.summary for i in items], warnings=[i.warnings for i in items])
        for item in items:
            if item.job_id in held:
                for name, content_type, data in item.artifacts:
                    await store.replace_artifact(conn, job_id=item.job_id, stage=item.stage, name=name,
                                                 content_type=content_type, data=data)
    return [item.job_id in held for item in items]


RENEST_DELAY_S = 0.2


class _RollBack(Exception):
    """Leaves a transaction without committing it: args[0] says why."""


def _lease_lost() -> Result:
    log.warning("lease_lost", detail="result dropped: another attempt owns the job")
    return "lease_lost", None


class Recorder:
    """One worker's writes of stage ends."""

    def __init__(self, pool: psycopg_pool.AsyncConnectionPool, settings: Settings) -> None:
        self.pool = pool
        self.settings = settings
        # The CAD stage's drawings, kept for a PDF stage this worker is likely to claim next (no read-back).
        self.handoff: OrderedDict[uuid.UUID, Files] = OrderedDict()
        # Last-stage results that finish together commit together (one fsync).
        self.completions: GroupCommit[Completion, bool] = GroupCommit(
            functools.partial(write_completions, pool, settings.worker_id))

    async def succeeded(self, job: ClaimedJob, out: StageOutput, slabs: list[uuid.UUID] | None = None) -> Result:
        """Record the stage's result; `slabs` are the yard's slabs an inventory job's CAD stage was nested on."""
        job_id, stage = job.id, job.stage
        nxt = next_stage(stage, job.spec_json)
        warnings = out.summary.get("warnings") if isinstance(out.summary, dict) else None
        if slabs:
            return await self._succeeded_with_slabs(job, out, nxt, warnings, slabs)
        if nxt is None:  # the last stage: group-committed with other jobs finishing at the same time
            if not await self.completions.submit(Completion(job_id, stage, out.summary, warnings, out.artifacts)):
                return _lease_lost()
            return "succeeded", None
        async with self.pool.connection() as conn, conn.transaction():
            if not await store.requeue_for_next_stage(conn, id=job_id, worker_id=self.settings.worker_id, stage=nxt,
                                                      summary=out.summary, warnings=warnings):
                return _lease_lost()
            for name, content_type, data in out.artifacts:
                await store.replace_artifact(conn, job_id=job_id, stage=stage, name=name,
                                             content_type=content_type, data=data)
        if nxt == "pdf":
            self._hand_off(job_id, out.artifacts)
        return "succeeded", None

    def _hand_off(self, job_id: uuid.UUID, artifacts: Files) -> None:
        """Committed under our lease, and a job never goes back to its CAD stage: these stay current."""
        self.handoff[job_id] = sorted(artifacts)  # what list_stage_files would read back, in its order
        while len(self.handoff) > 2 * self.settings.worker_concurrency:
            self.handoff.popitem(last=False)  # another worker ran that PDF stage (or will read them back)

    async def _succeeded_with_slabs(self, job: ClaimedJob, out: StageOutput, nxt: str | None, warnings: Any,
                                    slabs: list[uuid.UUID]) -> Result:
        """An inventory job's result commits with the allocation of its slabs, or not at all. A slab another job
        took first (allocated, or being allocated: SKIP LOCKED) sends the CAD stage round again on what is left."""
        job_id, worker_id = job.id, self.settings.worker_id
        taken: list[TakenSlab] = []
        try:
            async with self.pool.connection() as conn, conn.transaction():
                taken = await store.allocate_slabs(conn, job_id=job_id, ids=slabs)
                if len(taken) < len(slabs):
                    raise _RollBack("slabs_taken")
                if nxt is None:
                    held = job_id in await store.complete_jobs(conn, worker_id=worker_id, ids=[job_id],
                                                               summaries=[out.summary], warnings=[warnings])
                else:
                    held = await store.requeue_for_next_stage(conn, id=job_id, worker_id=worker_id, stage=nxt,
                                                              summary=out.summary, warnings=warnings)
                if not held:
                    raise _RollBack("lease_lost")
                for name, content_type, data in out.artifacts:
                    await store.replace_artifact(conn, job_id=job_id, stage=job.stage, name=name,
                                                 content_type=content_type, data=data)
        except _RollBack as exc:
            if exc.args[0] == "lease_lost":
                return _lease_lost()
            error = "a slab it was nested on went to another job first; nesting again on what the yard has left"
            log.info("slabs_taken", slabs=len(slabs), taken=len(taken))
            delay = RENEST_DELAY_S * (0.5 + random.random())  # noqa: S311 - jitter: two jobs that collided
            async with self.pool.connection() as conn:
                requeued = await store.renest_job(conn, id=job_id, worker_id=worker_id, error=error, delay_s=delay)
            return ("renest" if requeued else "lease_lost"), error
        log.info("slabs_allocated", slabs=[row.code for row in taken])
        if nxt == "pdf":
            self._hand_off(job_id, out.artifacts)
        return "succeeded", None

    async def failed(self, job: ClaimedJob, error: str, warnings: Any = None) -> Result:
        async with self.pool.connection() as conn:
            ok = await store.fail_job(conn, id=job.id, worker_id=self.settings.worker_id, error=error,
                                      warnings=warnings)
        return ("failed" if ok else "lease_lost"), error

    async def retry_or_fail(self, job: ClaimedJob, error: str) -> Result:
        if job.attempts >= job.max_attempts:
            return await self.failed(job, f"{error} (attempt {job.attempts} of {job.max_attempts})")
        delay = min(self.settings.retry_max_s, self.settings.retry_base_s * 2 ** (job.attempts - 1))
        delay *= 0.5 + random.random()  # noqa: S311 - jitter spreads retries of jobs that failed together
        async with self.pool.connection() as conn:
            ok = await store.schedule_retry(conn, id=job.id, worker_id=self.settings.worker_id, error=error,
                                            delay_s=delay)
        return ("retry" if ok else "lease_lost"), error

    async def released(self, job_id: uuid.UUID) -> bool:
        """Back to `queued` with its attempt refunded: the worker stopped it, the job did nothing wrong."""
        try:
            async with self.pool.connection() as conn:
                released = await store.release_job(conn, id=job_id, worker_id=self.settings.worker_id)
        except DB_ERRORS as exc:
            log.warning("release_failed", job_id=str(job_id), error=str(exc).strip()[:300])
            return False
        log.info("job_released", job_id=str(job_id), released=released)
        return released
