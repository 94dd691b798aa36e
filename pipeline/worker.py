"""The pipeline worker: woken by NOTIFY (polling as a safety net), claims jobs with SKIP LOCKED, runs a stage
in a child process while a heartbeat extends its lease, and stores the result under that lease."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import random
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

import psycopg
import psycopg_pool
import structlog

from ops.dsn import is_pooler
from ops.settings import Settings
from pipeline import store
from pipeline.db import GroupCommit, listen, open_pool
from pipeline.stages import StageCrashed, StageOutOfMemory, StageOutput, StageRunner, StageTimeout, next_stage

log = structlog.get_logger()

DB_ERRORS = (psycopg.OperationalError, psycopg.InterfaceError, psycopg_pool.PoolTimeout)
PRUNE_EVERY_S = 3600.0
CATALOGUE_TTL_S = 60.0
STORE_AT_SHUTDOWN_S = 10.0  # after the grace period: for results already being written, and the releases
SIDE_TASK_BACKOFF_S = 0.1  # first restart of a side task that died; doubles up to the cap
SIDE_TASK_MAX_BACKOFF_S = 5.0


class Worker:
    def __init__(self, settings: Settings, pool: psycopg_pool.AsyncConnectionPool, stop: asyncio.Event,
                 runner: StageRunner | None = None) -> None:
        self.s = settings
        self.pool = pool
        self.stop = stop
        self.wake = asyncio.Event()
        self.slot_freed = asyncio.Event()
        self.runner = runner or StageRunner(settings.worker_concurrency, memory_mb=settings.stage_memory_mb or None,
                                            **stage_target(settings))
        self.inflight: dict[uuid.UUID, asyncio.Task[None]] = {}  # claimed, until the result is stored
        self.storing: set[uuid.UUID] = set()  # of those, the ones whose stage is done: their slot is free again
        self.lost: set[uuid.UUID] = set()  # leases another worker took over: drop our results
        # The CAD stage's drawings, kept for a PDF stage this worker is likely to claim next (no read-back).
        self.handoff: OrderedDict[uuid.UUID, list[tuple[str, str, bytes]]] = OrderedDict()
        # Last-stage results that finish together commit together (one fsync).
        self.completions: GroupCommit[Completion, bool] = GroupCommit(
            functools.partial(write_completions, pool, settings.worker_id))
        self._catalogue_cache: tuple[float, bytes | None] | None = None

    async def run(self) -> None:
        """Claim and run jobs until `stop` is set, then shut down gracefully."""
        log.info("worker_started", worker_id=self.s.worker_id, stages=list(self.s.worker_stages),
                 concurrency=self.s.worker_concurrency, poll_interval_s=self.s.poll_interval_s)
        helpers = [asyncio.create_task(self._supervised("heartbeat", self._heartbeat)),
                   asyncio.create_task(self._supervised("housekeeping", self._housekeeping))]
        if self.s.database_direct_url or not is_pooler(self.s.database_url):
            helpers.append(asyncio.create_task(self._supervised("listener", functools.partial(
                listen, self.s.session_url, ("studio_jobs",), lambda _n: self.wake.set(), on_connect=self.wake.set,
                stop=self.stop))))
        else:
            log.warning("listen_unavailable", reason="DATABASE_URL goes through a transaction pooler and "
                        "DATABASE_DIRECT_URL is not set", poll_interval_s=self.s.poll_interval_s)
        try:
            await self._loop()
        finally:
            await self._shutdown()
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            self.runner.close()
            log.info("worker_stopped", worker_id=self.s.worker_id)

    async def _supervised(self, name: str, side_task: Callable[[], Awaitable[None]]) -> None:
        """Run a side task (heartbeat, housekeeping, listener) until the worker stops, restarting it with capped
        backoff when it dies of an exception it did not expect: a dead heartbeat would let every lease expire and
        the running jobs be rescued and run twice (procrastinate's worker watches its side tasks the same way)."""
        backoff = SIDE_TASK_BACKOFF_S
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                await side_task()
            except Exception:  # noqa: BLE001 - the supervisor's one catch-all: logged, then restarted
                if time.monotonic() - started > 60:
                    backoff = SIDE_TASK_BACKOFF_S  # it ran fine for a while: this is a new failure, not a loop
                log.exception("side_task_died", task=name, restart_in_s=round(backoff, 2))
                await _first_of(self.stop.wait(), timeout=backoff)
                backoff = min(SIDE_TASK_MAX_BACKOFF_S, backoff * 2)
                continue
            return  # returned by itself: only the listener does, once `stop` is set

    def _free_slots(self) -> int:
        """Slots whose stage process is idle. A job whose result is being written no longer holds one, so the next
        claim overlaps that commit; at most `concurrency` such writes are in flight, which bounds the claims."""
        running = len(self.inflight) - len(self.storing)
        return min(self.s.worker_concurrency - running, 2 * self.s.worker_concurrency - len(self.inflight))

    async def _loop(self) -> None:
        backoff = 0.1
        while not self.stop.is_set():
            free = self._free_slots()
            jobs: list[dict[str, Any]] = []
            if free > 0:
                self.wake.clear()  # before claiming, so a NOTIFY that lands during the query is not lost
                try:
                    jobs = await store.claim_jobs(self.pool, worker_id=self.s.worker_id,
                                                  stages=self.s.worker_stages, lease_s=self.s.lease_s, limit=free)
                    backoff = 0.1
                except DB_ERRORS as exc:
                    log.warning("claim_failed", error=str(exc).strip()[:300], retry_in_s=round(backoff, 2))
                    await _first_of(self.stop.wait(), timeout=backoff)
                    backoff = min(5.0, backoff * 2)
                    continue
            for job in jobs:
                self.inflight[job["id"]] = asyncio.create_task(self._process(job))
            if jobs and self._free_slots() > 0:
                continue  # more may be waiting: claim again before sleeping
            self.slot_freed.clear()
            waits = [self.stop.wait(), self.slot_freed.wait()]
            if self._free_slots() > 0:
                waits.append(self.wake.wait())
            await _first_of(*waits, timeout=self.s.poll_interval_s)

    async def _process(self, job: dict[str, Any]) -> None:
        job_id, stage, attempt = job["id"], job["stage"], job["attempts"]
        with structlog.contextvars.bound_contextvars(job_id=str(job_id), stage=stage, attempt=attempt):
            started = time.perf_counter()
            outcome, error = "failed", None
            try:
                outcome, error = await self._run_and_store(job)
            except asyncio.CancelledError:
                outcome = "released"
                raise
            except Exception as exc:  # the one catch-all per job: anything unexpected must not kill the worker
                outcome, error = "error", f"{type(exc).__name__}: {exc}"
                log.exception("stage_crashed")
            finally:
                self.inflight.pop(job_id, None)
                self.storing.discard(job_id)
                self.lost.discard(job_id)
                self.slot_freed.set()
                log.info("stage_finished", outcome=outcome, duration_ms=round((time.perf_counter() - started) * 1000, 1),
                         **({"error": error} if error else {}))

    async def _run_and_store(self, job: dict[str, Any]) -> tuple[str, str | None]:
        job_id, stage = job["id"], job["stage"]
        spec_json = job["spec_json"].encode()  # as stored: the child decodes it, the worker never needs to
        summary_json = job["summary_json"].encode() if job["summary_json"] is not None else None
        files: list[tuple[str, str, bytes]] = []
        catalogue = None
        if stage == "pdf":
            handed = self.handoff.pop(job_id, None)
            files = handed if handed is not None else [
                (r["name"], r["content_type"], bytes(r["data"]))
                for r in await store.list_stage_files(self.pool, job_id, "cad")]
        else:
            catalogue = await self._catalogue()
        try:
            try:
                out = await self.runner.run(self.s.stage_timeout_s, stage, spec_json, summary_json, files, catalogue)
            finally:
                self.storing.add(job_id)  # the stage's process is free: the loop may claim while we write
                self.slot_freed.set()
        except StageTimeout as exc:
            return await self._fail(job, str(exc))
        except StageOutOfMemory:  # the same spec would hit the limit again: retrying only burns the machine
            limit = f" (limit {self.runner.memory_mb} MB)" if self.runner.memory_mb else ""
            return await self._fail(job, f"the stage ran out of memory{limit}")
        except StageCrashed as exc:
            if self.stop.is_set():  # signalled with the whole process group (Ctrl+C, systemd): not the job's fault
                return ("released" if await self._release(job_id) else "lease_lost"), None
            return await self._retry_or_fail(job, str(exc))
        except Exception as exc:  # raised inside the stage: not the engine's verdict on the spec, so transient
            return await self._retry_or_fail(job, f"{type(exc).__name__}: {exc}")
        if out.engine_error is not None:
            return await self._fail(job, out.engine_error, warnings=out.findings or None)
        if job_id in self.lost:
            log.warning("lease_lost", detail="result dropped: another attempt owns the job")
            return "lease_lost", None
        return await self._store(job, out)

    async def _catalogue(self) -> bytes | None:
        """The price catalogue, read at most once a minute: prices change rarely, CAD stages run often."""
        now = time.monotonic()
        if self._catalogue_cache is None or now - self._catalogue_cache[0] > CATALOGUE_TTL_S:
            self._catalogue_cache = (now, await store.get_catalogue(self.pool))
        return self._catalogue_cache[1]

    async def _store(self, job: dict[str, Any], out: StageOutput) -> tuple[str, str | None]:
        job_id, stage = job["id"], job["stage"]
        nxt = next_stage(stage, job["spec_json"])
        warnings = out.summary.get("warnings") if isinstance(out.summary, dict) else None
        if nxt is None:  # the last stage: group-committed with other jobs finishing at the same time
            if not await self.completions.submit(Completion(job_id, stage, out.summary, warnings, out.artifacts)):
                log.warning("lease_lost", detail="result dropped: another attempt owns the job")
                return "lease_lost", None
            return "succeeded", None
        async with self.pool.connection() as conn, conn.transaction():
            ok = await store.transition_job(
                conn, id=job_id, worker_id=self.s.worker_id, outcome="succeeded", status="queued", stage=nxt,
                attempts_reset=True, summary=out.summary, warnings=warnings)
            if not ok:
                log.warning("lease_lost", detail="result dropped: another attempt owns the job")
                return "lease_lost", None
            for name, content_type, data in out.artifacts:
                await store.replace_artifact(conn, job_id=job_id, stage=stage, name=name,
                                             content_type=content_type, data=data)
        if nxt == "pdf":  # committed under our lease, and a job never goes back to its CAD stage: these stay current
            self.handoff[job_id] = sorted(out.artifacts)  # what list_stage_files would read back, in its order
            while len(self.handoff) > 2 * self.s.worker_concurrency:
                self.handoff.popitem(last=False)  # another worker ran that PDF stage (or will read them back)
        return "succeeded", None

    async def _fail(self, job: dict[str, Any], error: str, warnings: Any = None) -> tuple[str, str | None]:
        async with self.pool.connection() as conn:
            ok = await store.transition_job(conn, id=job["id"], worker_id=self.s.worker_id, status="failed",
                                            outcome="failed", error=error, warnings=warnings)
        return ("failed" if ok else "lease_lost"), error

    async def _retry_or_fail(self, job: dict[str, Any], error: str) -> tuple[str, str | None]:
        if job["attempts"] >= job["max_attempts"]:
            return await self._fail(job, f"{error} (attempt {job['attempts']} of {job['max_attempts']})")
        delay = min(self.s.retry_max_s, self.s.retry_base_s * 2 ** (job["attempts"] - 1))
        delay *= 0.5 + random.random()  # noqa: S311 - jitter spreads retries of jobs that failed together
        async with self.pool.connection() as conn:
            ok = await store.transition_job(conn, id=job["id"], worker_id=self.s.worker_id, status="queued",
                                            outcome="retry", error=error, delay_s=delay)
        return ("retry" if ok else "lease_lost"), error

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.s.heartbeat_s)
            ids = list(self.inflight)
            if not ids:
                continue
            try:
                rows = await store.extend_leases(self.pool, worker_id=self.s.worker_id, ids=ids,
                                                 lease_s=self.s.lease_s)
            except DB_ERRORS as exc:
                log.warning("heartbeat_failed", error=str(exc).strip()[:300], jobs=len(ids))
                continue
            held = {r["id"] for r in rows}
            for job_id in ids:
                if job_id not in held and job_id in self.inflight:
                    self.lost.add(job_id)
                    log.warning("lease_lost", job_id=str(job_id), detail="heartbeat found the job taken over")

    async def _housekeeping(self) -> None:
        last_prune = 0.0
        while True:
            try:
                for row in await store.rescue_jobs(self.pool):
                    log.warning("job_rescued", job_id=str(row["id"]), stage=row["stage"], status=row["status"],
                                previous_worker=row["locked_by"])
                if self.s.job_retention_days > 0 and time.monotonic() - last_prune > PRUNE_EVERY_S:
                    pruned = await store.prune_jobs(self.pool, days=self.s.job_retention_days)
                    last_prune = time.monotonic()
                    if pruned:
                        log.info("jobs_pruned", jobs=pruned, retention_days=self.s.job_retention_days)
            except DB_ERRORS as exc:
                log.warning("housekeeping_failed", error=str(exc).strip()[:300])
            await asyncio.sleep(self.s.poll_interval_s)

    async def _shutdown(self) -> None:
        """Let running stages finish within the grace period, then release them without spending an attempt.

        Only a job whose stage is still running is stopped: one whose result is being written finishes its write
        (cancelling it mid-commit could leave the row `running` until its lease ran out). Every release and every
        grouped completion has been committed (or has failed with a logged error) when this returns."""
        if self.inflight:
            log.info("worker_stopping", jobs=len(self.inflight), grace_s=self.s.shutdown_grace_s)
            tasks = dict(self.inflight)
            await asyncio.wait(tasks.values(), timeout=self.s.shutdown_grace_s)
            stopped = [job_id for job_id, task in tasks.items() if not task.done() and job_id not in self.storing]
            for job_id in stopped:
                tasks[job_id].cancel()  # kills its stage's process
            await asyncio.wait(tasks.values(), timeout=STORE_AT_SHUTDOWN_S)
            for job_id in stopped:
                await self._release(job_id)
        await self.completions.drain()

    async def _release(self, job_id: uuid.UUID) -> bool:
        """Back to `queued` with its attempt refunded: the worker stopped it, the job did nothing wrong."""
        try:
            async with self.pool.connection() as conn:
                released = await store.transition_job(
                    conn, id=job_id, worker_id=self.s.worker_id, status="queued",
                    outcome="released", error="released at shutdown", attempt_refund=True)
        except DB_ERRORS as exc:
            log.warning("release_failed", job_id=str(job_id), error=str(exc).strip()[:300])
            return False
        log.info("job_released", job_id=str(job_id), released=released)
        return released


class Completion(NamedTuple):
    job_id: uuid.UUID
    stage: str
    summary: Any
    warnings: Any
    artifacts: list[tuple[str, str, bytes]]


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


def stage_target(settings: Settings) -> dict[str, Any]:
    """The stage function STAGE_FUNCTION names ("module:function"), or the engine's by default."""
    if not settings.stage_function:
        return {}
    module, _, name = settings.stage_function.partition(":")
    return {"target": getattr(importlib.import_module(module), name)}


async def _first_of(*aws: Any, timeout: float) -> None:
    """Wait until any of the awaitables completes or `timeout` passes; cancel the rest."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()


async def run_worker(settings: Settings, stop: asyncio.Event) -> None:
    """Entry point for `studio worker`: its own pool sized for claims, heartbeats and results."""
    async with open_pool(settings, min_size=1, max_size=settings.worker_concurrency + 3) as pool:
        await Worker(settings, pool, stop).run()
