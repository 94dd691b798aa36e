"""`python -m bench.http [--quick] [--write]`: the "HTTP" section.

wrk on loopback against `studio api` (GET /health, POST /api/cad/generate with a one-piece rect job) and
against a bare Litestar hello-world served the same way (uvicorn, one worker, uvloop + httptools); the
submissions are compared with the raw insert + notify rate at the same concurrency, measured in the same run.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import common
from bench.notify.__main__ import _load as raw_insert_load

TARGET_HEALTH, TARGET_SUBMIT = 0.7, 0.5
CONNECTIONS = 32


def wrk(url: str, seconds: float, connections: int, script: Path | None = None) -> dict[str, float]:
    """Requests/s, p99 (ms) and non-2xx count from one wrk run."""
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk (Debian)")
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "5s"]
    if script:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=seconds + 30, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"rps": rps, "p99_ms": float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan"),
            "non2xx": float(non2xx.group(1)) if non2xx else 0.0}


def post_script(tmp: Path) -> Path:
    body = (common.EXAMPLES / "island.json").read_text().replace("\\", "\\\\").replace("]]", "] ]")
    script = tmp / "post.lua"
    script.write_text('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                      f"wrk.body = [[{body}]]\n")
    return script


def main(argv: list[str] | None = None) -> int:
    common.quiet_logs()
    p = common.base_parser(__doc__ or "")
    p.add_argument("--seconds", type=float, default=None, help="seconds per wrk run (default 8)")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    rounds = args.rounds or (1 if args.quick else 3)
    seconds = args.seconds or (1.0 if args.quick else 8.0)
    with tempfile.TemporaryDirectory(prefix="studio-bench-http-") as tmp_dir:
        return _run(args, rounds, seconds, post_script(Path(tmp_dir)))


def _run(args: Any, rounds: int, seconds: float, script: Path) -> int:
    with common.durable_server() as server:
        pgv = common.pg_version(server)
        url = common.create_database(server, "bh_api")
        raw_url = common.create_database(server, "bh_raw")
        ours_port, bare_port = common.free_port(), common.free_port()
        api_env = {"DATABASE_URL": url, "PORT": str(ours_port), "HOST": "127.0.0.1", "LOG_LEVEL": "warning",
                   "LOG_FORMAT": "json", "RATE_LIMIT_PER_MINUTE": "0"}  # throughput, not the per-client limiter
        bare_cmd = [common.PYTHON, "-m", "uvicorn", "bench.http.bare:app", "--host", "127.0.0.1", "--port",
                    str(bare_port), "--workers", "1", "--loop", "uvloop", "--http", "httptools", "--no-access-log",
                    "--log-level", "warning"]
        with common.process(common.studio("api"), api_env, log_path=common.log_file("http-api")), \
                common.process(bare_cmd, log_path=common.log_file("http-bare")):
            common.wait_port(ours_port)
            common.wait_port(bare_port)
            for warm in (f"http://127.0.0.1:{bare_port}/health", f"http://127.0.0.1:{ours_port}/health"):
                wrk(warm, 1, 4)
            runs = {
                "bare Litestar GET /health": lambda: wrk(f"http://127.0.0.1:{bare_port}/health", seconds, CONNECTIONS),
                "studio GET /health": lambda: wrk(f"http://127.0.0.1:{ours_port}/health", seconds, CONNECTIONS),
                "studio POST /api/cad/generate": lambda: wrk(f"http://127.0.0.1:{ours_port}/api/cad/generate",
                                                             seconds, CONNECTIONS, script),
                "raw INSERT + pg_notify, 32 connections": lambda: {
                    "rps": asyncio.run(raw_insert_load(raw_url, CONNECTIONS, True, seconds)),
                    "p99_ms": float("nan"), "non2xx": 0.0},
            }
            full: dict[str, list[dict[str, float]]] = {k: [] for k in runs}

            def one(v: str, _r: int) -> float:
                res = runs[v]()
                full[v].append(res)
                if res["non2xx"]:
                    raise RuntimeError(f"{v}: {res['non2xx']:.0f} responses were not 2xx")
                return res["rps"]

            samples = common.interleaved(rounds, list(runs), one, common.eprint)
        common.drop_database(server, url)
        common.drop_database(server, raw_url)
    m = {k: common.med(v) for k, v in samples.items()}
    p99 = {k: common.med([r["p99_ms"] for r in full[k]]) for k in full}
    rh = common.paired_ratio(samples, "studio GET /health", "bare Litestar GET /health")
    rs = common.paired_ratio(samples, "studio POST /api/cad/generate", "raw INSERT + pg_notify, 32 connections")
    rows = "\n".join(f"| {k} | {common.fmt_n(m[k])} | {'' if p99[k] != p99[k] else f'{p99[k]:.1f}'} | "
                     f"{', '.join(common.fmt_n(x) for x in samples[k])} |" for k in runs)
    body = f"""
{common.header("python -m bench.http --write", pgv)} `wrk -t1 -c{CONNECTIONS} -d{seconds:g}s --latency`, {rounds}
interleaved rounds, medians. Ours is `studio api` (uvicorn, one worker, uvloop + httptools, request log at
warning level, `POOL_MAX_SIZE` 10, `RATE_LIMIT_PER_MINUTE=0`: one wrk client would hit the per-client submission limit) against a migrated database; the anchor is `bench/http/bare.py` (a bare
Litestar `/health`) under the same uvicorn settings. POST bodies are `examples/island.json` (one rect piece);
the raw rate is 32 autocommit connections running our `insert_job` statement in a loop (`bench/notify`).

| endpoint | req/s | p99 ms | samples |
|---|---|---|---|
{rows}

| ratio | measured | target | |
|---|---|---|---|
| studio /health / bare Litestar /health | {rh:.2f}x | >= {TARGET_HEALTH}x | {common.verdict(rh >= TARGET_HEALTH)} |
| studio submissions / raw insert + notify (32 clients) | {rs:.2f}x | >= {TARGET_SUBMIT}x | {common.verdict(rs >= TARGET_SUBMIT)} |
"""
    common.emit("HTTP", body + NOTES, {"samples": samples, "full": full}, args)
    return 0


NOTES = """
What limits it: the bare app answers from memory. `/health` now reuses its database check for a second
(before that change it was 0.20x: every request checked out a pooled connection and ran `SELECT 1`), so what is
left is the per-request stack around it: the request log line (a structlog JSON line to stdout per request), the
security middleware (token check skipped, headers added), Litestar's rate-limit middleware (which looks at every
request before deciding it only throttles submissions) and the Prometheus histogram. Next: profile `studio api`
under wrk with py-spy to rank those, then move the rate limit into the submission handler's path only and keep
the one log line per request (operators rely on it). Submissions (0.12x of the raw loop) are a different
matter: the raw loop only inserts, while every submission is decoded and validated (msgspec) and runs the full
fabricator checks (`engine.checks.check`: shapely containment, distances and the overhang sampling; 2.4 ms of
CPU for `island.json` timed alone, so ~400/s at most per process before any I/O) in the one uvicorn process,
before its durable INSERT + NOTIFY commit. That check is
the product (a bad job is refused with a 422 before it is queued), so the levers are more API processes
(uvicorn workers or instances; the rate is per process), a cheaper overhang check, and the NOTIFY coalescing
discussed in that section. Not profiled end to end yet: the check's cost is measured, its share of the request is inferred.
"""


if __name__ == "__main__":
    sys.exit(main())
