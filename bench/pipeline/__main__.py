"""`python -m bench.pipeline [--quick] [--write]`: the "Pipeline" section.

The example jobs end to end through real `studio worker` processes (submit -> every artifact stored), against
the engine called directly in one process (engine.cad.run_cad + engine.pdf.render_pdf), and jobs per minute
with 1 and 2 worker processes.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Any

import msgspec
import psycopg

from bench import common

EXAMPLES = ("l-kitchen.json", "island.json")
TARGET_OVERHEAD, TARGET_SCALING = 1.2, 1.8


def direct(n: int, catalogue_json: bytes | None) -> float:
    """Seconds per job running the engine in this process, both stages, examples alternating; priced with the
    catalogue the worker reads from the database, so both make the same pages (a quote sheet included)."""
    from engine.cad import run_cad
    from engine.model import Summary, to_builtins
    from engine.pdf import render_pdf
    from engine.pricing import Catalogue
    from engine.spec import JobSpec

    catalogue = msgspec.json.decode(catalogue_json, type=Catalogue) if catalogue_json else None
    specs = [msgspec.convert(common.example_spec(name), JobSpec) for name in EXAMPLES]
    run_cad(specs[0], catalogue)  # warm: imports, fonts
    started = time.perf_counter()
    for i in range(n):
        spec = specs[i % len(specs)]
        cad = run_cad(spec, catalogue)
        summary = msgspec.convert(to_builtins(cad.summary), Summary)
        svgs = {a.name: a.data for a in cad.artifacts if a.content_type == "image/svg+xml"}
        render_pdf(spec, summary, svgs)
    return (time.perf_counter() - started) / n


async def _submit_and_wait(url: str, n: int, timeout_s: float) -> float:
    from ops.config.settings import Settings
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


def per_round(a: list[float], b: list[float]) -> str:
    return ", ".join(f"{x / y:.2f}x" for x, y in zip(a, b, strict=True))


def _seeded_catalogue(server: Any) -> bytes | None:
    """The price catalogue a migrated database starts with: what the worker hands the CAD stage."""
    from pipeline.store import QUERIES

    with common.fresh_database(server, "bp_cat") as url, psycopg.connect(url) as conn:
        row = conn.execute(QUERIES["get_catalogue"]).fetchone()
    return row[0].encode() if row else None


def main(argv: list[str] | None = None) -> int:
    # 24 jobs: enough that the last job's tail does not decide the 2-worker row
    args, rounds, n = common.sized_run(__doc__, argv, "--jobs", "jobs per run", full=24, quick=2)
    timeout_s = 60.0 + 20.0 * n
    load0 = os.getloadavg()[0]
    with common.durable_server() as server:
        pgv = common.pg_version(server)
        catalogue = _seeded_catalogue(server)
        variants = {"engine direct, one process": lambda: direct(n, catalogue),
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
The direct run prices each job with the same seeded catalogue the worker passes to the CAD stage, so both
render the same pages (the quote sheet included). {common.load_note(load0)}

| how | ms per job | jobs/min | samples (ms per job) |
|---|---|---|---|
{rows}

| ratio | measured | target | |
|---|---|---|---|
| pipeline (1 worker) / engine direct | {overhead:.2f}x | <= {TARGET_OVERHEAD}x | {common.verdict(overhead <= TARGET_OVERHEAD)} |
| 2 workers / 1 worker, jobs per minute | {scaling:.2f}x | >= {TARGET_SCALING}x | {common.verdict(scaling >= TARGET_SCALING)} |

Within each round: pipeline (1 worker) / direct {per_round(samples["pipeline, 1 worker"], samples["engine direct, one process"])};
2 workers / 1 worker {per_round(samples["pipeline, 1 worker"], samples["pipeline, 2 workers"])}.
"""
    common.emit("Pipeline", body + NOTES, {"samples": samples}, args)
    return 0


NOTES = """
Profiled (py-spy `--subprocesses` attached to a 1-worker run of 12 jobs, and the attempts' timestamps in
`job_attempts`): 93 % of the samples are in the stage's child process, 86 % in `render_pdf` (WeasyPrint's
layout and drawing, the same work the direct run does); the worker's main process is almost never on CPU.
The time between one attempt's result and the next claim was 5-34 ms (median ~15 ms) on a machine at load 3,
about 2-3 % of a job: claims, result commits and the hop to the child are not what separates the two rows.
What does: how fast the child renders on a shared 2-core machine. A side-by-side of the same stage calls in the
child against the same calls in-process, 4 jobs per sample, gave child/in-process ratios from 0.66x to 2.16x
from one sample to the next at load ~3, with no systematic difference; the ratio above moves with the other
engineers' load (1.17x, 1.40x and 1.61x in earlier runs of this harness). Fixed since the last run: the worker
no longer decodes and re-encodes the spec (the claim returns it as JSON text), a worker with concurrency 1 no
longer idles while its result commits (the slot is freed when the stage returns, so the next claim overlaps the
commit), and the PDF stage is handed the CAD files the same worker just committed instead of reading them back.
The direct run is now priced with the worker's catalogue, so both render the quote sheet. If the target is
missed on a quiet machine, the next lever is the stage itself (WeasyPrint; see "PDF stage"), not the queue;
on a loaded one, run with more rounds. Scaling needs a free core per worker: each worker's child renders on
one core, so with other work on these 2 cores the second worker has no core of its own and the scaling row
measures the machine's spare capacity (1.17x in a run at load 3-5, 1.84x at load about 2, 2.05x on a quiet
machine, all earlier today), not the queue: no claim waits (SKIP LOCKED) and the workers' main processes are
idle. Runs now have 24 jobs (12 before), so that the last job, which one worker finishes alone while the other
idles, weighs half as much on the 2-worker row: with 12 jobs the two runs after the 0003 migration gave 1.74x
and 1.62x at load 1.4-1.7 (per round 1.49x-2.08x); the two 24-job runs since gave 1.99x (12:39) and 1.83x
(13:11), all on 2026-11-25.
"""


if __name__ == "__main__":
    sys.exit(main())
