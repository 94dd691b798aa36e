"""Real workers (in this process, stages in real child processes) against a real PostgreSQL."""

from __future__ import annotations

import base64
import time
import uuid

import msgspec
import pytest

from pipeline import store
from pipeline.db import open_pool
from tests.integration.conftest import spec, wait_until, workers

pytestmark = pytest.mark.anyio


async def test_many_workers_run_every_stage_exactly_once(settings, fault_dir) -> None:  # type: ignore[no-untyped-def]
    async with open_pool(settings) as pool:
        ids = [(await store.insert_job(pool, spec=spec(f"J{i}"), job_ref=f"J{i}")).id for i in range(24)]
        async with workers(settings, n=3, worker_concurrency=2):
            jobs = await wait_until(pool, ids)
        assert {j.status for j in jobs} == {"succeeded"}
        for i in range(24):  # one execution per stage per job, whatever worker ran it
            for stage in ("cad", "pdf"):
                assert len((fault_dir / f"J{i}-{stage}").read_text().splitlines()) == 1
        for j in ids:
            names = [a.name for a in await store.list_artifacts(pool, j)]
            assert names == ["cad.txt", "pdf.txt"]


async def test_a_stage_that_fails_twice_then_succeeds(settings, fault_dir) -> None:  # type: ignore[no-untyped-def]
    async with open_pool(settings) as pool:
        job_id = (await store.insert_job(pool, spec=spec("FLAKY", "cad:fail:2"), job_ref="FLAKY")).id
        async with workers(settings):
            (job,) = await wait_until(pool, [job_id])
        assert job.status == "succeeded", job.last_error
        attempts = [(a.stage, a.attempt, a.outcome) for a in await store.list_job_attempts(pool, job_id)]
        assert attempts == [("cad", 1, "retry"), ("cad", 2, "retry"), ("cad", 3, "succeeded"),
                            ("pdf", 1, "succeeded")]
        assert len((fault_dir / "FLAKY-cad").read_text().splitlines()) == 3


async def test_a_pdf_failure_retries_the_pdf_stage_only(settings, fault_dir) -> None:  # type: ignore[no-untyped-def]
    async with open_pool(settings) as pool:
        job_id = (await store.insert_job(pool, spec=spec("PDFLAKY", "pdf:fail:1"), job_ref="PDFLAKY")).id
        async with workers(settings):
            (job,) = await wait_until(pool, [job_id])
        assert job.status == "succeeded"
        attempts = [(a.stage, a.outcome) for a in await store.list_job_attempts(pool, job_id)]
        assert attempts == [("cad", "succeeded"), ("pdf", "retry"), ("pdf", "succeeded")]
        assert len((fault_dir / "PDFLAKY-cad").read_text().splitlines()) == 1  # CAD output reused


async def test_the_pdf_stage_is_handed_the_cad_files_or_reads_them_back(settings, fault_dir, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    reads: list[uuid.UUID] = []
    read_back = store.list_stage_files

    async def counted(pool, id, stage):  # type: ignore[no-untyped-def]
        reads.append(id)
        return await read_back(pool, id, stage)

    monkeypatch.setattr(store, "list_stage_files", counted)
    async with open_pool(settings) as pool:
        handed = (await store.insert_job(pool, spec=spec("HANDED"), job_ref="HANDED")).id
        reread = (await store.insert_job(pool, spec=spec("REREAD", "pdf:fail:1"), job_ref="REREAD")).id
        async with workers(settings):
            jobs = await wait_until(pool, [handed, reread])
    assert {j.status for j in jobs} == {"succeeded"}
    assert reads == [reread]  # each first PDF attempt got the files from its CAD stage; only the retry read them
    for name in ("HANDED", "REREAD"):
        got = msgspec.json.decode((fault_dir / f"{name}-pdf-files").read_bytes())
        assert got == [["cad.txt", "text/plain", base64.b64encode(f"cad of {name}".encode()).decode()]]


async def test_a_stage_that_always_fails_keeps_every_error(settings, fault_dir) -> None:  # type: ignore[no-untyped-def]
    async with open_pool(settings) as pool:
        job_id = (await store.insert_job(pool, spec=spec("BROKEN", "cad:fail:always"), job_ref="BROKEN")).id
        async with workers(settings):
            (job,) = await wait_until(pool, [job_id])
        assert job.status == "failed"
        assert "injected failure 3 in cad" in job.last_error and "attempt 3 of 3" in job.last_error
        errors = [a.error for a in await store.list_job_attempts(pool, job_id)]
        assert len(errors) == 3 and all("injected failure" in e for e in errors)


async def test_a_crashing_stage_process_is_retried_and_the_worker_keeps_serving(settings, fault_dir) -> None:  # type: ignore[no-untyped-def]
    async with open_pool(settings) as pool:
        crash = (await store.insert_job(pool, spec=spec("CRASH", "cad:crash"), job_ref="CRASH", max_attempts=2)).id
        fine = (await store.insert_job(pool, spec=spec("FINE"), job_ref="FINE")).id
        async with workers(settings):
            crashed, ok = await wait_until(pool, [crash, fine])
        assert crashed.status == "failed" and "process died" in crashed.last_error
        assert ok.status == "succeeded"


async def test_a_stage_past_its_timeout_is_stopped(settings, fault_dir) -> None:  # type: ignore[no-untyped-def]
    async with open_pool(settings) as pool:
        job_id = (await store.insert_job(pool, spec=spec("SLOW", "cad:sleep:30"), job_ref="SLOW")).id
        started = time.monotonic()
        async with workers(settings, stage_timeout_s=1.0):
            (job,) = await wait_until(pool, [job_id])
        assert job.status == "failed" and "longer than 1 s" in job.last_error
        assert time.monotonic() - started < 20


async def test_shutdown_releases_a_running_stage_without_spending_an_attempt(settings, fault_dir) -> None:  # type: ignore[no-untyped-def]
    async with open_pool(settings) as pool:
        job_id = (await store.insert_job(pool, spec=spec("LONG", "cad:sleep:30"), job_ref="LONG")).id
        async with workers(settings, shutdown_grace_s=0.5):
            await wait_until(pool, [job_id], statuses=("running",))
        job = await store.get_job(pool, job_id)
        assert (job.status, job.attempts) == ("queued", 0)
        attempts = await store.list_job_attempts(pool, job_id)
        assert [a.outcome for a in attempts] == ["released"]


async def test_cancel_of_a_running_job_stops_at_the_stage_boundary(settings, fault_dir) -> None:  # type: ignore[no-untyped-def]
    async with open_pool(settings) as pool:
        job_id = (await store.insert_job(pool, spec=spec("STOPME", "cad:sleep:1"), job_ref="STOPME")).id
        async with workers(settings):
            await wait_until(pool, [job_id], statuses=("running",))
            assert (await store.cancel_job(pool, job_id)).status == "running"
            (job,) = await wait_until(pool, [job_id])
        assert job.status == "cancelled"
        assert not (fault_dir / "STOPME-pdf").exists()  # the PDF stage never ran
