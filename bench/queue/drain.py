"""Drain throughput: n no-op jobs enqueued in bulk, then drained by one consumer in one process.

(a) the queue layer in-process: our claim_jobs + lease-guarded completion against pgqueuer and procrastinate,
    each on a fresh database of the same server, interleaved;
(b) the real `studio worker` process (child-process stage runner) with a no-op STAGE_FUNCTION.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from typing import Any, NamedTuple

import psycopg

from bench import common

SMALL_SPEC = "{}"  # the queue layer carries an opaque payload; pgqueuer's is NULL, procrastinate's {}


class CpuPerJob(NamedTuple):
    """CPU microseconds per job during one drain. In-process: this process, then nothing, then PostgreSQL. The real
    worker: its main process, its stage children, PostgreSQL. PostgreSQL's is the postmaster's process tree
    (backends, WAL writer, checkpointer, autovacuum, reaped backends); zero when the server is not ours to read."""

    consumer_us: float
    children_us: float
    postgres_us: float


class _CpuMeter:
    """Reads the CPU of the consumer (the worker process `pid` and its children, or this process) and of the server,
    before and after a drain."""

    def __init__(self, server: Any, pid: int | None = None) -> None:
        self.pm = common.postmaster_pid(server)
        self.pid = pid

    def read(self) -> tuple[float, float, float]:
        postgres = common.tree_cpu([self.pm]) if self.pm else 0.0
        if self.pid is None:
            return time.process_time(), 0.0, postgres
        main = common.process_cpu(self.pid)  # with the children it reaped (a replaced stage process)
        return main, common.tree_cpu([self.pid]) - main, postgres

    def per_job(self, before: tuple[float, float, float], n: int) -> CpuPerJob:
        after = self.read()
        return CpuPerJob(*((b - a) / n * 1e6 for a, b in zip(before, after, strict=True)))


# ---- ours, in-process ----------------------------------------------------------------------------


def _bulk_insert_ours(url: str, n: int, spec_json: str = SMALL_SPEC) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("""INSERT INTO jobs (spec, job_ref)
                        SELECT %s::jsonb, 'bench-' || g FROM generate_series(1, %s) g""", (spec_json, n))
        conn.execute("ANALYZE jobs, job_queue")  # what autovacuum does within a minute of a burst


def _count_succeeded(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM jobs WHERE status = 'succeeded'").fetchone()
    return int(row[0]) if row else 0


async def _drain_ours(url: str, batch: int, mode: str, meter: _CpuMeter, cpu: list[CpuPerJob] | None,
                     n: int) -> float:
    """mode: "per_job" (one guarded completion per job, its own commit: the worker's path before batching), "batch"
    (one complete_jobs per claim, then the next claim) or "coalesced" (the worker's GroupCommit: the next
    claim runs while completions commit; those arriving during a commit share the next one)."""
    from ops.config.settings import Settings
    from pipeline import store
    from pipeline.db import GroupCommit, open_pool
    from pipeline.rows import ClaimedJob
    from pipeline.worker import Completion, write_completions

    settings = Settings(database_url=url, worker_id="bench").normalized()
    handled = 0

    def noop(job: ClaimedJob) -> None:
        nonlocal handled
        handled += 1

    async with open_pool(settings, min_size=3, max_size=3) as pool:
        await pool.wait()
        completions = GroupCommit(functools.partial(write_completions, pool, "bench"))
        pending: set[asyncio.Task[bool]] = set()
        cpu0 = meter.read()
        started = time.perf_counter()
        while True:
            jobs = await store.claim_jobs(pool, worker_id="bench", stages=("cad", "pdf"), lease_s=30.0, limit=batch)
            if not jobs:
                if pending:  # completions still in flight may be the last jobs: wait, then look again
                    await asyncio.wait(pending)
                    continue
                break
            for job in jobs:
                noop(job)
            if mode == "per_job":
                for job in jobs:
                    async with pool.connection() as conn, conn.transaction():
                        assert await store.complete_jobs(conn, worker_id="bench", ids=[job.id]) == {job.id}
            elif mode == "batch":
                async with pool.connection() as conn:
                    done = await store.complete_jobs(conn, worker_id="bench", ids=[j.id for j in jobs])
                assert len(done) == len(jobs)
            else:
                for job in jobs:
                    task = asyncio.create_task(completions.submit(Completion(job.id, job.stage, None, None, [])))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
                if len(pending) >= 4 * batch:  # bounded: at most a few batches awaiting their commit
                    await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        elapsed = time.perf_counter() - started
        if cpu is not None:
            cpu.append(meter.per_job(cpu0, n))
    return elapsed


def run_ours(server: Any, n: int, batch: int, mode: str = "coalesced", cpu: list[CpuPerJob] | None = None) -> float:
    meter = _CpuMeter(server)
    with common.fresh_database(server, "bq_ours") as url:
        _bulk_insert_ours(url, n)
        elapsed = asyncio.run(_drain_ours(url, batch, mode, meter, cpu, n))
        assert _count_succeeded(url) == n, "not every job was completed"
    return n / elapsed


# ---- pgqueuer ------------------------------------------------------------------------------------


async def _pgqueuer(url: str, n: int, batch: int, meter: _CpuMeter, cpu: list[CpuPerJob] | None) -> float:
    import asyncpg
    from pgqueuer import AsyncpgDriver, PgQueuer, Queries
    from pgqueuer.domain.types import QueueExecutionMode

    conn = await asyncpg.connect(url)
    try:
        driver = AsyncpgDriver(conn)
        queries = Queries(driver)
        await queries.install()
        await queries.enqueue(["noop"] * n, [None] * n, [0] * n)
        pgq = PgQueuer(driver)
        handled, last = 0, 0.0

        @pgq.entrypoint("noop")
        async def noop(job: Any) -> None:
            nonlocal handled, last
            handled += 1
            last = time.perf_counter()

        cpu0 = meter.read()
        started = time.perf_counter()
        await asyncio.wait_for(pgq.run(batch_size=batch, mode=QueueExecutionMode.drain), timeout=300)
        if cpu is not None:  # its buffered completions are flushed by now: their cost is in
            cpu.append(meter.per_job(cpu0, n))
        assert handled == n, f"pgqueuer ran {handled} of {n}"
        # Until the last job finished (its shutdown tail is not work): generous to pgqueuer, whose
        # completions are still buffered at that moment, while ours are committed.
        return n / (last - started)
    finally:
        await conn.close()


def run_pgqueuer(server: Any, n: int, batch: int, cpu: list[CpuPerJob] | None = None) -> float:
    meter = _CpuMeter(server)
    with common.fresh_database(server, "bq_pgq", migrated=False) as url:
        return asyncio.run(_pgqueuer(url, n, batch, meter, cpu))


# ---- procrastinate -------------------------------------------------------------------------------


async def _procrastinate(url: str, n: int, concurrency: int) -> float:
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url))
    handled, last = 0, 0.0

    @app.task(queue="bench", name="noop")
    async def noop() -> None:
        nonlocal handled, last
        handled += 1
        last = time.perf_counter()

    async with app.open_async():
        await app.schema_manager.apply_schema_async()
        await noop.batch_defer_async(*[{}] * n)
        started = time.perf_counter()
        await asyncio.wait_for(app.run_worker_async(queues=["bench"], wait=False, concurrency=concurrency,
                                                    install_signal_handlers=False, listen_notify=False),
                               timeout=300)
    assert handled == n, f"procrastinate ran {handled} of {n}"
    return n / (last - started)


def run_procrastinate(server: Any, n: int, concurrency: int) -> float:
    import logging

    logging.getLogger("procrastinate").setLevel(logging.WARNING)
    with common.fresh_database(server, "bq_proc", migrated=False) as url:
        return asyncio.run(_procrastinate(url, n, concurrency))


# ---- the real worker process ---------------------------------------------------------------------


def run_worker_process(server: Any, n: int, concurrency: int, cpu: list[CpuPerJob] | None = None) -> float:
    """Single-stage no-op jobs drained by a real `studio worker` process: from its first claim to the last.

    The worker is warmed first (a few jobs per slot, so every stage child process is spawned and has imported
    its code); then the n jobs are inserted in one statement, the tables analyzed, and one NOTIFY sent.
    """
    spec = json.dumps(common.example_spec("island.json", pdf=False))
    with common.fresh_database(server, "bq_wrk") as url:
        env = common.worker_env(url, stage_function="bench.queue.noop:noop_stage", worker_concurrency=concurrency)
        with common.process(common.studio("worker"), env, log_path=common.log_file(f"drain-worker-c{concurrency}")) as worker, \
                psycopg.connect(url, autocommit=True) as conn:
            meter = _CpuMeter(server, worker.pid)
            conn.execute("""INSERT INTO jobs (spec, job_ref) SELECT %s::jsonb, 'warm' FROM generate_series(1, %s)""",
                         (spec, 3 * concurrency))
            conn.execute("NOTIFY studio_jobs")
            common.wait_for(lambda: _remaining(conn) == 0, 120, "the warm-up jobs", 0.05)
            conn.execute("""INSERT INTO jobs (spec, job_ref)
                            SELECT %s::jsonb, 'bench-' || g FROM generate_series(1, %s) g""", (spec, n))
            # As for the in-process runs: what autovacuum does within a minute of a burst. Planned on the statistics
            # of an empty queue, a claim scans and sorts the whole backlog (2.1 ms against 0.3 ms for 3,030 jobs).
            conn.execute("ANALYZE jobs, job_queue")
            cpu0 = meter.read()
            conn.execute("NOTIFY studio_jobs")  # the worker is idle until this (its poll is 5 s)
            common.wait_for(lambda: _remaining(conn) == 0, 300, "the worker to drain the queue", 0.05)
            if cpu is not None:  # the harness's insert and its "done yet?" polls are in PostgreSQL's share
                cpu.append(meter.per_job(cpu0, n))
            row = conn.execute("""SELECT extract(epoch FROM max(finished_at) - min(started_at)),
                                         count(*) FILTER (WHERE status = 'succeeded')
                                    FROM jobs WHERE job_ref <> 'warm'""").fetchone()
        assert row is not None and row[1] == n, f"only {row and row[1]} of {n} succeeded"
    return n / float(row[0])


def _remaining(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT count(*) FROM jobs WHERE status NOT IN ('succeeded', 'failed')").fetchone()
    return int(row[0]) if row else -1
