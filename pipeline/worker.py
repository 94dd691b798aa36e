"""The pipeline worker: woken by NOTIFY (polling as a safety net), claims jobs with SKIP LOCKED, runs a stage
in a child process while a heartbeat extends its lease, and stores the result under that lease."""

from __future__ import annotations

import asyncio
import functools
import importlib
import time
import uuid
from typing import Any

import psycopg_pool
import structlog

from ops.config.dsn import is_pooler
from ops.config.settings import Settings
from pipeline import store, yard
from pipeline.completion import Completion, Recorder, Result, write_completions
from pipeline.db import listen, open_pool
from pipeline.heartbeat import heartbeat
from pipeline.maintenance import housekeeping
from pipeline.rows import ClaimedJob
from pipeline.stages import StageCrashed, StageOutOfMemory, StageRunner, StageTimeout
from pipeline.supervise import DB_ERRORS, first_of, supervised

__all__ = ["Completion", "Worker", "run_worker", "write_completions"]  # the last two for bench.queue

log = structlog.get_logger()

CATALOGUE_TTL_S = 60.0
STORE_AT_SHUTDOWN_S = 10.0  # after the grace period: for results already being written, and the releases


class Worker:
    def __init__(self, settings: Settings, pool: psycopg_pool.AsyncConnectionPool, stop: asyncio.Event,
                 runner: StageRunner | None = None) -> None:
        self.settings = settings
        self.pool = pool
        self.stop = stop
        self.wake = asyncio.Event()
        self.slot_freed = asyncio.Event()
        self.runner = runner or StageRunner(settings.worker_concurrency, memory_mb=settings.stage_memory_mb or None,
                                            **stage_target(settings))
        self.inflight: dict[uuid.UUID, asyncio.Task[None]] = {}  # claimed, until the result is stored
        self.storing: set[uuid.UUID] = set()  # of those, the ones whose stage is done: their slot is free again
        self.lost: set[uuid.UUID] = set()  # leases another worker took over: drop our results
        self.record = Recorder(pool, settings)
        self._catalogue_cache: tuple[float, bytes | None] | None = None

    async def run(self) -> None:
        """Claim and run jobs until `stop` is set, then shut down gracefully."""
        log.info("worker_started", worker_id=self.settings.worker_id, stages=list(self.settings.worker_stages),
                 concurrency=self.settings.worker_concurrency, poll_interval_s=self.settings.poll_interval_s)
        side_tasks = {
            "heartbeat": functools.partial(heartbeat, self.pool, self.settings, self.inflight, self.lost),
            "housekeeping": functools.partial(housekeeping, self.pool, self.settings),
        }
        if self.settings.database_direct_url or not is_pooler(self.settings.database_url):
            side_tasks["listener"] = functools.partial(
                listen, self.settings.session_url, ("studio_jobs",), lambda _notify: self.wake.set(),
                on_connect=self.wake.set, stop=self.stop)
        else:
            log.warning("listen_unavailable", reason="DATABASE_URL goes through a transaction pooler and "
                        "DATABASE_DIRECT_URL is not set", poll_interval_s=self.settings.poll_interval_s)
        helpers = [asyncio.create_task(supervised(name, side_task, self.stop))
                   for name, side_task in side_tasks.items()]
        try:
            await self._loop()
        finally:
            await self._shutdown()
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            self.runner.close()
            log.info("worker_stopped", worker_id=self.settings.worker_id)

    def _free_slots(self) -> int:
        """Slots whose stage process is idle. A job whose result is being written no longer holds one, so the next
        claim overlaps that commit; at most `concurrency` such writes are in flight, which bounds the claims."""
        running = len(self.inflight) - len(self.storing)
        return min(self.settings.worker_concurrency - running, 2 * self.settings.worker_concurrency - len(self.inflight))

    async def _loop(self) -> None:
        backoff = 0.1
        while not self.stop.is_set():
            free = self._free_slots()
            jobs: list[ClaimedJob] = []
            if free > 0:
                self.wake.clear()  # before claiming, so a NOTIFY that lands during the query is not lost
                try:
                    jobs = await store.claim_jobs(self.pool, worker_id=self.settings.worker_id,
                                                  stages=self.settings.worker_stages, lease_s=self.settings.lease_s, limit=free)
                    backoff = 0.1
                except DB_ERRORS as exc:
                    log.warning("claim_failed", error=str(exc).strip()[:300], retry_in_s=round(backoff, 2))
                    await first_of(self.stop.wait(), timeout=backoff)
                    backoff = min(5.0, backoff * 2)
                    continue
            for job in jobs:
                self.inflight[job.id] = asyncio.create_task(self._process(job))
            if jobs and self._free_slots() > 0:
                continue  # more may be waiting: claim again before sleeping
            self.slot_freed.clear()
            waits = [self.stop.wait(), self.slot_freed.wait()]
            if self._free_slots() > 0:
                waits.append(self.wake.wait())
            await first_of(*waits, timeout=self.settings.poll_interval_s)

    async def _process(self, job: ClaimedJob) -> None:
        job_id, stage, attempt = job.id, job.stage, job.attempts
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

    async def _run_and_store(self, job: ClaimedJob) -> Result:
        job_id, stage = job.id, job.stage
        spec_json = job.spec_json.encode()  # as stored: the child decodes it, the worker never needs to
        summary_json = job.summary_json.encode() if job.summary_json is not None else None
        files: list[tuple[str, str, bytes]] = []
        catalogue = None
        if stage == "pdf":
            handed = self.record.handoff.pop(job_id, None)
            files = handed if handed is not None else [
                (row.name, row.content_type, bytes(row.data))
                for row in await store.list_stage_files(self.pool, job_id, "cad")]
        else:
            catalogue = await self._catalogue()
        stock = None
        if stage == "cad" and yard.from_inventory(spec_json):  # the yard's slabs are read now, not at submission
            stock = await yard.stock_for(self.pool, job_id, spec_json)
            if isinstance(stock, str):
                return await self.record.failed(job, stock)
            spec_json = stock.spec_json
        try:
            try:
                out = await self.runner.run(self.settings.stage_timeout_s, stage, spec_json, summary_json, files, catalogue)
            finally:
                self.storing.add(job_id)  # the stage's process is free: the loop may claim while we write
                self.slot_freed.set()
        except StageTimeout as exc:
            return await self.record.failed(job, str(exc))
        except StageOutOfMemory:  # the same spec would hit the limit again: retrying only burns the machine
            limit = f" (limit {self.runner.memory_mb} MB)" if self.runner.memory_mb else ""
            return await self.record.failed(job, f"the stage ran out of memory{limit}")
        except StageCrashed as exc:
            if self.stop.is_set():  # signalled with the whole process group (Ctrl+C, systemd): not the job's fault
                return ("released" if await self.record.released(job_id) else "lease_lost"), None
            return await self.record.retry_or_fail(job, str(exc))
        except Exception as exc:  # raised inside the stage: not the engine's verdict on the spec, so transient
            return await self.record.retry_or_fail(job, f"{type(exc).__name__}: {exc}")
        if out.engine_error is not None:
            return await self.record.failed(job, out.engine_error, warnings=out.findings or None)
        if job_id in self.lost:
            log.warning("lease_lost", detail="result dropped: another attempt owns the job")
            return "lease_lost", None
        return await self.record.succeeded(job, out, slabs=stock.chosen(out.summary) if stock else None)

    async def _catalogue(self) -> bytes | None:
        """The price catalogue, read at most once a minute: prices change rarely, CAD stages run often."""
        now = time.monotonic()
        if self._catalogue_cache is None or now - self._catalogue_cache[0] > CATALOGUE_TTL_S:
            self._catalogue_cache = (now, await store.get_catalogue(self.pool))
        return self._catalogue_cache[1]

    async def _shutdown(self) -> None:
        """Let running stages finish within the grace period, then release them without spending an attempt.

        Only a job whose stage is still running is stopped: one whose result is being written finishes its write
        (cancelling it mid-commit could leave the row `running` until its lease ran out). Every release and every
        grouped completion has been committed (or has failed with a logged error) when this returns."""
        if self.inflight:
            log.info("worker_stopping", jobs=len(self.inflight), grace_s=self.settings.shutdown_grace_s)
            tasks = dict(self.inflight)
            await asyncio.wait(tasks.values(), timeout=self.settings.shutdown_grace_s)
            stopped = [job_id for job_id, task in tasks.items() if not task.done() and job_id not in self.storing]
            for job_id in stopped:
                tasks[job_id].cancel()  # kills its stage's process
            await asyncio.wait(tasks.values(), timeout=STORE_AT_SHUTDOWN_S)
            for job_id in stopped:
                await self.record.released(job_id)
        await self.record.completions.drain()

def stage_target(settings: Settings) -> dict[str, Any]:
    """The stage function STAGE_FUNCTION names ("module:function"), or the engine's by default."""
    if not settings.stage_function:
        return {}
    module, _, name = settings.stage_function.partition(":")
    return {"target": getattr(importlib.import_module(module), name)}


async def run_worker(settings: Settings, stop: asyncio.Event) -> None:
    """Entry point for `studio worker`: its own pool sized for claims, heartbeats and results."""
    async with open_pool(settings, min_size=1, max_size=settings.worker_concurrency + 3) as pool:
        await Worker(settings, pool, stop).run()
