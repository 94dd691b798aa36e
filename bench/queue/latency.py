"""The "Pickup latency" section: an idle real `studio worker`, sequential submissions from this process,
10,000 finished jobs in the table; submit -> claim and submit -> stage start, p50 / p95 / max."""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import msgspec
import psycopg

from bench import common

POLL_S = 5.0
TARGET_P50_MS, TARGET_P95_MS = 1.5, 3.0


async def _probe(url: str, n: int) -> dict[str, list[float]]:
    from ops.config.settings import Settings
    from pipeline import store
    from pipeline.db import open_pool

    body = common.example_spec("island.json", pdf=False, job_id="PROBE")
    settings = Settings(database_url=url).normalized()
    out: dict[str, list[float]] = {"ack_to_claim": [], "ack_to_stage": [], "call_to_stage": [], "commit": []}
    async with open_pool(settings, min_size=1, max_size=2) as pool, \
            await psycopg.AsyncConnection.connect(url, autocommit=True) as events:
        await events.execute("LISTEN studio_job_events")
        for i in range(n + 5):  # the first 5 warm up the worker's child process and prepared statements
            called = time.time()
            job_id = (await store.insert_job(pool, spec=body, job_ref="PROBE")).id
            acked = time.time()
            async for note in events.notifies(timeout=POLL_S * 2):
                ev = msgspec.json.decode(note.payload)
                if ev["id"] == str(job_id) and ev["status"] in ("succeeded", "failed"):
                    break
            else:
                raise TimeoutError(f"job {job_id} did not finish within {POLL_S * 2:g} s")
            if i < 5:
                continue
            async with pool.connection() as conn:
                cur = await conn.execute("""
                    SELECT extract(epoch FROM a.started_at) AS claimed, j.summary->>'stage_started_at' AS stage
                      FROM jobs j JOIN job_attempts a ON a.job_id = j.id WHERE j.id = %s""", (job_id,))
                row = await cur.fetchone()
            assert row is not None and row["stage"] is not None
            out["ack_to_claim"].append((float(row["claimed"]) - acked) * 1000)
            out["ack_to_stage"].append((float(row["stage"]) - acked) * 1000)
            out["call_to_stage"].append((float(row["stage"]) - called) * 1000)
            out["commit"].append((acked - called) * 1000)
    return out


def run(server: Any, n: int, finished: int, env_extra: dict[str, str] | None = None) -> dict[str, list[float]]:
    with common.fresh_database(server, "bl_lat") as url:
        with psycopg.connect(url) as conn:  # a table that has seen work
            conn.execute("""INSERT INTO jobs (spec, job_ref, status, stage, finished_at)
                            SELECT '{}', 'old', 'succeeded', 'pdf', now() FROM generate_series(1, %s)""", (finished,))
            conn.execute("ANALYZE jobs")
        env = common.worker_env(url, stage_function="bench.queue.noop:stamp_stage", worker_concurrency=1,
                                poll_interval_s=POLL_S, **(env_extra or {}))
        with common.process(common.studio("worker"), env, log_path=common.log_file("latency-worker")):
            time.sleep(1.0)  # let it connect, LISTEN and go idle
            return asyncio.run(_probe(url, n))


def summarize(values: list[float]) -> dict[str, float]:
    s = sorted(values)
    return {"p50": statistics.median(s), "p95": common.pct(s, 95), "max": s[-1]}


def main(argv: list[str]) -> int:
    p = common.base_parser(__doc__ or "")
    p.add_argument("--jobs", type=int, default=None, help="sequential submissions (default 1000)")
    args = p.parse_args(argv)
    n = args.jobs or (30 if args.quick else 1000)
    finished = 200 if args.quick else 10_000
    rounds = args.rounds or 1
    with common.durable_server() as server:
        pgv = common.pg_version(server)
        results: dict[str, list[float]] = {}
        for r in range(rounds):
            got = run(server, n, finished)
            common.eprint(f"round {r + 1}: ack->stage p50 {statistics.median(got['ack_to_stage']):.2f} ms")
            for k, v in got.items():
                results.setdefault(k, []).extend(v)
    s = {k: summarize(v) for k, v in results.items()}
    st = s["ack_to_stage"]
    ok = st["p50"] <= TARGET_P50_MS and st["p95"] <= TARGET_P95_MS and st["max"] < POLL_S * 1000 / 2
    cmd = "python -m bench.queue latency --write"
    rows = "\n".join(f"| {label} | {s[k]['p50']:.2f} | {s[k]['p95']:.2f} | {s[k]['max']:.2f} |" for k, label in (
        ("ack_to_claim", "commit acknowledged -> claim (attempt row `started_at`)"),
        ("ack_to_stage", "commit acknowledged -> stage function starts in the child"),
        ("call_to_stage", "submit call -> stage function starts (includes the submitter's durable commit)"),
        ("commit", "the submitter's own `insert_job` (INSERT + NOTIFY + fsync'd commit)")))
    body = f"""
{common.header(cmd, pgv)} {len(results['ack_to_stage']):,} sequential submissions ({rounds} run), {finished:,}
finished jobs in the table, one idle real `studio worker` (concurrency 1, `POLL_INTERVAL_S={POLL_S:g}`,
`STAGE_FUNCTION=bench.queue.noop:stamp_stage`, which records the wall clock when it starts in the child).
Submissions go through `store.insert_job` from the harness process; the next is sent when the previous one
has finished.

| interval, ms | p50 | p95 | max |
|---|---|---|---|
{rows}

| target (commit acknowledged -> stage start) | measured | |
|---|---|---|
| p50 <= {TARGET_P50_MS} ms, p95 <= {TARGET_P95_MS} ms, nothing near the {POLL_S:g} s poll | {st['p50']:.2f} / {st['p95']:.2f} / max {st['max']:.2f} ms | {common.verdict(ok)} |
"""
    common.emit("Pickup latency", body + NOTES, {"samples": results, "summary": s}, args)
    return 0


NOTES = """
Where the time goes. The wake-up itself is not the problem: from the submitter's commit to the claim
statement starting on the worker (NOTIFY delivered, listener callback, `wake` set, `_first_of` returning, pool
checkout) is the first row. It can be negative: "acknowledged" is when `insert_job` returns in the harness,
after psycopg has read the reply and the pool has taken the connection back, while PostgreSQL sends the
NOTIFY to the worker at the moment it sends that reply, so the worker's claim (its `now()`) can start first.
The rest, up to the stage function running, is spent after the claim, inside the worker: the claim statement
and its commit (without an fsync), and the hop to the stage's child process. What was fixed along the way: the
claim no longer waits for an fsync; the pool's checkout check no longer costs a round trip; the catalogue is
cached in the worker for 60 s instead of read before every CAD stage; the stage runner talks to one long-lived
child per slot over a pipe the event loop watches (`loop.add_reader`), where a ProcessPoolExecutor added a
manager, a feeder and a result thread (call -> stage start 0.19 -> 0.04 ms p50 in isolation); the claim returns
the spec as JSON text, handed to the child without a decode and re-encode; and (migration 0003) the claim no
longer inserts the attempt's row. What is left to try: an inline mode for trivial stage functions. None of
this is near the poll interval: no wake-up was lost (the max is one sample in 1,000 on a shared machine, not a
poll: the poll interval is 5 s). The run is one pass of 1,000 submissions, and it follows the machine's load:
p50 / p95 were 1.44 / 2.39 ms (10:54, load 0.7), 0.91 / 2.18 (12:16), 1.37 / 2.52 (12:27), 1.75 / 3.47
(13:08, load 1.6) and 1.45 / 2.55 (13:17, load 0.6, not written) on 2026-11-25, with the same queue code
since 12:16; then 1.40 / 2.42 (14:55, load 0.8, the table above), after submissions moved to `insert_jobs`
(the submitter's side only: the worker's path is unchanged). The target is met on a quiet machine, and the
p95 is the first to go when it is not.

Issue 18 (migration 0007): the claim updates the narrow `job_queue` row instead of the job row; the rest of the
pickup path is the same. Alternating the trees on this machine (2026-12-06 08:05-08:30, load 3.3-4.6, one pass of
1,000 each), commit acknowledged -> stage start, p50 / p95 before: 1.30 / 5.12, 1.21 / 5.46, 1.15 / 5.09,
0.77 / 4.22, 1.18 / 5.40, 1.17 / 4.63 ms; after: 1.16 / 5.29, 1.55 / 8.31, 1.34 / 8.11, 1.51 / 5.42,
1.17 / 4.71, 0.95 / 4.37 ms. The two are within the machine's noise of each other; this busy, neither keeps the
p95 under 3 ms in a single pass; three-pass runs did at 08:30 (load 3.2: 0.73 / 2.88 ms) and at 10:26 (the
table, after migration 0008, load 1.5). One pass at 10:13 (load 0.9): 1.08 / 1.86 ms.
"""
