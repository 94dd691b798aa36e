"""The queue's queries against a real PostgreSQL: claims, leases, guards, idempotency, plans."""

from __future__ import annotations

import asyncio
import json
import uuid

import psycopg
import pytest

from pipeline import store, yard_store
from pipeline.db import open_pool

pytestmark = pytest.mark.anyio

SPEC = {"spec_version": "1.0", "job": {"id": "T", "name": "t"}}


async def _submit(pool, n: int = 1, **kw) -> list[uuid.UUID]:  # type: ignore[no-untyped-def]
    return [(await store.insert_job(pool, spec=SPEC, job_ref="T", **kw)).id for _ in range(n)]


def test_each_named_query_has_a_store_function_of_its_name() -> None:
    """`claim_jobs` <-> `store.claim_jobs`; the yard's in yard_store. A private runner (`_transition_job`) serves
    several named functions, and insert_jobs reads `get_job_by_idempotency_key` itself."""
    public = {name for module in (store, yard_store) for name in dir(module) if not name.startswith("_")}
    unmatched = [name for name in store.QUERIES if name not in public and f"_{name}" not in dir(store)]
    assert unmatched == ["get_job_by_idempotency_key"]
    yard_functions = [name for name, value in vars(yard_store).items()
                      if callable(value) and getattr(value, "__module__", None) == yard_store.__name__]
    assert yard_functions and set(yard_functions) <= set(store.QUERIES)


async def test_concurrent_claims_never_share_a_job(settings) -> None:  # type: ignore[no-untyped-def]
    async with open_pool(settings, min_size=4, max_size=8) as pool:
        ids = set(await _submit(pool, 40))
        claims = await asyncio.gather(*[
            store.claim_jobs(pool, worker_id=f"w{i}", stages=("cad",), lease_s=30, limit=7) for i in range(6)])
        claimed = [row.id for rows in claims for row in rows]
        assert len(claimed) == len(set(claimed)) == 40
        assert set(claimed) == ids
        assert await store.claim_jobs(pool, worker_id="late", stages=("cad",), lease_s=30) == []


async def test_claim_respects_stage_priority_and_run_after(settings) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    async with open_pool(settings) as pool:
        low = (await _submit(pool, priority=0))[0]
        high = (await _submit(pool, priority=5))[0]
        later = (await _submit(pool, priority=9, run_after=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)))[0]
        assert await store.claim_jobs(pool, worker_id="w", stages=("pdf",), lease_s=30) == []
        first = await store.claim_jobs(pool, worker_id="w", stages=("cad",), lease_s=30)
        second = await store.claim_jobs(pool, worker_id="w", stages=("cad",), lease_s=30)
        assert [first[0].id, second[0].id] == [high, low]
        assert later not in {first[0].id, second[0].id}
        assert await store.claim_jobs(pool, worker_id="w", stages=("cad",), lease_s=30) == []


async def test_non_holder_cannot_move_a_job(settings) -> None:  # type: ignore[no-untyped-def]
    async with open_pool(settings) as pool:
        (job_id,) = await _submit(pool)
        await store.claim_jobs(pool, worker_id="holder", stages=("cad",), lease_s=30)
        async with pool.connection() as conn:
            assert await store.complete_jobs(conn, worker_id="intruder", ids=[job_id]) == set()
            assert not await store.fail_job(conn, id=job_id, worker_id="intruder", error="not mine")
            assert not await store.requeue_for_next_stage(conn, id=job_id, worker_id="intruder", stage="pdf")
        assert (await store.get_job(pool, job_id)).status == "running"
        async with pool.connection() as conn:
            assert await store.complete_jobs(conn, worker_id="holder", ids=[job_id]) == {job_id}
        job = await store.get_job(pool, job_id)
        assert job.status == "succeeded" and job.finished_at is not None
        attempts = await store.list_job_attempts(pool, job_id)
        assert [(a.worker_id, a.outcome) for a in attempts] == [("holder", "succeeded")]


async def test_each_named_transition_moves_the_job_its_own_way(settings) -> None:  # type: ignore[no-untyped-def]
    async def claim(pool, stage="cad"):  # type: ignore[no-untyped-def]
        (job,) = await store.claim_jobs(pool, worker_id="w", stages=(stage,), lease_s=30)
        return job

    async with open_pool(settings) as pool:
        (job_id,) = await _submit(pool)
        assert (await claim(pool)).attempts == 1
        async with pool.connection() as conn:  # a retry keeps the attempt spent and waits its delay
            assert await store.schedule_retry(conn, id=job_id, worker_id="w", error="flaky", delay_s=0)
        job = await store.get_job(pool, job_id)
        assert (job.status, job.stage, job.attempts, job.last_error) == ("queued", "cad", 1, "flaky")
        assert (await claim(pool)).attempts == 2
        async with pool.connection() as conn:  # a release refunds the attempt
            assert await store.release_job(conn, id=job_id, worker_id="w")
        job = await store.get_job(pool, job_id)
        assert (job.status, job.attempts, job.last_error) == ("queued", 1, "released at shutdown")
        await claim(pool)
        async with pool.connection() as conn:  # the next stage starts with fresh attempts and the stage's summary
            assert await store.requeue_for_next_stage(conn, id=job_id, worker_id="w", stage="pdf",
                                                      summary={"pieces": 1}, warnings=[{"code": "W"}])
        job = await store.get_job(pool, job_id)
        assert (job.status, job.stage, job.attempts, job.last_error) == ("queued", "pdf", 0, None)
        assert (job.summary, job.warnings, job.finished_at) == ({"pieces": 1}, [{"code": "W"}], None)
        await claim(pool, "pdf")
        async with pool.connection() as conn:  # a failure ends the job; the summary stays
            assert await store.fail_job(conn, id=job_id, worker_id="w", error="bad spec")
        job = await store.get_job(pool, job_id)
        assert (job.status, job.stage, job.last_error, job.summary) == ("failed", "pdf", "bad spec", {"pieces": 1})
        assert job.finished_at is not None
        attempts = [(a.stage, a.attempt, a.outcome, a.error) for a in await store.list_job_attempts(pool, job_id)]
        assert attempts == [("cad", 1, "retry", "flaky"), ("cad", 2, "released", "released at shutdown"),
                            ("cad", 2, "succeeded", None), ("pdf", 1, "failed", "bad spec")]


async def test_expired_lease_is_rescued_and_reclaimed(settings) -> None:  # type: ignore[no-untyped-def]
    async with open_pool(settings) as pool:
        (job_id,) = await _submit(pool)
        await store.claim_jobs(pool, worker_id="dead", stages=("cad",), lease_s=0.01)
        await asyncio.sleep(0.05)
        rescued = await store.rescue_jobs(pool)
        assert [(r.id, r.status, r.locked_by) for r in rescued] == [(job_id, "queued", "dead")]
        again = await store.claim_jobs(pool, worker_id="alive", stages=("cad",), lease_s=30)
        assert again[0].id == job_id and again[0].attempts == 2
        async with pool.connection() as conn:  # the dead worker's late result is refused
            assert await store.complete_jobs(conn, worker_id="dead", ids=[job_id]) == set()
            assert not await store.schedule_retry(conn, id=job_id, worker_id="dead", error="late", delay_s=0)
        outcomes = [(a.worker_id, a.outcome) for a in await store.list_job_attempts(pool, job_id)]
        assert outcomes == [("dead", "lost"), ("alive", None)]


async def test_rescue_fails_a_job_whose_attempts_are_spent(settings) -> None:  # type: ignore[no-untyped-def]
    async with open_pool(settings) as pool:
        (job_id,) = await _submit(pool, max_attempts=1)
        await store.claim_jobs(pool, worker_id="dead", stages=("cad",), lease_s=0.01)
        await asyncio.sleep(0.05)
        await store.rescue_jobs(pool)
        job = await store.get_job(pool, job_id)
        assert job.status == "failed" and "lease expired" in job.last_error


async def test_idempotency_key_returns_the_same_job(settings) -> None:  # type: ignore[no-untyped-def]
    async with open_pool(settings) as pool:
        a = await store.insert_job(pool, spec=SPEC, job_ref="T", idempotency_key="k1", request_sha256="aa")
        b = await store.insert_job(pool, spec=SPEC, job_ref="T", idempotency_key="k1", request_sha256="aa")
        assert a.id == b.id and a.created and not b.created
        with pytest.raises(store.IdempotencyConflict):
            await store.insert_job(pool, spec=SPEC, job_ref="T", idempotency_key="k1", request_sha256="bb")
        other_owner = await store.insert_job(pool, spec=SPEC, job_ref="T", idempotency_key="k1",
                                             request_sha256="aa", owner="someone")
        assert other_owner.id != a.id and other_owner.created


async def test_insert_notifies_on_commit(settings) -> None:  # type: ignore[no-untyped-def]
    async with await psycopg.AsyncConnection.connect(settings.database_url, autocommit=True) as listener:
        await listener.execute("LISTEN studio_jobs")
        async with open_pool(settings) as pool:
            await _submit(pool)
        got = [n async for n in listener.notifies(timeout=5, stop_after=1)]
        assert [n.channel for n in got] == ["studio_jobs"]


async def test_submissions_that_arrive_together_share_one_insert_and_one_notification(settings) -> None:  # type: ignore[no-untyped-def]
    """The API's GroupCommit over insert_jobs: one transaction (one now()) and one wake-up for a burst, the
    Idempotency-Key still per job (a key repeated inside the batch returns the first job, another body is a 409),
    and a job the database refuses fails alone."""
    import functools

    from pipeline.db import GroupCommit

    async with await psycopg.AsyncConnection.connect(settings.database_url, autocommit=True) as listener:
        await listener.execute("LISTEN studio_jobs")
        async with open_pool(settings) as pool:
            submissions = GroupCommit(functools.partial(store.insert_jobs, pool))
            jobs = [store.NewJob(spec=SPEC, job_ref=f"B{i}") for i in range(20)]
            jobs += [store.NewJob(spec=SPEC, job_ref="K", idempotency_key="k", request_sha256="aa"),
                     store.NewJob(spec=SPEC, job_ref="K", idempotency_key="k", request_sha256="aa"),
                     store.NewJob(spec=SPEC, job_ref="K", idempotency_key="k", request_sha256="bb")]
            results = await asyncio.gather(*(submissions.submit(j) for j in jobs), return_exceptions=True)
            assert [r.id for r in results[:20]] == [j.id for j in jobs[:20]]  # the ids the caller chose
            assert all(r.created and r.status == "queued" for r in results[:20])
            first, replay, conflict = results[20:]
            assert first.created and not replay.created and replay.id == first.id
            assert isinstance(conflict, store.IdempotencyConflict)
            async with pool.connection() as conn:
                rows = await (await conn.execute("SELECT count(*) AS n, count(DISTINCT created_at) AS commits "
                                                 "FROM jobs WHERE job_ref LIKE 'B%%' OR job_ref = 'K'")).fetchall()
            assert rows[0]["n"] == 21 and rows[0]["commits"] == 1
            # A job the database refuses (max_attempts must be positive) fails alone; the others still go in.
            again = [store.NewJob(spec=SPEC, job_ref="C1"), store.NewJob(spec=SPEC, job_ref="C2", max_attempts=0),
                     store.NewJob(spec=SPEC, job_ref="C3")]
            results = await asyncio.gather(*(submissions.submit(j) for j in again), return_exceptions=True)
            assert isinstance(results[1], psycopg.errors.CheckViolation)
            assert results[0].created and results[2].created
        got = [n async for n in listener.notifies(timeout=1, stop_after=10)]
        assert len(got) == 3  # one per committed statement: the burst, then C1 and C3 one by one


async def test_claim_plan_uses_the_partial_index(settings) -> None:  # type: ignore[no-untyped-def]
    async with open_pool(settings) as pool:
        async with pool.connection() as conn:
            # Many finished jobs and a few queued ones: the planner must go to the partial index.
            await conn.execute("""INSERT INTO jobs (spec, job_ref, status, finished_at)
                                  SELECT '{}', 'x', 'succeeded', now() FROM generate_series(1, 5000)""")
            await conn.execute("INSERT INTO jobs (spec, job_ref) SELECT '{}', 'x' FROM generate_series(1, 5)")
            await conn.execute("ANALYZE jobs")
            query = store.QUERIES["claim_jobs"]
            cur = await conn.execute(b"EXPLAIN (FORMAT JSON) " + query.encode(),
                                     {"worker_id": "w", "stages": ["cad"], "lease_s": 30, "limit": 1})
            plan = json.dumps((await cur.fetchone())["QUERY PLAN"])
            await conn.rollback()
        assert "jobs_claim_idx" in plan, plan


async def test_cancel_retry_delete(settings) -> None:  # type: ignore[no-untyped-def]
    async with open_pool(settings) as pool:
        ids = await _submit(pool, 2)
        running = (await store.claim_jobs(pool, worker_id="w", stages=("cad",), lease_s=30, limit=1))[0].id
        (queued,) = set(ids) - {running}
        assert (await store.cancel_job(pool, queued)).status == "cancelled"
        assert (await store.cancel_job(pool, running)).status == "running"  # asked to stop at the boundary
        async with pool.connection() as conn:
            assert await store.requeue_for_next_stage(conn, id=running, worker_id="w", stage="pdf")
        assert (await store.get_job(pool, running)).status == "cancelled"
        assert not await store.delete_job(pool, uuid.uuid4())
        assert (await store.retry_job(pool, queued)).status == "queued"
        assert await store.delete_job(pool, running)
        assert await store.get_job(pool, running) is None


async def test_catalogue_is_seeded_and_reads_as_an_engine_catalogue(settings) -> None:  # type: ignore[no-untyped-def]
    from decimal import Decimal

    import msgspec

    from engine.pricing import Catalogue

    async with open_pool(settings) as pool:
        raw = await store.get_catalogue(pool)
    cat = msgspec.json.decode(raw, type=Catalogue)
    assert cat.default_currency == "EUR" and set(cat.price_lists) == {"EUR", "USD"}
    eur, usd = cat.price_lists["EUR"], cat.price_lists["USD"]
    assert (eur.area_unit, eur.length_unit, eur.tax, eur.tax_rate) == ("m2", "m", "vat", Decimal("0.25000"))
    assert eur.materials["Granite"].price_per_area == Decimal("260.00") and eur.measure_rounding is None
    assert eur.edge_per_length["eased"] == Decimal("18.00") and eur.cutout_each["cooktop"] == Decimal("90.00")
    assert (usd.area_unit, usd.length_unit, usd.tax, usd.prices_include_tax) == ("ft2", "ft", "sales_tax", False)
    assert (usd.measure_rounding, usd.measure_rounding_unit) == (Decimal("0.5000"), "in")
    assert usd.cutout_edge_per_length == {"polished": Decimal("12.00")}


async def test_prune_removes_only_old_finished_jobs(settings) -> None:  # type: ignore[no-untyped-def]
    async with open_pool(settings) as pool:
        old, recent, queued = await _submit(pool, 3)
        async with pool.connection() as conn:
            await conn.execute("UPDATE jobs SET status = 'succeeded', finished_at = now() - interval '40 days' "
                               "WHERE id = %s", (old,))
            await conn.execute("UPDATE jobs SET status = 'failed', finished_at = now() - interval '1 day' "
                               "WHERE id = %s", (recent,))
        assert await store.prune_jobs(pool, days=30) == 1
        assert await store.get_job(pool, old) is None
        assert await store.get_job(pool, recent) is not None and await store.get_job(pool, queued) is not None


def _migrate(url: str, revision: str, *, rollback: bool) -> None:
    """`yoyo rollback -r revision` (the migration and every later one built on it), or apply them all again."""
    from yoyo import get_backend, read_migrations
    from yoyo.migrations import descendants

    from ops.config.dsn import yoyo_url
    from ops.migrate import MIGRATIONS_DIR

    backend = get_backend(yoyo_url(url))
    try:
        with backend.lock():
            migrations = read_migrations(str(MIGRATIONS_DIR))
            (target,) = [m for m in migrations if m.id == revision]
            if rollback:
                chain = descendants(target, migrations) | {target}
                backend.rollback_migrations(backend.to_rollback(migrations.filter(chain.__contains__)))
            else:
                backend.apply_migrations(backend.to_apply(migrations))
    finally:
        backend.connection.close()


async def test_migration_0003_moves_a_running_attempt_onto_its_job_and_back(settings) -> None:  # type: ignore[no-untyped-def]
    """An attempt open when 0003 is applied (claimed by the earlier release) ends as exactly one row; rollback too."""
    import psycopg

    def apply(rollback: bool) -> None:
        _migrate(settings.database_url, "0003.attempt_rows_at_end", rollback=rollback)

    async with open_pool(settings) as pool:
        (running, finished) = await _submit(pool, 2)
        await store.claim_jobs(pool, worker_id="w1", stages=("cad",), lease_s=30, limit=2)
        async with pool.connection() as conn:
            await store.complete_jobs(conn, worker_id="w1", ids=[finished])
    apply(rollback=True)
    with psycopg.connect(settings.database_url, autocommit=True) as conn:  # the rollback reopened the row
        rows = conn.execute("SELECT job_id, worker_id, finished_at FROM job_attempts ORDER BY id").fetchall()
        assert [(r[0], r[1], r[2] is None) for r in rows] == [(finished, "w1", False), (running, "w1", True)]
        claimed_at = conn.execute("UPDATE job_attempts SET started_at = now() - interval '1 minute' "
                                  "WHERE finished_at IS NULL RETURNING started_at").fetchone()[0]
    apply(rollback=False)
    async with open_pool(settings) as pool:
        (now_running,) = await store.list_job_attempts(pool, running)
        assert (now_running.worker_id, now_running.started_at, now_running.outcome) == ("w1", claimed_at, None)
        async with pool.connection() as conn:
            assert await store.complete_jobs(conn, worker_id="w1", ids=[running]) == {running}
        (done,) = await store.list_job_attempts(pool, running)
        assert (done.started_at, done.outcome) == (claimed_at, "succeeded") and done.finished_at > claimed_at
        assert [a.outcome for a in await store.list_job_attempts(pool, finished)] == ["succeeded"]


async def test_migration_0007_moves_queued_and_running_jobs_to_the_queue_table_and_back(settings) -> None:  # type: ignore[no-untyped-def]
    """Up, down and up again with a queued and a running job: the lease, attempts and attempt start travel with
    the job both ways, a job queued while rolled back (the earlier release's insert) is claimable after, and the
    running job's holder still finishes it."""
    async with open_pool(settings) as pool:
        queued = (await _submit(pool))[0]
        running = (await _submit(pool, priority=1))[0]
        assert [j.id for j in await store.claim_jobs(pool, worker_id="w1", stages=("cad",), lease_s=30)] == [running]
        (claimed,) = await store.list_job_attempts(pool, running)
    _migrate(settings.database_url, "0007.narrow_queue", rollback=True)
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        assert conn.execute("SELECT to_regclass('job_queue')").fetchone() == (None,)
        rows = conn.execute("SELECT id, status, locked_by, attempts, attempt_started_at FROM jobs ORDER BY priority"
                            ).fetchall()
        assert rows == [(queued, "queued", None, 0, None), (running, "running", "w1", 1, claimed.started_at)]
        (late,) = conn.execute("INSERT INTO jobs (spec, job_ref) VALUES ('{}', 'late') RETURNING id").fetchone()
    _migrate(settings.database_url, "0007.narrow_queue", rollback=False)
    async with open_pool(settings) as pool:
        assert [(await store.get_job(pool, j)).status for j in (queued, running, late)] == ["queued", "running",
                                                                                               "queued"]
        assert await store.list_job_attempts(pool, running) == [claimed]
        async with pool.connection() as conn:
            assert await store.complete_jobs(conn, worker_id="w1", ids=[running]) == {running}
        again = await store.claim_jobs(pool, worker_id="w2", stages=("cad",), lease_s=30, limit=5)
        assert {j.id for j in again} == {queued, late} and {j.attempts for j in again} == {1}
        done = await store.get_job(pool, running)
        assert (done.status, done.attempts, done.started_at) == ("succeeded", 1, claimed.started_at)


async def _hot_completions(settings, n: int) -> int:  # type: ignore[no-untyped-def]
    """Complete n fresh jobs in one statement; how many of those updates of `jobs` were HOT."""

    def hot_updates() -> int:
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            row = conn.execute("SELECT n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'jobs'").fetchone()
        return int(row[0])

    async with open_pool(settings) as pool:
        ids = set(await _submit(pool, n))
        claimed = await store.claim_jobs(pool, worker_id="hot", stages=("cad",), lease_s=30, limit=n)
        assert {job.id for job in claimed} == ids
        before = hot_updates()
        async with pool.connection() as conn:
            assert await store.complete_jobs(conn, worker_id="hot", ids=list(ids)) == ids
            await conn.execute("SELECT pg_stat_force_next_flush()")
            await conn.execute("SELECT 1")  # the flush happens as this session goes idle after a statement
        await asyncio.sleep(0.1)
    return hot_updates() - before


async def test_migration_0008_lets_the_stage_end_update_the_job_row_in_place(settings) -> None:  # type: ignore[no-untyped-def]
    """With the b-tree on finished_at no completion is a HOT update (the finished row needs an index entry); with
    0008 (a BRIN index, room left on each page) most are. Rolled back and applied again."""
    _migrate(settings.database_url, "0008.finished_brin", rollback=True)
    try:
        assert await _hot_completions(settings, 20) == 0
    finally:
        _migrate(settings.database_url, "0008.finished_brin", rollback=False)
    with psycopg.connect(settings.database_url) as conn:
        assert conn.execute("SELECT am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam "
                            "WHERE c.relname = 'jobs_finished_idx'").fetchone() == ("brin",)
    assert await _hot_completions(settings, 20) >= 10


async def test_a_queue_that_outgrows_its_statistics_is_analyzed_again(settings) -> None:  # type: ignore[no-untyped-def]
    """Planned on the statistics of an empty queue (this test's fresh database), a claim scans and sorts every queued
    row. Once the live rows outgrow the statistics, queue_statistics_stale says so; after analyze_queue the claim
    reads the index in order."""
    claim = store._claim_query(5).decode()
    params = {"worker_id": "burst", "stages": ["cad"], "lease_s": 30.0}
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        _burst_into_a_queue_analyzed_empty(conn)

        def plan() -> str:
            return "\n".join(row[0] for row in conn.execute("EXPLAIN (COSTS OFF) " + claim, params))

        async with open_pool(settings) as pool:
            for _ in range(50):  # the live-row count reaches the shared statistics within a second or so
                if await store.queue_statistics_stale(pool):
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("2,000 queued jobs in a queue analyzed empty were not seen as stale")
            assert "Sort" in plan()  # what the stale statistics make of a claim
            await store.analyze_queue(pool)
            assert not await store.queue_statistics_stale(pool)
            assert "Index Scan using jobs_claim_idx" in plan() and "Sort" not in plan()


def _burst_into_a_queue_analyzed_empty(conn: psycopg.Connection) -> None:  # type: ignore[type-arg]
    conn.execute("ALTER TABLE job_queue SET (autovacuum_enabled = false)")  # this test's database: it is not ahead of us
    conn.execute("ANALYZE job_queue")  # empty
    conn.execute("INSERT INTO jobs (spec, job_ref) SELECT %s, 'burst' FROM generate_series(1, 2000)", (json.dumps(SPEC),))
    conn.execute("SELECT pg_stat_force_next_flush()")
    conn.execute("SELECT 1")  # the flush happens as this session goes idle after a statement


async def test_housekeeping_analyzes_a_queue_that_outgrew_its_statistics(settings) -> None:  # type: ignore[no-untyped-def]
    from pipeline.maintenance import housekeeping

    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        _burst_into_a_queue_analyzed_empty(conn)
        async with open_pool(settings) as pool:
            task = asyncio.create_task(housekeeping(pool, settings))  # every poll_interval_s (1 s here)
            try:
                for _ in range(100):
                    (tuples,) = conn.execute("SELECT reltuples FROM pg_class WHERE relname = 'job_queue'").fetchone()
                    if tuples >= 2000:
                        break
                    await asyncio.sleep(0.1)
                assert tuples >= 2000, tuples
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
