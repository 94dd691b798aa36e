"""`python -m bench.webapp [--quick] [--write]`: the "Web app: synchronous drawing" section.

p50 request -> response of `POST /api/cad/generate-drawing` (the app's 120 x 25 x 2 cm Plano top) through a real
`studio api` and a real, warm `studio worker`, against the same job's CAD stage called directly in one process
(api.webapp.app_job -> engine.cad.run_cad with the seeded catalogue). Target (issue 15): p50 over HTTP at most
1.5x the direct engine time plus 20 ms.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import time

import msgspec
import psycopg

from bench import common

BODY = {"dims": {"length": 120, "width": 25, "height": 2}, "material": {"name": "Plano"},
        "finish": {"name": "Poliranje (Polished)"}, "profile": {"name": "Ravni rez (Pilan)"},
        "processedEdges": {"front": True, "back": False, "left": False, "right": False},
        "okapnikEdges": {"front": True, "back": False, "left": False, "right": False}}
RATIO, PLUS_MS = 1.5, 20.0


def direct(n: int, catalogue_json: bytes, facts: dict[str, dict[str, object]]) -> list[float]:
    """Seconds per call of the CAD stage on the app's job, in this process (warm)."""
    from api.webapp import AppCatalogue, MaterialFacts, app_job
    from engine.cad import run_cad
    from engine.pricing import Catalogue
    from engine.spec import LegacyRequest

    cat = AppCatalogue(prices=msgspec.json.decode(catalogue_json, type=Catalogue),
                       materials={name: msgspec.convert(f, MaterialFacts) for name, f in facts.items()})
    job = app_job(msgspec.convert(BODY, LegacyRequest), "BENCH", cat)
    run_cad(job, cat.prices)
    out = []
    for _ in range(n):
        started = time.perf_counter()
        run_cad(job, cat.prices)
        out.append(time.perf_counter() - started)
    return out


def over_http(port: int, n: int) -> list[float]:
    """Seconds per request, one at a time on a kept-alive connection (as the app's server side sends them)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    payload = json.dumps(BODY).encode()
    out = []
    for i in range(n + 1):
        started = time.perf_counter()
        conn.request("POST", "/api/cad/generate-drawing", body=payload, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        if resp.status != 200 or not json.loads(data)["success"]:
            raise RuntimeError(f"generate-drawing answered {resp.status}: {data[:300]!r}")
        if i:  # the first request warms the API's pool and the worker's child
            out.append(time.perf_counter() - started)
    conn.close()
    return out


def main(argv: list[str] | None = None) -> int:
    args, rounds, n = common.sized_run(__doc__, argv, "--requests", "requests per round", full=40, quick=5)
    load0 = os.getloadavg()[0]
    with common.durable_server() as server:
        pgv = common.pg_version(server)
        with common.fresh_database(server, "bw_app") as url:
            from pipeline.store import QUERIES

            with psycopg.connect(url) as conn:
                row = conn.execute(QUERIES["get_catalogue"]).fetchone()
                facts = {name: {"type": kind, "density_kg_m3": density, "color": color} for name, kind, density, color
                         in conn.execute("SELECT name, type, density_kg_m3::float8, color FROM catalogue_materials")}
            assert row is not None
            catalogue = row[0].encode()
            port = common.free_port()
            env = common.worker_env(url, port=port, host="127.0.0.1", rate_limit_per_minute=0)
            with common.process(common.studio("worker"), env, log_path=common.log_file("webapp-worker")), \
                    common.process(common.studio("api"), env, log_path=common.log_file("webapp-api")):
                common.wait_port(port)
                time.sleep(3.0)  # the worker imports the engine and warms its stage process
                variants = {"engine direct (run_cad)": lambda: direct(n, catalogue, facts),
                            "generate-drawing over HTTP": lambda: over_http(port, n)}
                samples: dict[str, list[list[float]]] = {k: [] for k in variants}

                def run(v: str, _r: int) -> float:
                    times = variants[v]()
                    samples[v].append(times)
                    return common.med(times)

                p50s = common.interleaved(rounds, list(variants), run, common.eprint)
    d, h = common.med(p50s["engine direct (run_cad)"]), common.med(p50s["generate-drawing over HTTP"])
    target = RATIO * d + PLUS_MS / 1000
    rows = []
    for k in variants:
        flat = sorted(x for s in samples[k] for x in s)
        rows.append(f"| {k} | {common.med(p50s[k]) * 1000:.1f} | {common.pct(flat, 95) * 1000:.1f} | "
                    f"{', '.join(f'{x * 1000:.1f}' for x in p50s[k])} |")
    body = f"""
{common.header("python -m bench.webapp --write", pgv)} {rounds} interleaved rounds of {n} requests (after one
warm-up request), one at a time on a kept-alive connection to a real `studio api` (uvicorn) with a real
`studio worker` (concurrency 1, warmed before the clock); the body is the app's 120 x 25 x 2 cm Plano top
(FRONTEND_CONTRACT.md §2). The direct row calls the CAD stage (engine.cad.run_cad, priced with the same seeded
catalogue) on the same converted job in this process. {common.load_note(load0)}

| how | p50 ms | p95 ms | per-round p50s (ms) |
|---|---|---|---|
{chr(10).join(rows)}

| target | measured | limit | |
|---|---|---|---|
| p50 over HTTP <= {RATIO}x direct + {PLUS_MS:g} ms | {h * 1000:.1f} ms | {target * 1000:.1f} ms | {common.verdict(h <= target)} |

The difference is what the synchronous route adds: the submission (checks, group-commit insert and NOTIFY),
the worker's wake-up and claim, the hop to its stage process, the result's commit with its artifacts, the
status NOTIFY back to the API's listener, and reading the CAD files back.
"""
    common.emit("Web app: synchronous drawing", body + NOTES, {"p50s": p50s}, args)
    return 0


NOTES = """
Earlier runs of this harness, 2026-12-03: at load 0.3-0.5, p50 63.5 ms over HTTP against 37.7 ms direct
(limit 76.6 ms, met; ratio alone 1.68x); at load 2.9-3.8, with other engineers' jobs on both cores, 152.0 ms
against 124.0 ms (limit 206.0 ms, met). The fixed cost (two durable commits, the claim, the hop to the stage's
process and the NOTIFY back) is what the + 20 ms covers; under load it is the engine's share that grows.
"""


if __name__ == "__main__":
    sys.exit(main())
