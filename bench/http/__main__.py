"""`python -m bench.http [--quick] [--write]`: the "HTTP" section.

wrk on loopback against `studio api` (GET /health, POST /api/cad/generate with a one-piece rect job) and
against a bare Litestar hello-world served the same way (uvicorn, one worker, uvloop + httptools); the
submissions are compared with the raw insert + notify rate at the same concurrency, measured in the same run.

`studio api` runs as deployed: LOG_LEVEL=info (one JSON line per request, here into a file), the per-client
submission limit (Litestar's RateLimitConfig) on at its default. Every POST comes from its own X-Forwarded-For
address (16,384 of them in turn), so the limiter counts each as a real client, and none of them hits the limit.
Targets: submissions at >= 0.5x the raw insert + notify rate. `/health` against bare Litestar is reported only.
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

TARGET_SUBMIT = 0.5  # /health against bare Litestar is reported, not a target: it must be correct and cheap
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
    p.add_argument("--seconds", type=float, default=None, help="seconds per wrk run (default 6)")
    p.add_argument("--health-only", action="store_true",
                   help="only the three /health rows (bare, info, warning): prints their ratios, writes nothing")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    rounds = args.rounds or (1 if args.quick else 5)  # ratios near their target need rounds: a shared VM
    seconds = args.seconds or (1.0 if args.quick else 6.0)
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
            if args.health_only:
                runs = {k: v for k, v in runs.items() if "/health" in k}
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
    if args.health_only:
        for k, v in samples.items():
            print(f"{k}: {', '.join(common.fmt_n(x) for x in v)}")
        for k in ("studio GET /health", "studio GET /health, LOG_LEVEL=warning"):
            print(f"{k} / bare: {common.paired_ratio(samples, k, 'bare Litestar GET /health'):.2f}x "
                  f"(load {load_before} -> {load_after})")
        return 0
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
request writes its JSON `http_request` line through structlog's processor chain (here into a file), the
request-duration histogram is prometheus_client's `Histogram`, and the per-client submission limit is Litestar's
`RateLimitConfig` on the submission route at its default of 60 a minute. Each POST carries its own
`X-Forwarded-For` address (16,384 in turn; loopback is the trusted proxy), so the limiter does its real work per
request and no client reaches the limit. Rows without a note are one process; the
`LOG_LEVEL=warning` row is the same server with the request line filtered out (what it costs), the
`WEB_CONCURRENCY=2` row two uvicorn worker processes on the machine's 2 cores. The anchor is
`bench/http/bare.py` (a bare Litestar `/health`, no logging) under the same uvicorn settings, one process. POST
bodies are `examples/island.json` (one rect piece, a cooktop, a cabinet footprint); the raw rate is 32 autocommit
connections running our `insert_job` statement in a loop (`bench/notify`). `/health` against bare Litestar is a
reported figure, not a target: uptime pings need `/health` correct and cheap, not within 30 % of an empty app.
The profiles and earlier runs behind these rows are in "HTTP: history" below.

| endpoint | req/s | p99 ms | samples |
|---|---|---|---|
{rows}

| ratio | measured | target | |
|---|---|---|---|
| studio /health / bare Litestar /health (one process each) | {rh:.2f}x | reported, not a target | |
| the same with `LOG_LEVEL=warning` (no request line) | {rw:.2f}x | | |
| studio submissions / raw insert + notify, one process | {rs:.2f}x | >= {TARGET_SUBMIT}x | {common.verdict(rs >= TARGET_SUBMIT)} |
| studio submissions / raw insert + notify, `WEB_CONCURRENCY=2` | {r2:.2f}x | >= {TARGET_SUBMIT}x | {common.verdict(r2 >= TARGET_SUBMIT)} |
{caution}"""
    common.emit("HTTP", body, {"samples": samples, "full": full, "medians": m}, args)
    return 0


def _load_average() -> str:
    return f"{os.getloadavg()[0]:.2f}"



if __name__ == "__main__":
    sys.exit(main())
