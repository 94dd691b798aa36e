"""A side task that dies is restarted; a stage past its memory limit fails once; the per-owner active count."""

from __future__ import annotations

import structlog
import pytest

from pipeline import store
from pipeline.db import open_pool
from tests.integration.conftest import spec, wait_until, workers

pytestmark = pytest.mark.anyio


async def test_a_heartbeat_that_dies_is_restarted_and_no_job_runs_twice(settings, fault_dir, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    calls: list[str] = []
    extend = store.extend_leases

    async def dies_once(pool, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs["worker_id"])
        if len(calls) == 1:
            raise RuntimeError("unexpected bug in the heartbeat")  # not a database error
        return await extend(pool, **kwargs)

    monkeypatch.setattr(store, "extend_leases", dies_once)
    async with open_pool(settings) as pool:
        job_id = (await store.insert_job(pool, spec=spec("HB", "cad:sleep:4"), job_ref="HB")).id
        with structlog.testing.capture_logs() as logs:
            # The stage outlives its 1 s lease four times; the second worker rescues anything whose lease expires.
            async with workers(settings, n=2, lease_s=1.0, heartbeat_s=0.2, poll_interval_s=0.2):
                (job,) = await wait_until(pool, [job_id])
    assert job.status == "succeeded"
    assert len((fault_dir / "HB-cad").read_text().splitlines()) == 1  # ran once
    died = [e for e in logs if e["event"] == "side_task_died"]
    assert [(e["task"], e["log_level"]) for e in died] == [("heartbeat", "error")]
    assert len(calls) > 5  # the restarted heartbeat kept the lease while the stage ran
    assert not [e for e in logs if e["event"] == "job_rescued"]
    attempts = [(a.stage, a.outcome) for a in await store_attempts(settings, job_id)]
    assert attempts == [("cad", "succeeded"), ("pdf", "succeeded")]


async def store_attempts(settings, job_id):  # type: ignore[no-untyped-def]
    async with open_pool(settings) as pool:
        return await store.list_job_attempts(pool, job_id)


async def test_a_stage_past_its_memory_limit_fails_once_with_a_readable_error(settings, fault_dir) -> None:  # type: ignore[no-untyped-def]
    async with open_pool(settings) as pool:
        job_id = (await store.insert_job(pool, spec=spec("OOM", "cad:alloc:1024"), job_ref="OOM")).id
        ok_id = (await store.insert_job(pool, spec=spec("FITS"), job_ref="FITS")).id
        async with workers(settings, stage_memory_mb=512):
            job, fits = await wait_until(pool, [job_id, ok_id])
        assert job.status == "failed"
        assert job.last_error == "the stage ran out of memory (limit 512 MB)"
        assert len((fault_dir / "OOM-cad").read_text().splitlines()) == 1  # no retry storm
        assert fits.status == "succeeded"  # the worker and its next child carry on


async def test_count_active_jobs_counts_one_owners_queued_and_running_jobs(settings) -> None:  # type: ignore[no-untyped-def]
    async with open_pool(settings) as pool:
        mine = [(await store.insert_job(pool, spec=spec(f"A{i}"), job_ref=f"A{i}", owner="ann")).id
                for i in range(3)]
        await store.insert_job(pool, spec=spec("B"), job_ref="B", owner="bob")
        await store.insert_job(pool, spec=spec("N"), job_ref="N")
        assert await store.count_active_jobs(pool, "ann") == 3
        (claimed,) = await store.claim_jobs(pool, worker_id="w", stages=("cad", "pdf"), lease_s=30, limit=1)
        assert claimed.id == mine[0]  # claimed in submission order: now running
        await store.cancel_job(pool, mine[2], owner="ann")
        assert await store.count_active_jobs(pool, "ann") == 2  # running and queued count; cancelled does not
        assert await store.count_active_jobs(pool, "bob") == 1
        assert await store.count_active_jobs(pool, None) == 1
        assert await store.count_active_jobs(pool, "nobody") == 0
