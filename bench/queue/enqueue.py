"""The "Enqueue overhead" section: one job per transaction through `store.insert_job` (pool, msgspec jsonb,
idempotency handling) against a one-row INSERT + pg_notify statement in a raw psycopg loop."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from bench import common

# The raw loop's parameters: a job like ours, without an idempotency key.
RAW_PARAMS = {"job_ref": "RAW", "owner": None, "priority": 0, "run_after": None, "max_attempts": 3,
              "idempotency_key": None, "request_sha256": None}


async def _ours(url: str, n: int, spec: dict[str, Any]) -> float:
    from ops.config.settings import Settings
    from pipeline import store
    from pipeline.db import open_pool

    async with open_pool(Settings(database_url=url).normalized(), min_size=1, max_size=1) as pool:
        await pool.wait()
        started = time.perf_counter()
        for _ in range(n):
            await store.insert_job(pool, spec=spec, job_ref="OURS")
        return n / (time.perf_counter() - started)


async def _raw(url: str, n: int, spec: dict[str, Any]) -> float:
    import pipeline.db  # noqa: F401  (the same msgspec jsonb dumper as ours)

    query = common.RAW_INSERT_NOTIFY
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        started = time.perf_counter()
        for _ in range(n):
            await conn.execute(query, {**RAW_PARAMS, "spec": Jsonb(spec), "warnings": Jsonb([])})
        return n / (time.perf_counter() - started)


def run(server: Any, variant: str, n: int) -> float:
    spec = common.example_spec("island.json")
    with common.fresh_database(server, "be_enq") as url:
        return asyncio.run((_ours if variant == "ours" else _raw)(url, n, spec))


def main(argv: list[str]) -> int:
    p = common.base_parser(__doc__ or "")
    p.add_argument("--jobs", type=int, default=None, help="jobs per run (default 1000)")
    args = p.parse_args(argv)
    rounds = args.rounds or (1 if args.quick else 3)
    n = args.jobs or (30 if args.quick else 1000)
    load0 = os.getloadavg()[0]
    with common.durable_server() as server:
        pgv = common.pg_version(server)
        samples = common.interleaved(rounds, ["raw", "ours"], lambda v, _r: run(server, v, n), common.eprint)
    m = {k: common.med(v) for k, v in samples.items()}
    ratio = m["ours"] / m["raw"]
    body = f"""
{common.header("python -m bench.queue enqueue --write", pgv)} {rounds} interleaved rounds of {n:,} jobs each,
one job per transaction, the `examples/island.json` spec; medians.
{common.load_note(load0)}

| enqueue, one at a time | jobs/s | vs raw | samples |
|---|---|---|---|
| raw psycopg loop: a one-row INSERT + pg_notify statement (`bench.common.RAW_INSERT_NOTIFY`), one autocommit connection | {common.fmt_n(m['raw'])} | 1.00x | {', '.join(common.fmt_n(x) for x in samples['raw'])} |
| `store.insert_job`: `insert_jobs` with one job (pool checkout, the job as a JSON array, idempotency branch) | {common.fmt_n(m['ours'])} | {ratio:.2f}x | {', '.join(common.fmt_n(x) for x in samples['ours'])} |

Our layer's overhead: {(1 / ratio - 1) * 100:+.0f}% time per job. Both are bound by the durable commit (an fsync per
job on this disk). One at a time is the worst case for our layer: the API submits through a GroupCommit, so
submissions that arrive together share a statement and a commit (see "NOTIFY under insert load"); this section
is what a lone submission pays. History (py-spy, `store.insert_job` in a loop): the pool's connections used to
run the statement inside psycopg's implicit transaction, BEGIN and COMMIT being two more round trips than the
autocommit loop; the pool is now autocommit (`pipeline.db.pool_kwargs`), so `insert_job` is one round trip too
(0.63x before that change, same harness). `insert_jobs` takes its jobs as one JSON array (`jsonb_to_recordset`):
as parallel arrays (a `jsonb[]` of specs among them) psycopg's array dumping cost ~1.2 ms of Python CPU per
statement. What is left is Python CPU in our layer: the pool's checkout and return (`AsyncConnectionPool.connection`,
`getconn`/`putconn`, our socket check) and the `_rows` helper (cursor description, `fetchall`, dict rows). A
connection held across submissions (the raw loop's shape) would remove most of it, at the price of the pool's
health checks and fairness; not done.
"""
    common.emit("Enqueue overhead", body, {"samples": samples, "medians": m}, args)
    return 0
