"""`python -m bench.http [--quick] [--write]`: the "HTTP" section.

wrk on loopback against `studio api` (GET /health, POST /api/cad/generate with a one-piece rect job) and
against a bare Litestar hello-world served the same way (uvicorn, one worker, uvloop + httptools); the
submissions are compared with the raw insert + notify rate at the same concurrency, measured in the same run.

`studio api` runs as deployed: LOG_LEVEL=info (one JSON line per request, here into a file), the per-client
submission limit on at its default. Every POST comes from its own X-Forwarded-For address (16,384 of them in
turn), so the limiter looks up, appends and stores as it does for real clients, and none of them hits the limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
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
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = [[{body}]]\n"
        "local n = 0\n"
        "request = function()\n"
        "  n = n + 1\n"
        '  local ip = string.format("10.9.%d.%d", math.floor(n / 256) % 64, n % 256)\n'
        '  return wrk.format(nil, nil, {["Content-Type"] = "application/json", ["X-Forwarded-For"] = ip})\n'
        "end\n")
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
        ports = {name: common.free_port() for name in ("bare", "info", "warning", "two")}
        api_env = {"DATABASE_URL": url, "HOST": "127.0.0.1", "LOG_LEVEL": "info", "LOG_FORMAT": "json"}
        servers = {  # name -> (command, environment)
            "info": (common.studio("api"), {**api_env, "PORT": str(ports["info"])}),
            "warning": (common.studio("api"), {**api_env, "PORT": str(ports["warning"]), "LOG_LEVEL": "warning"}),
            "two": (common.studio("api"), {**api_env, "PORT": str(ports["two"]), "WEB_CONCURRENCY": "2"}),
            "bare": ([common.PYTHON, "-m", "uvicorn", "bench.http.bare:app", "--host", "127.0.0.1", "--port",
                      str(ports["bare"]), "--workers", "1", "--loop", "uvloop", "--http", "httptools",
                      "--no-access-log", "--log-level", "warning"], {}),
        }
        with contextlib.ExitStack() as stack:
            for name, (cmd, env) in servers.items():
                stack.enter_context(common.process(cmd, env, log_path=common.log_file(f"http-{name}")))
            for name, port in ports.items():
                common.wait_port(port)
                wrk(f"http://127.0.0.1:{port}/health", 1, 4)  # warm up
            base = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
            submit = "/api/cad/generate"
            runs = {
                "bare Litestar GET /health": lambda: wrk(f"{base['bare']}/health", seconds, CONNECTIONS),
                "studio GET /health": lambda: wrk(f"{base['info']}/health", seconds, CONNECTIONS),
                "studio GET /health, LOG_LEVEL=warning": lambda: wrk(f"{base['warning']}/health", seconds,
                                                                     CONNECTIONS),
                "studio POST /api/cad/generate": lambda: wrk(f"{base['info']}{submit}", seconds, CONNECTIONS, script),
                "studio POST /api/cad/generate, WEB_CONCURRENCY=2": lambda: wrk(f"{base['two']}{submit}", seconds,
                                                                               CONNECTIONS, script),
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

            load_before = _load_average()
            samples = common.interleaved(rounds, list(runs), one, common.eprint)
            load_after = _load_average()
        common.drop_database(server, url)
        common.drop_database(server, raw_url)
    m = {k: common.med(v) for k, v in samples.items()}
    p99 = {k: common.med([r["p99_ms"] for r in full[k]]) for k in full}
    raw = "raw INSERT + pg_notify, 32 connections"
    rh = common.paired_ratio(samples, "studio GET /health", "bare Litestar GET /health")
    rw = common.paired_ratio(samples, "studio GET /health, LOG_LEVEL=warning", "bare Litestar GET /health")
    rs = common.paired_ratio(samples, "studio POST /api/cad/generate", raw)
    r2 = common.paired_ratio(samples, "studio POST /api/cad/generate, WEB_CONCURRENCY=2", raw)
    unsteady = [f"{k} ({common.fmt_n(min(v))} to {common.fmt_n(max(v))})" for k, v in samples.items()
                if len(v) > 1 and max(v) > 1.5 * min(v)]
    caution = ("\n**Unsteady rows in this run** (samples more than 1.5x apart, other work on the machine): "
               f"{'; '.join(unsteady)}. Ratios that use them are not reliable; re-run on a quiet machine.\n"
               if unsteady else "")
    rows = "\n".join(f"| {k} | {common.fmt_n(m[k])} | {'' if p99[k] != p99[k] else f'{p99[k]:.1f}'} | "
                     f"{', '.join(common.fmt_n(x) for x in samples[k])} |" for k in runs)
    body = f"""
{common.header("python -m bench.http --write", pgv)} `wrk -t1 -c{CONNECTIONS} -d{seconds:g}s --latency`, {rounds}
interleaved rounds, medians. Load average (1 min) {load_before} before the rounds, {load_after} after: the
machine is shared, so compare ratios (paired within a round), not absolute rates between runs.

Ours is `studio api` as deployed (uvicorn, uvloop + httptools, `POOL_MAX_SIZE` 10): `LOG_LEVEL=info`, so every
request writes its JSON `http_request` line (here into a file), and the per-client submission limit is on at its
default of 60 a minute. Each POST carries its own `X-Forwarded-For` address (16,384 in turn), so the limiter does
its real work per request and no client reaches the limit. Rows without a note are one process; the
`LOG_LEVEL=warning` row is the same server with the request line filtered out (what it costs), the
`WEB_CONCURRENCY=2` row two uvicorn worker processes on the machine's 2 cores. The anchor is
`bench/http/bare.py` (a bare Litestar `/health`, no logging) under the same uvicorn settings, one process. POST
bodies are `examples/island.json` (one rect piece, a cooktop, a cabinet footprint); the raw rate is 32 autocommit
connections running our `insert_job` statement in a loop (`bench/notify`).

| endpoint | req/s | p99 ms | samples |
|---|---|---|---|
{rows}

| ratio | measured | target | |
|---|---|---|---|
| studio /health / bare Litestar /health (one process each) | {rh:.2f}x | >= {TARGET_HEALTH}x | {common.verdict(rh >= TARGET_HEALTH)} |
| the same with `LOG_LEVEL=warning` (no request line) | {rw:.2f}x | | |
| studio submissions / raw insert + notify, one process | {rs:.2f}x | >= {TARGET_SUBMIT}x | {common.verdict(rs >= TARGET_SUBMIT)} |
| studio submissions / raw insert + notify, `WEB_CONCURRENCY=2` | {r2:.2f}x | >= {TARGET_SUBMIT}x | {common.verdict(r2 >= TARGET_SUBMIT)} |
{caution}"""
    common.emit("HTTP", body + NOTES, {"samples": samples, "full": full, "medians": m}, args)
    return 0


def _load_average() -> str:
    return f"{os.getloadavg()[0]:.2f}"


NOTES = """
Profiles behind these rows (2026-11-25, this machine: cProfile of the ASGI stack in process, py-spy on
`studio api` under wrk; commands in `bench/http/__main__.py`'s history):

- `/health`, before: with the default `RATE_LIMIT_PER_MINUTE`, Litestar's rate-limit middleware wrapped every
  route and ran our sync "is this a submission?" predicate in a worker thread (`sync_to_thread`) for every
  request: ~300 us of CPU per `/health` in process against ~45 us for the bare app. This section used to run
  with the limit at 0, which hid it. Now the limiter is mounted on the submission route alone, the request id,
  context binding, security headers and histogram child are cheaper, and start-up objects are frozen out of
  the garbage collector (full collections walked ~87k of them, tens of ms: the old 59 ms p99).
- `/health`, what is left: in process ~85 us per request at `LOG_LEVEL=warning` against ~40 us bare (Litestar's
  injection of `state`, our two ASGI wrappers, the Prometheus histogram): the `LOG_LEVEL=warning` row. The
  `http_request` line costs ~45 us more per request under wrk (3,500 req/s writing it to a file, 3,800 to
  /dev/null, 4,200 without it, in a separate check): structlog's processors (contextvars, level, ISO timestamp,
  secret masking) and one `write()` per line. That line is what keeps the `LOG_LEVEL=info` row under 0.7x.
  What would close it: a leaner processor chain for this one event (or the line rendered directly with
  msgspec), or buffered writes flushed once per event-loop tick instead of per line (lines could then be lost
  on a crash); logging only non-200 `/health` answers would also do it, but operators rely on one line per
  request, so that is a product decision, not a benchmark one.
- Submissions: CPU-bound in the API process. py-spy under POST load before this change: `engine.checks.check`
  ~58 % of the process (the overhang check alone ~38 %: a GEOS point and a GEOS distance per 10 mm boundary
  sample), `insert_job` ~20 %, the rest Litestar, the limiter and the log line. The check now builds each
  piece's polygon once and finds the farthest overhang sample with a numpy pre-pass that sends GEOS only the
  samples near the maximum (findings identical: a differential run on 4,003 random jobs, and a unit test);
  `island.json` costs ~1.5 ms of CPU per check instead of ~2.0 (process time, loaded machine) and check is ~46 %
  of the process under load. What is left in it: ~250 tied samples along the back edge (parallel to the
  cabinets) still go to GEOS; outline and arc discretisation (`engine/geometry.py`) ~10 %; cutouts ~7 %.
- The raw anchor only inserts; a submission also decodes, validates, checks and answers, ~4-5 ms of CPU in one
  process, so one process cannot reach 0.5x on this machine: that needs a submission under ~1 ms of CPU, or
  more processes. `WEB_CONCURRENCY=2` adds the second process, but the 2 cores are shared with PostgreSQL
  (fsync=on commits), wrk and the other rows' servers, so it gains less than 2x here; on an instance with
  spare cores the rate scales per process (and per instance). Further levers: an exact tie shortcut in the
  overhang check (GEOS's point-segment formula replicated bit for bit would make the GEOS pass unnecessary),
  cached arc discretisation, and NOTIFY coalescing (the NOTIFY section).
"""


if __name__ == "__main__":
    sys.exit(main())
