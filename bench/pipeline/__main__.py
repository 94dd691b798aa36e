"""`python -m bench.pipeline [--quick] [--write]`: the "Pipeline" section.

The example jobs end to end through real `studio worker` processes (submit -> every artifact stored), against
the engine called directly in one process (engine.cad.run_cad + engine.pdf.render_pdf), and jobs per minute
with 1 and 2 worker processes.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import msgspec
import psycopg

from bench import common

EXAMPLES = ("l-kitchen.json", "island.json")
TARGET_OVERHEAD, TARGET_SCALING = 1.2, 1.8


def direct(n: int) -> float:
    """Seconds per job running the engine in this process, both stages, examples alternating."""
    from engine.cad import run_cad
    from engine.model import Summary, to_builtins
    from engine.pdf import render_pdf
    from engine.spec import JobSpec

    specs = [msgspec.convert(common.example_spec(name), JobSpec) for name in EXAMPLES]
    run_cad(specs[0])  # warm: imports, fonts
    started = time.perf_counter()
    for i in range(n):
        spec = specs[i % len(specs)]
        cad = run_cad(spec)
        summary = msgspec.convert(to_builtins(cad.summary), Summary)
        svgs = {a.name: a.data for a in cad.artifacts if a.content_type == "image/svg+xml"}
        render_pdf(spec, summary, svgs)
    return (time.perf_counter() - started) / n


async def _submit_and_wait(url: str, n: int, timeout_s: float) -> float:
    from ops.settings import Settings
    from pipeline import store
    from pipeline.db import open_pool

    specs = [common.example_spec(name) for name in EXAMPLES]
    async with open_pool(Settings(database_url=url).normalized(), min_size=1, max_size=2) as pool:
        started = time.perf_counter()
        for i in range(n):
            await store.insert_job(pool, spec=specs[i % len(specs)], job_ref="PIPE")
        deadline = time.monotonic() + timeout_s
        while True:
            async with pool.connection() as conn:
                cur = await conn.execute("SELECT count(*) FILTER (WHERE status IN ('succeeded', 'failed')) AS done, "
                                         "count(*) FILTER (WHERE status = 'failed') AS failed FROM jobs")
                row = await cur.fetchone()
            assert row is not None
            if row["failed"]:
                raise RuntimeError(f"{row['failed']} jobs failed")
            if row["done"] == n:
                return time.perf_counter() - started
            if time.monotonic() > deadline:
                raise TimeoutError(f"{row['done']} of {n} jobs done after {timeout_s:g} s")
            await asyncio.sleep(0.05)


def through_workers(server: Any, n: int, workers: int, timeout_s: float) -> float:
    """Seconds per job (wall time / n) with `workers` worker processes, each with concurrency 1."""
    with common.fresh_database(server, "bp_pipe") as url:
        env = common.worker_env(url)
        with psycopg.connect(url, autocommit=True):
            pass
        procs = [common.process(common.studio("worker"), env, log_path=common.log_file(f"pipeline-worker{i}"))
                 for i in range(workers)]
        for p in procs:
            p.__enter__()
        try:
            time.sleep(3.0)  # workers import the engine and warm their stage process before the clock starts
            elapsed = asyncio.run(_submit_and_wait(url, n, timeout_s))
        finally:
            for p in reversed(procs):
                p.__exit__(None, None, None)
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT count(*) FROM artifacts").fetchone()
        assert row and row[0] > 0, "no artifacts stored"
    return elapsed / n


def main(argv: list[str] | None = None) -> int:
    common.quiet_logs()
    p = common.base_parser(__doc__ or "")
    p.add_argument("--jobs", type=int, default=None, help="jobs per run (default 12)")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    rounds = args.rounds or (1 if args.quick else 3)
    n = args.jobs or (2 if args.quick else 12)
    timeout_s = 60.0 + 20.0 * n
    with common.durable_server() as server:
        pgv = common.pg_version(server)
        variants = {"engine direct, one process": lambda: direct(n),
                    "pipeline, 1 worker": lambda: through_workers(server, n, 1, timeout_s),
                    "pipeline, 2 workers": lambda: through_workers(server, n, 2, timeout_s)}
        samples = common.interleaved(rounds, list(variants), lambda v, _r: variants[v](), common.eprint)
    m = {k: common.med(v) for k, v in samples.items()}
    overhead = m["pipeline, 1 worker"] / m["engine direct, one process"]
    scaling = m["pipeline, 1 worker"] / m["pipeline, 2 workers"]
    rows = "\n".join(f"| {k} | {m[k] * 1000:,.0f} | {60 / m[k]:,.1f} | "
                     f"{', '.join(f'{x * 1000:,.0f}' for x in samples[k])} |" for k in variants)
    body = f"""
{common.header("python -m bench.pipeline --write", pgv)} {rounds} interleaved rounds of {n} jobs
(`examples/l-kitchen.json` and `examples/island.json` alternating, CAD and PDF stages), medians. Pipeline runs
submit every job at once through `store.insert_job`, then wait until all are `succeeded` with their artifacts
stored; the workers are real `studio worker` processes (concurrency 1 each), started and warmed before the clock.

| how | ms per job | jobs/min | samples (ms per job) |
|---|---|---|---|
{rows}

| ratio | measured | target | |
|---|---|---|---|
| pipeline (1 worker) / engine direct | {overhead:.2f}x | <= {TARGET_OVERHEAD}x | {common.verdict(overhead <= TARGET_OVERHEAD)} |
| 2 workers / 1 worker, jobs per minute | {scaling:.2f}x | >= {TARGET_SCALING}x | {common.verdict(scaling >= TARGET_SCALING)} |
"""
    common.emit("Pipeline", body + NOTES, {"samples": samples}, args)
    return 0


NOTES = """
What limits it: the pipeline does what the direct call does plus two claims and two durable result commits
per job (CAD, then PDF), the CAD stage's artifacts read back for the PDF stage, and spec, summary and artifacts
pickled to and from the stage's child process; with concurrency 1 a worker also sits idle while each result
commits. Each round also starts fresh workers, whose stage processes built WeasyPrint's font configuration and
stylesheets on their first PDF (the direct run pays that once): `_warm()` now builds them before the first job,
which landed after this measurement. Run to run the ratio is noisy on this shared machine (1.17x in an earlier
run, 1.40x and 1.61x in two runs this hour); an A/B of the previous stage runner (ProcessPoolExecutor) against
the current one (a pipe per child) in the same hour gave 1.61x for both, so the runner is not the cause. Next:
claim ahead (overlap the next claim and the result commit with the running stage), and hand the CAD stage's
SVGs to the PDF stage in the same worker instead of reading them back. Two workers scale 2.05x here (1.75x in a
busier earlier run): bounded by free cores, not by the queue (no claim waits: SKIP LOCKED).
"""


if __name__ == "__main__":
    sys.exit(main())
