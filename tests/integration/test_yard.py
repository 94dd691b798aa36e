"""The slab yard in the pipeline, against a real PostgreSQL and the real engine: an inventory job is nested on the
yard (remnants first), its CAD result commits with the allocation of its slabs, two jobs never take the same slab,
and a job that ends without being cut gives its slabs back."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import psycopg
import pytest

from ops.config.settings import Settings
from pipeline import store, yard
from pipeline.completion import Recorder
from pipeline.db import open_pool
from pipeline.rows import ClaimedJob
from pipeline.stages import StageRunner, run_stage
from pipeline.worker import Worker
from tests.integration.conftest import roll_back, wait_until

pytestmark = pytest.mark.anyio
QUARTZ = "Quartz (engineered)"


def inventory_spec(job_id: str, pieces: list[tuple[float, float]] | None = None, units: str = "mm") -> dict[str, Any]:
    return {"spec_version": "1.0", "job": {"id": job_id, "name": "yard"}, "units": units,
            "material": {"name": QUARTZ, "type": "quartz", "thickness": 30 if units == "mm" else 1.1811},
            "slab_stock": "inventory",
            "pieces": [{"id": f"P{i}", "shape": {"type": "rect", "length": length, "depth": depth}}
                       for i, (length, depth) in enumerate(pieces or [(1200, 600)])],
            "options": {"outputs": {"pdf": None, "glb": False, "svg": False}}}


async def add_slab(pool: Any, code: str, length: float, width: float, kind: str = "full", **more: Any) -> store.SlabRow:
    row = await store.insert_slab(pool, code=code, material=QUARTZ, thickness=30, length=length, width=width,
                                  kind=kind, **more)
    assert row is not None
    return row


async def submit(pool: Any, spec: dict[str, Any]) -> uuid.UUID:
    return (await store.insert_job(pool, spec=spec, job_ref=spec["job"]["id"])).id


@contextlib.asynccontextmanager
async def engine_worker(settings: Settings) -> AsyncIterator[Worker]:
    """One real worker with the real engine in its stage process."""
    stop = asyncio.Event()
    async with open_pool(settings, min_size=1, max_size=4) as pool:
        worker = Worker(settings, pool, stop, runner=StageRunner(1))
        task = asyncio.create_task(worker.run())
        try:
            yield worker
        finally:
            stop.set()
            await asyncio.wait_for(task, 60)


async def test_an_inventory_job_is_nested_on_the_remnant_first_and_holds_it(settings: Settings) -> None:
    async with open_pool(settings) as pool:
        full = await add_slab(pool, "F-1", 3050, 1440)
        rem = await add_slab(pool, "R-1", 1300, 800, kind="remnant")
        other = await store.insert_slab(pool, code="G-1", material="Granite", thickness=30, length=1300, width=800,
                                        kind="remnant")
        job_id = await submit(pool, inventory_spec("INV-1"))
        async with engine_worker(settings):
            (job,) = await wait_until(pool, [job_id])
        assert job.status == "succeeded", job.last_error
        assert [lay["slab_id"] for lay in job.summary["slabs"]["layouts"]] == ["R-1"]
        now = {code: await store.get_slab(pool, row.id) for code, row in
               (("F-1", full), ("R-1", rem), ("G-1", other))}  # type: ignore[union-attr]
        assert (now["R-1"].status, now["R-1"].allocated_to) == ("allocated", job_id)  # type: ignore[union-attr]
        assert now["F-1"].status == now["G-1"].status == "on_hand"  # type: ignore[union-attr]
        # A job in inches is nested on the same yard, converted: the full slab is what is left.
        inch_id = await submit(pool, inventory_spec("INV-2", [(47.24, 23.62)], units="in"))
        async with engine_worker(settings):
            (inch,) = await wait_until(pool, [inch_id])
        assert inch.status == "succeeded", inch.last_error
        assert [lay["slab_id"] for lay in inch.summary["slabs"]["layouts"]] == ["F-1"]


async def test_an_empty_yard_fails_the_job_with_a_reason(settings: Settings) -> None:
    async with open_pool(settings) as pool:
        job_id = await submit(pool, inventory_spec("EMPTY"))
        async with engine_worker(settings):
            (job,) = await wait_until(pool, [job_id])
    assert job.status == "failed" and "no slab on hand of Quartz (engineered), 30 mm" in job.last_error


async def claimed_and_nested(pool: Any, settings: Settings,
                             job_ids: list[uuid.UUID]) -> list[tuple[ClaimedJob, Any, yard.Stock]]:
    """Claim the jobs and run their CAD stages in this process: each is nested on the yard as it is now."""
    jobs = await store.claim_jobs(pool, worker_id=settings.worker_id, stages=("cad",), lease_s=60, limit=len(job_ids))
    assert sorted(j.id for j in jobs) == sorted(job_ids)
    out = []
    for job in jobs:
        stock = await yard.stock_for(pool, job.id, job.spec_json.encode())
        assert isinstance(stock, yard.Stock)
        out.append((job, run_stage("cad", stock.spec_json, None, []), stock))
    return out


async def test_two_jobs_never_take_the_same_remnant(settings: Settings) -> None:
    async with open_pool(settings) as pool:
        rem = await add_slab(pool, "R-1", 1300, 800, kind="remnant")
        full = await add_slab(pool, "F-1", 3050, 1440)
        ids = [await submit(pool, inventory_spec(f"RACE-{i}")) for i in range(2)]
        nested = await claimed_and_nested(pool, settings, ids)
        assert all(stock.chosen(out.summary) == [rem.id] for _, out, stock in nested)  # both want the remnant
        recorder = Recorder(pool, settings)
        outcomes = await asyncio.gather(*(recorder.succeeded(job, out, slabs=stock.chosen(out.summary))
                                          for job, out, stock in nested))
        assert sorted(outcome for outcome, _ in outcomes) == ["renest", "succeeded"]
        winner, loser = (ids[0], ids[1]) if outcomes[0][0] == "succeeded" else (ids[1], ids[0])
        assert (await store.get_slab(pool, rem.id)).allocated_to == winner  # type: ignore[union-attr]
        lost = await store.get_job(pool, loser)
        assert (lost.status, lost.attempts, lost.summary) == ("queued", 0, None)  # attempt refunded
        assert "another job" in lost.last_error
        # Nested again on what is left: the full slab.
        async with engine_worker(settings):
            (done,) = await wait_until(pool, [loser])
        assert done.status == "succeeded"
        assert [lay["slab_id"] for lay in done.summary["slabs"]["layouts"]] == ["F-1"]
        assert (await store.get_slab(pool, full.id)).allocated_to == loser  # type: ignore[union-attr]
        assert (await store.get_slab(pool, rem.id)).allocated_to == winner  # type: ignore[union-attr]


async def test_a_slab_being_taken_by_another_transaction_is_skipped_not_waited_on(settings: Settings) -> None:
    async with open_pool(settings) as pool:
        rem = await add_slab(pool, "R-1", 1300, 800, kind="remnant")
        job_id = await submit(pool, inventory_spec("LOCKED"))
        ((job, out, stock),) = await claimed_and_nested(pool, settings, [job_id])
        async with await psycopg.AsyncConnection.connect(settings.database_url) as other:
            async with other.transaction():
                await other.execute("SELECT 1 FROM slabs WHERE id = %s FOR UPDATE", [rem.id])
                started = time.monotonic()
                outcome, _ = await Recorder(pool, settings).succeeded(job, out, slabs=stock.chosen(out.summary))
                assert outcome == "renest" and time.monotonic() - started < 5
        assert (await store.get_slab(pool, rem.id)).status == "on_hand"  # type: ignore[union-attr]
        assert not await store.list_artifacts(pool, job_id)  # the result was not recorded either


@pytest.mark.parametrize("end", ["cancel", "fail", "delete"])
async def test_a_job_that_ends_uncut_gives_its_slabs_back(settings: Settings, end: str) -> None:
    async with open_pool(settings) as pool:
        rem = await add_slab(pool, "R-1", 1300, 800, kind="remnant")
        job_id = await submit(pool, inventory_spec("END"))
        async with pool.connection() as conn:
            assert len(await store.allocate_slabs(conn, job_id=job_id, ids=[rem.id])) == 1
        assert (await store.get_slab(pool, rem.id)).status == "allocated"  # type: ignore[union-attr]
        if end == "cancel":
            assert (await store.cancel_job(pool, job_id)).status == "cancelled"  # type: ignore[union-attr]
        elif end == "fail":
            (job,) = await store.claim_jobs(pool, worker_id="w", stages=("cad",), lease_s=30)
            async with pool.connection() as conn:
                assert await store.fail_job(conn, id=job.id, worker_id="w", error="boom")
        else:
            assert await store.delete_job(pool, job_id)
        back = await store.get_slab(pool, rem.id)
        assert (back.status, back.allocated_to) == ("on_hand", None)  # type: ignore[union-attr]
        # A consumed slab stays consumed when its job goes.
        async with pool.connection() as conn:
            await conn.execute("UPDATE slabs SET status = 'consumed' WHERE id = %s", [rem.id])


def test_stock_is_converted_into_the_jobs_units() -> None:
    stock = yard._zone_in({"type": "rect", "x": 25.4, "y": 0, "length": 254, "width": 50.8}, 1 / 25.4)
    assert stock == {"type": "rect", "x": pytest.approx(1.0), "y": 0.0, "length": pytest.approx(10.0),
                     "width": pytest.approx(2.0)}
    poly = yard._zone_in({"type": "polygon", "vertices": [[0, 0], [1, 0], [1, 1]]}, 25.4)
    assert poly["vertices"][2] == [25.4, 25.4]
    assert msgspec.json.decode(msgspec.json.encode(stock))  # plain JSON for the stage's spec


def test_the_migration_rolls_back_and_applies_again(db_url: str) -> None:
    from ops.migrate import migrate

    roll_back(db_url, "0006.slab_yard")
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert conn.execute("SELECT to_regclass('slabs'), to_regclass('slab_photos')").fetchone() == (None, None)
        assert conn.execute("SELECT count(*) FROM pg_trigger WHERE tgname = 'jobs_release_slabs'").fetchone() == (0,)
        conn.execute("INSERT INTO jobs (spec, job_ref, status) VALUES ('{}', 'X', 'queued')")
        conn.execute("UPDATE jobs SET status = 'cancelled'")  # jobs work without the yard
    assert migrate(db_url) == 1


async def finished(pool: Any, job_id: uuid.UUID, layouts: list[dict[str, Any]]) -> None:
    """The job as its worker leaves it: succeeded, with these slab layouts in its summary."""
    async with pool.connection() as conn:
        await conn.execute("UPDATE jobs SET status = 'succeeded', summary = %s WHERE id = %s",
                           [psycopg.types.json.Jsonb({"slabs": {"layouts": layouts}}), job_id])


def layout(code: str, *remnants: tuple[float, float]) -> dict[str, Any]:
    return {"slab_id": code, "remnants": [{"x_mm": 10, "y_mm": 10, "length_mm": length, "width_mm": width}
                                          for length, width in remnants]}


async def test_confirmation_consumes_the_slabs_and_keeps_the_offcuts(settings: Settings) -> None:
    async with open_pool(settings) as pool:
        inch = await store.insert_slab(pool, code="R-1", material=QUARTZ, material_type="quartz", thickness=1.25,
                                       length=80, width=40, units="in", kind="remnant")
        await add_slab(pool, "R-1-R1", 500, 500, kind="remnant")  # a code the first offcut would take
        job_id = await submit(pool, inventory_spec("CONFIRM"))
        with pytest.raises(yard.ConfirmRefused, match="must be succeeded") as refused:
            await yard.confirm_job(pool, job_id, None)
        assert refused.value.status == 409
        with pytest.raises(yard.ConfirmRefused) as missing:
            await yard.confirm_job(pool, uuid.uuid4(), None)
        assert missing.value.status == 404
        # The job failed at its PDF stage (its slab went back on hand) and was retried: it takes the slab again.
        await finished(pool, job_id, [layout("R-1", (1000.0, 400.37), (250.0, 250.0))])
        done = await yard.confirm_job(pool, job_id, None)
        assert done.consumed == ["R-1"]
        first, second = done.remnants
        assert first.code.startswith("R-1-R1-") and second.code == "R-1-R2"  # the live R-1-R1 keeps its code
        assert (first.units, first.length, first.width, first.thickness, first.material_type) == \
            ("in", 39.37, 15.76, 1.25, "quartz")  # 1000 mm and 400.37 mm, rounded down to 0.01 in
        assert (first.kind, first.status, first.parent_id) == ("remnant", "on_hand", inch.id)  # type: ignore[union-attr]
        used = await store.get_slab(pool, inch.id)  # type: ignore[union-attr]
        assert (used.status, used.allocated_to) == ("consumed", job_id)  # type: ignore[union-attr]
        with pytest.raises(yard.ConfirmRefused, match="already confirmed"):
            await yard.confirm_job(pool, job_id, None)
        # A slab another job holds is not taken by a confirmation: nothing changes.
        other = await add_slab(pool, "F-1", 3050, 1440)
        later = await submit(pool, inventory_spec("LATER"))
        holder = await submit(pool, inventory_spec("HOLDER"))
        async with pool.connection() as conn:
            await store.allocate_slabs(conn, job_id=holder, ids=[other.id])
        await finished(pool, later, [layout("F-1", (900.0, 900.0))])
        with pytest.raises(yard.ConfirmRefused, match="F-1 of this job left the yard"):
            await yard.confirm_job(pool, later, None)
        assert (await store.get_slab(pool, other.id)).allocated_to == holder  # type: ignore[union-attr]
        assert len(await store.list_slabs(pool)) == 5  # R-1, R-1-R1, the two offcuts, F-1: no offcut of F-1


async def test_a_yard_full_of_offcuts_still_offers_its_full_slabs(settings: Settings) -> None:
    async with open_pool(settings) as pool:
        for i in range(90):
            await add_slab(pool, f"R-{i:03}", 300 + i, 300, kind="remnant")
        await add_slab(pool, "F-1", 3050, 1440)
        job_id = await submit(pool, inventory_spec("BIG", [(2500, 900)]))
        stock = await yard.stock_for(pool, job_id, msgspec.json.encode(inventory_spec("BIG", [(2500, 900)])))
        assert isinstance(stock, yard.Stock)
        slabs = msgspec.json.decode(stock.spec_json)["slab_stock"]
        assert len(slabs) == 81 and slabs[-1]["id"] == "F-1" and slabs[0]["id"] == "R-000"  # smallest offcut first
        assert all(s["qty"] == 1 for s in slabs)
