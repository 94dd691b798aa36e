"""`python -m bench.scaleout [--quick] [--write] [--jobs N] [--rounds R]`: the "Scale-out" section.

1, 2 and 4 real `studio worker` processes (concurrency 1 each, real CAD and PDF stages in their stage child
processes) against one durable PostgreSQL: jobs per minute, and the CPU each job costs PostgreSQL and the
workers, so an operator can size a deployment (docs/DEPLOY.md, "Sizing a deployment").

Per run: a fresh migrated database, the workers started and warmed, N jobs (`examples/l-kitchen.json` and
`examples/island.json` alternating, distinct job ids) inserted in one `store.insert_jobs` call, then wait until
every job is `succeeded`. Throughput comes from the database's own timestamps (first `created_at` to last
`finished_at`). CPU is read from /proc: PostgreSQL's is the postmaster's and all its children's utime+stime
(plus what the postmaster reaped from exited backends, cutime+cstime), the workers' the same over each worker's
process tree (the worker and its stage children); both read after warm-up and again when the last job is done.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

from bench import common

EXAMPLES = ("l-kitchen.json", "island.json")
WORKER_COUNTS = (1, 2, 4)
POLL_S = 0.25  # the harness's own "done yet?" query; cheap, and its PG cost is in the figures (see the notes)


# ---- one run -------------------------------------------------------------------------------------


async def _insert(url: str, n: int) -> None:
    from ops.config.settings import Settings
    from pipeline import store
    from pipeline.db import open_pool

    jobs = [store.NewJob(spec=common.example_spec(EXAMPLES[i % len(EXAMPLES)], job_id=f"SCALE-{i:04d}"),
                         job_ref=f"SCALE-{i:04d}") for i in range(n)]
    async with open_pool(Settings(database_url=url).normalized(), min_size=1, max_size=1) as pool:
        results = await store.insert_jobs(pool, jobs)
    assert all(isinstance(r, store.Inserted) and r.created for r in results), results


def _wait_done(conn: psycopg.Connection[Any], n: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        row = conn.execute("SELECT count(*) FILTER (WHERE status = 'succeeded'), "
                           "count(*) FILTER (WHERE status IN ('failed', 'cancelled')) FROM jobs").fetchone()
        assert row is not None
        if row[1]:
            errors = conn.execute("SELECT job_ref, last_error FROM jobs WHERE status <> 'succeeded' "
                                  "AND last_error IS NOT NULL LIMIT 3").fetchall()
            raise RuntimeError(f"{row[1]} jobs failed: {errors}")
        if row[0] == n:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{row[0]} of {n} jobs succeeded after {timeout_s:g} s")
        time.sleep(POLL_S)


def _listeners(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND query ILIKE 'LISTEN%'").fetchone()
    return int(row[0]) if row else 0


def run(server: Any, workers: int, n: int, timeout_s: float) -> dict[str, float]:
    """One run with `workers` worker processes; the figures of `summarize` plus the raw CPU seconds."""
    pm = common.postmaster_pid(server)
    with common.fresh_database(server, "bs_scale") as url, psycopg.connect(url, autocommit=True) as conn:
        env = common.worker_env(url)
        procs = [common.process(common.studio("worker"), env, log_path=common.log_file(f"scaleout-worker{i}"))
                 for i in range(workers)]
        popens = [p.__enter__() for p in procs]
        try:
            common.wait_for(lambda: _listeners(conn) >= workers, 60, f"{workers} workers listening", 0.2)
            time.sleep(2.0)  # each worker's stage child is spawned and imports the engine before the clock
            idle_pg0, idle_t0 = (common.tree_cpu([pm]) if pm else 0.0), time.monotonic()
            time.sleep(2.0)
            pg0 = common.tree_cpu([pm]) if pm else 0.0
            idle_rate = (pg0 - idle_pg0) / (time.monotonic() - idle_t0)
            w0, wall0 = common.tree_cpu([p.pid for p in popens]), time.monotonic()
            asyncio.run(_insert(url, n))
            _wait_done(conn, n, timeout_s)
            wall = time.monotonic() - wall0
            pg1, w1 = (common.tree_cpu([pm]) if pm else 0.0), common.tree_cpu([p.pid for p in popens])
            if any(p.poll() is not None for p in popens):
                raise RuntimeError("a worker exited during the run")
        finally:
            for p in reversed(procs):
                p.__exit__(None, None, None)
        row = conn.execute("""
            SELECT extract(epoch FROM max(finished_at) - min(created_at)),
                   (SELECT count(*) FROM artifacts),
                   (SELECT extract(epoch FROM sum(finished_at - started_at)) FROM job_attempts
                     WHERE outcome = 'succeeded'),
                   (SELECT count(*) FROM job_attempts WHERE outcome <> 'succeeded')
            FROM jobs WHERE status = 'succeeded'""").fetchone()
    assert row is not None and row[0] is not None
    span_s, artifacts, stage_s, retried = float(row[0]), int(row[1]), float(row[2]), int(row[3])
    assert artifacts >= n * 3, f"only {artifacts} artifacts for {n} jobs"
    return {"workers": workers, "jobs": n, "span_s": span_s, "wall_s": wall, "jobs_per_min": n / span_s * 60,
            "stage_s_per_job": stage_s / n, "pg_cpu_s": pg1 - pg0 if pm else float("nan"),
            "pg_cpu_ms_per_job": (pg1 - pg0) / n * 1000 if pm else float("nan"),
            "pg_idle_ms_per_s": idle_rate * 1000 if pm else float("nan"),
            "worker_cpu_ms_per_job": (w1 - w0) / n * 1000, "not_succeeded_attempts": retried,
            "artifacts": artifacts}


# ---- the section ---------------------------------------------------------------------------------

KEYS = ("jobs_per_min", "stage_s_per_job", "pg_cpu_ms_per_job", "worker_cpu_ms_per_job", "cores_busy",
        "pg_idle_ms_per_s")


def render(res: dict[str, Any]) -> str:
    """The section's body from the raw results (also what `--render results.json` re-renders)."""
    runs, samples, counts = res["runs"], res["samples"], [int(k) for k in res["samples"]]
    for rs in runs.values():
        for r in rs:  # the workers' CPU over the run's wall time: how many cores they actually got
            r["cores_busy"] = r["worker_cpu_ms_per_job"] * r["jobs"] / 1000 / r["wall_s"]
    m = {k: {key: common.med([r[key] for r in runs[str(k)]]) for key in KEYS} for k in counts}
    base = str(counts[0])
    ratios = {k: common.med([a / b for a, b in zip(samples[k], samples[base], strict=True)]) for k in samples}
    res["medians"] = {f"{k} workers {key}": v for k in counts for key, v in m[k].items()}
    res["ratios"] = ratios
    rows = "\n".join(
        f"| {k} | {m[k]['jobs_per_min']:.1f} | {ratios[str(k)]:.2f}x | {m[k]['stage_s_per_job']:.2f} | "
        f"{m[k]['worker_cpu_ms_per_job']:,.0f} | {m[k]['cores_busy']:.2f} | {m[k]['pg_cpu_ms_per_job']:.1f} | "
        f"{m[k]['pg_idle_ms_per_s']:.1f} | {', '.join(f'{x:.1f}' for x in samples[str(k)])} |" for k in counts)
    all_runs = [r for rs in runs.values() for r in rs]
    pg_all = common.med([r["pg_cpu_ms_per_job"] for r in all_runs])
    w_all = common.med([r["worker_cpu_ms_per_job"] for r in all_runs])
    loads = [r["load1"] for r in all_runs]
    rounds, n = res["rounds"], all_runs[0]["jobs"]
    lo, hi = counts[0], counts[-1]
    low, top = m[lo], m[hi]
    per_round = "; ".join(f"{k} workers " + ", ".join(f"{a / b:.2f}x" for a, b in zip(samples[str(k)], samples[str(lo)],
                                                                                   strict=True))
                          for k in counts[1:])
    order = " ".join(",".join(map(str, counts if r % 2 == 0 else reversed(counts))) for r in range(rounds))
    return f"""
Command: `{res["command"]}`. Machine: {res["machine"]}. {res["server"]}, durable, loopback. Date: {res["date"]}.
{rounds} interleaved rounds (worker counts in the order {order}) of {n} jobs each (`examples/l-kitchen.json`
and `examples/island.json` alternating, distinct job ids, CAD and PDF stages), medians; the 1-worker run of the
same rounds is the baseline. Each run: a fresh migrated database, real `studio worker` processes (concurrency 1
each, LOG_FORMAT=json) started and warmed, all jobs inserted in one `store.insert_jobs` call; the run ends when
every job is `succeeded`. Jobs/min from the database's timestamps (first `created_at` to last `finished_at`);
stage-s per job = the succeeded attempts' durations (`job_attempts`, wall time) summed / jobs; CPU per job from
/proc (utime+stime of the postmaster and all its children, and of each worker's process tree, stage children
included), read after warm-up and when the last job is done; cores busy = the workers' CPU-s / the run's wall
time; PG idle = PostgreSQL's CPU over 2 s with the workers warmed and no jobs. Load average (1 min)
{res["load0"]:.1f} at the start, {res["load_end"]:.1f} at the end, {min(loads):.1f}-{max(loads):.1f} after the runs, on
{res["cores"]} cores.

| workers | jobs/min | vs 1 worker | stage-s per job | worker CPU ms per job | worker cores busy | PostgreSQL CPU ms per job | PG idle, CPU ms/s | samples (jobs/min) |
|---|---|---|---|---|---|---|---|---|
{rows}

For sizing (docs/DEPLOY.md, "Sizing a deployment"): PostgreSQL CPU per job, median over all {len(all_runs)} runs,
{pg_all:.1f} ms, so one PostgreSQL core at 100 % serves about {1000 / pg_all:,.0f} jobs/s ({60000 / pg_all:,.0f}
jobs/min) of this queue work; the workers spend {w_all / 1000:.2f} CPU-s per job (stage children included), so one
worker with a core of its own does about {60000 / w_all:.0f} jobs/min. PostgreSQL : worker CPU per job =
1 : {w_all / pg_all:,.0f}. With {hi} workers on {res["cores"]} cores the workers got {top['cores_busy']:.2f} cores busy
({low['cores_busy']:.2f} with {lo}), and each job's stages took {top['stage_s_per_job']:.2f} s of wall time for
{top['worker_cpu_ms_per_job'] / 1000:.2f} CPU-s ({low['stage_s_per_job']:.2f} s for {low['worker_cpu_ms_per_job'] / 1000:.2f} with {lo}): the
difference is time spent waiting for a core. Within each round, jobs/min against that round's {lo}-worker run:
{per_round}.
"""


def main(argv: list[str] | None = None) -> int:
    common.quiet_logs()
    p = common.base_parser(__doc__ or "")
    p.add_argument("--jobs", type=int, default=None, help="jobs per run (default 40; 4 with --quick)")
    p.add_argument("--workers", default=None, help="worker counts, comma-separated (default 1,2,4; 1,2 with --quick)")
    p.add_argument("--render", type=Path, help="re-render the section from a --json file of an earlier run")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    if args.render:
        results = json.loads(args.render.read_text())
        common.emit("Scale-out", render(results) + NOTES, results, args)
        return 0
    rounds = args.rounds or (1 if args.quick else 2)
    n = args.jobs or (4 if args.quick else 40)
    counts = (tuple(int(x) for x in args.workers.split(",")) if args.workers
              else (1, 2) if args.quick else WORKER_COUNTS)
    timeout_s = 60.0 + 10.0 * n
    load0 = os.getloadavg()[0]
    runs: dict[str, list[dict[str, float]]] = {str(k): [] for k in counts}

    def one(v: str, _r: int) -> float:
        result = run(server, int(v), n, timeout_s)
        result["load1"] = os.getloadavg()[0]
        runs[v].append(result)
        common.eprint(f"  {v} workers: {result['jobs_per_min']:.1f} jobs/min, PG {result['pg_cpu_ms_per_job']:.1f} "
                      f"ms/job, workers {result['worker_cpu_ms_per_job']:.0f} ms/job, load {result['load1']:.1f}")
        return result["jobs_per_min"]

    with common.durable_server() as server:
        pgv = common.pg_version(server)
        samples = common.interleaved(rounds, [str(k) for k in counts], one, common.eprint)
    command = "python -m bench.scaleout --write" + "".join(
        f" --{k} {v}" for k, v in (("jobs", args.jobs), ("rounds", args.rounds), ("workers", args.workers)) if v)
    results: dict[str, Any] = {
        "command": command, "machine": common.machine(), "server": pgv, "cores": os.cpu_count(),
        "date": dt.date.today().isoformat(), "rounds": rounds, "load0": load0, "load_end": os.getloadavg()[0],
        "samples": samples, "runs": runs}
    body = render(results)
    common.emit("Scale-out", body + NOTES, results, args)
    return 0


NOTES = """
What limits the rows is the CPU, not the queue. A worker with concurrency 1 keeps at most one core busy (its
stage child renders on one core; the worker's main process is almost idle), so on this 2-core machine 2
workers are the most that can each have a core, and 4 workers oversubscribe it on purpose: their stages share
the cores, so the wall time of a stage (stage-s per job) grows well past its CPU time. On a quiet machine
(2026-12-06, load 1-2) 2 workers gave 1.88x the jobs/min of 1 and 4 workers 1.74x: throughput follows the free
cores, and workers beyond them add nothing. On a busy one (2026-12-03, load 4-6, other engineers' work) the
4-worker row gained over 2 (1.25x against 1.02x in one run, 1.78x against 1.54x in another) only because the
kernel shares CPU between runnable processes, so 4 runnable workers got a larger slice of the shared machine
(the "worker cores busy" column). The queue itself waits on nothing: claims
take `FOR UPDATE SKIP LOCKED`, and PostgreSQL spends a small fraction of a job's worker CPU on it (the ratio
above). That share grows a little with the worker count: every stage end sends a `NOTIFY studio_jobs` that
wakes every listening worker, and each awake worker runs a claim, so more workers run more claims per job (plus
their heartbeats and slow polls: the "PG idle" column, where 0.0 means less than one 10 ms tick in the 2 s).

What "PostgreSQL CPU" includes: every server process (the workers' backends: claims, heartbeats, attempt rows,
result commits with the artifacts as `bytea`; the harness's own `count(*)` poll every 0.25 s; autovacuum, the
checkpointer, the WAL writer), as user+system CPU. It does not include waiting for fsync (durable commits are
I/O, not CPU) or the network: on loopback there is none, and a managed PostgreSQL over TLS spends a little more
CPU per byte. The worker CPU includes the worker's main process (psycopg, the event loop) and its stage
children; the warm-up (imports, the first spawn) is before the first reading. /proc counts CPU in ticks of
10 ms per process, which is why the figures are per job over whole runs of 40 jobs, not per query.
"""


if __name__ == "__main__":
    sys.exit(main())
