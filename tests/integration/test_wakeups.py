"""Lost-wake-up probe: an idle worker must pick up every job on its NOTIFY, never on the safety-net poll."""

from __future__ import annotations

import asyncio
import statistics

import msgspec
import psycopg
import pytest

from pipeline import store
from pipeline.db import open_pool
from tests.integration.conftest import spec, workers

pytestmark = pytest.mark.anyio

POLL_S = 5.0


async def test_no_submission_waits_for_the_poll(settings, fault_dir) -> None:  # type: ignore[no-untyped-def]
    settings = msgspec.structs.replace(settings, poll_interval_s=POLL_S)
    async with open_pool(settings) as pool:
        async with pool.connection() as conn:  # a table that has seen work: 10,000 finished jobs
            await conn.execute("""INSERT INTO jobs (spec, job_ref, status, stage, finished_at)
                                  SELECT '{}', 'old', 'succeeded', 'pdf', now() FROM generate_series(1, 10000)""")
            await conn.execute("ANALYZE jobs")
        body = spec("PROBE")
        async with await psycopg.AsyncConnection.connect(settings.database_url, autocommit=True) as events:
            await events.execute("LISTEN studio_job_events")
            async with workers(settings):
                await asyncio.sleep(0.5)  # the worker is idle and listening
                for _ in range(1000):
                    job_id = (await store.insert_job(pool, spec=body, job_ref="PROBE")).id
                    async for n in events.notifies(timeout=POLL_S):  # sequential: wait for this one's pickup
                        if msgspec.json.decode(n.payload)["id"] == str(job_id) and '"running"' in n.payload:
                            break
                    else:
                        pytest.fail(f"job {job_id} not picked up within the poll interval")
        async with pool.connection() as conn:
            cur = await conn.execute("""
                SELECT extract(epoch FROM a.started_at - j.created_at) * 1000 AS ms
                  FROM jobs j JOIN job_attempts a ON a.job_id = j.id AND a.stage = 'cad' AND a.attempt = 1
                 WHERE j.job_ref = 'PROBE'""")
            pickup_ms = sorted(r["ms"] for r in await cur.fetchall())
    assert len(pickup_ms) == 1000
    p50, p95, worst = statistics.median(pickup_ms), pickup_ms[949], pickup_ms[-1]
    print(f"pickup ms: p50 {p50:.2f} p95 {p95:.2f} max {worst:.2f}")
    # Not a speed target (that is bench/): a lost NOTIFY would show as a wait near the 5 s poll.
    assert worst < POLL_S * 1000 / 2, f"a pickup took {worst:.0f} ms: a wake-up was lost"


async def test_a_listener_cancelled_as_it_is_told_to_stop_ends(settings) -> None:  # type: ignore[no-untyped-def]
    """A worker's shutdown sets `stop` and cancels its helpers in the same breath. Cancelled while it waited for a
    notification, the listener left that read pending; the read held the connection's lock, and leaving the
    connection (its rollback) waited on it forever: a worker that never stopped."""
    from pipeline.db import listen

    connected = asyncio.Event()
    stop = asyncio.Event()
    task = asyncio.create_task(listen(settings.session_url, ("studio_jobs",), lambda _n: None,
                                      on_connect=connected.set, stop=stop))
    await asyncio.wait_for(connected.wait(), timeout=10)
    await asyncio.sleep(0.05)  # waiting for a notification now
    stop.set()
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=5)
    assert done == {task}, "the listener did not end"
