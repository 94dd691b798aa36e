"""`python -m bench.limits [--quick] [--write]`: the "Largest accepted job" section.

Builds the largest job the work caps accept (engine/limits.py and the schema caps in engine/spec.py), all caps
at once: MAX_COPIES copies, MAX_TOTAL_VERTICES vertices and MAX_TOTAL_CUTOUTS cutouts, each copy counted. The job
goes through `engine.spec.decode_job`, `engine.limits.limit_findings` and `engine.checks.check` as a submission
does, and must pass both with no error. Then each stage runs in its own child process, as the worker runs it
(`pipeline.stages.run_stage`, after the same warm-up the stage child does, under the stage memory limit as
RLIMIT_AS), once per round, interleaved with the same two stages for the l-kitchen example as the baseline.

Per stage it reports the stage's wall and CPU time (the call alone, measured in the child), the child's peak RSS
(`os.wait4`'s rusage of that child alone, warm-up included, as a stage child has it) and peak virtual size
(VmPeak, what RLIMIT_AS counts), against STAGE_TIMEOUT_S (default 300 s) and STAGE_MEMORY_MB (default 2048).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import common

STAGE_TIMEOUT_S = float(os.environ.get("STAGE_TIMEOUT_S", "300"))
STAGE_MEMORY_MB = int(os.environ.get("STAGE_MEMORY_MB", "2048"))
WELL_INSIDE = 0.25  # "well inside the stage timeout": at most a quarter of it, leaving room for a busy machine


def largest_job(copies: int | None = None) -> dict[str, Any]:
    """The largest job the caps accept, as JSON: `copies` pieces (qty 1 each, so every copy is its own piece,
    drawn and listed on its own), outlines of MAX_TOTAL_VERTICES / MAX_COPIES vertices (a countertop whose
    bowed front is drawn as points, plus its two back corners), and the cutouts spread so their sum is
    MAX_TOTAL_CUTOUTS (3 on half the pieces, 2 on the other half at the default caps)."""
    from engine.limits import MAX_COPIES, MAX_TOTAL_CUTOUTS, MAX_TOTAL_VERTICES
    from engine.spec import MAX_CUTOUTS, MAX_PIECES, MAX_VERTICES

    n = min(copies or MAX_COPIES, MAX_PIECES)  # fewer copies (--copies, --quick): the same pieces, fewer of them
    per_piece = min(MAX_VERTICES, MAX_TOTAL_VERTICES // MAX_COPIES)
    base, extra = divmod(min(MAX_TOTAL_CUTOUTS * n // MAX_COPIES, n * MAX_CUTOUTS), n)
    pieces = []
    for i in range(n):
        length, depth, bow = 1300 + (i * 137) % 1500, 600 + (i * 37) % 60, 15 + i % 20
        front = [[round(length * k / (per_piece - 3), 2), round(-bow * _bow(k / (per_piece - 3)), 2)]
                 for k in range(per_piece - 2)]
        vertices = [*front, [length, depth], [0, depth]]
        n_cut = base + (1 if i < extra else 0)
        cutouts = [{"id": "S1", "type": "undermount_sink", "shape": "rect", "center": [length / 2, depth / 2 - 30],
                    "length": 560, "width": 380, "corner_radius": 15, "edge_finish": "polished"}]
        holes = [length / 2 - 120, length / 2 + 120, length / 2]
        for h in range(n_cut - 1):
            cutouts.append({"id": f"H{h + 1}", "type": ("faucet_hole", "soap_hole", "faucet_hole")[h % 3],
                            "shape": "circle", "center": [holes[h % 3], depth - 90 - 45 * (h // 3)], "diameter": 35})
        pieces.append({"id": f"P{i + 1:03d}", "label": f"Run {i // 6 + 1}, part {i % 6 + 1}",
                       "type": ("countertop", "vanity")[i % 2],
                       "shape": {"type": "polygon", "vertices": vertices}, "cutouts": cutouts})
    return {
        "spec_version": "1.0",
        "job": {"id": "BENCH-LARGEST", "name": "Largest accepted job", "customer": "Bench", "site": "Lab",
                "currency": "EUR", "locale": "de-DE"},
        "units": "mm",
        "material": {"name": "Granite", "type": "granite", "thickness": 20, "finish": "honed"},
        "slab_stock": [{"id": "G-STD", "length": 3200, "width": 1600, "qty": None}],
        "pieces": pieces,
        "pricing": {"material_per_m2": "180", "fabrication_per_m2": "45", "edge_per_m": {"eased": "12", "*": "20"},
                    "cutout_each": {"undermount_sink": "110", "faucet_hole": "12", "soap_hole": "12"},
                    "vat_rate": "0.19"},
        "options": {"time_limit_s": 3.0},
    }


def _bow(t: float) -> float:
    import math

    return math.sin(math.pi * t)


def accepted(spec_json: bytes) -> dict[str, Any]:
    """Decode and check the job as a submission is checked; raise SystemExit when it would not be accepted."""
    from engine.checks import check
    from engine.limits import _vertices, limit_findings
    from engine.spec import decode_job

    job = decode_job(spec_json)
    too_big = limit_findings(job)
    started = time.perf_counter()
    findings = check(job)
    check_ms = (time.perf_counter() - started) * 1000
    errors = [f for f in findings if f.severity == "error"]
    if too_big or errors:
        raise SystemExit("the job would not be accepted: " + "; ".join(
            f"[{f.path}] {f.message}" for f in [*too_big, *errors][:10]))
    return {"pieces": len(job.pieces), "copies": sum(p.qty for p in job.pieces),
            "vertices": sum(p.qty * _vertices(p) for p in job.pieces),
            "cutouts": sum(p.qty * len(p.cutouts) for p in job.pieces),
            "warnings": len(findings), "check_ms": check_ms, "json_bytes": len(spec_json)}


# ---- the child: one stage, as the stage process runs it ---------------------------------------------------


def _vm_peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmPeak:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(stage: str, work: Path, memory_mb: int) -> None:
    """Run `stage` on work/spec.json (the PDF stage also reads work/cad.pickle); write work/STAGE.json."""
    import resource

    from pipeline.stages import _warm, run_stage

    if memory_mb:
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20, memory_mb * 2**20))
    _warm()  # what a stage child does before its first job
    spec_json = (work / "spec.json").read_bytes()
    summary_json, files = None, []
    if stage == "pdf":
        summary_json, files = pickle.loads((work / "cad.pickle").read_bytes())
    warm_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    wall, cpu = time.perf_counter(), time.process_time()
    out = run_stage(stage, spec_json, summary_json, files)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if out.engine_error:
        raise SystemExit(f"{stage}: {out.engine_error}")
    if stage == "cad":
        import msgspec

        summary = msgspec.json.encode(out.summary)  # what the worker stores and hands to the PDF stage
        (work / "cad.pickle").write_bytes(pickle.dumps((summary, sorted(out.artifacts)), pickle.HIGHEST_PROTOCOL))
    pages = 0
    if stage == "pdf":
        import io

        from pypdf import PdfReader

        pages = len(PdfReader(io.BytesIO(out.artifacts[0][2])).pages)
        (work / "shop-drawing.pdf").write_bytes(out.artifacts[0][2])
    (work / f"{stage}.json").write_text(json.dumps({
        "wall_s": wall, "cpu_s": cpu, "warm_rss_mb": warm_rss, "vm_peak_mb": _vm_peak_mb(), "pages": pages,
        "artifacts": len(out.artifacts), "artifact_mb": sum(len(a[2]) for a in out.artifacts) / 2**20}))


def run_child(stage: str, work: Path, memory_mb: int, timeout_s: float) -> dict[str, Any]:
    """One stage in a fresh child; its own rusage (peak RSS, CPU) from os.wait4, killed past the timeout."""
    proc = subprocess.Popen([common.PYTHON, "-m", "bench.limits", "--child", stage, "--work", str(work),
                             "--memory-mb", str(memory_mb)], cwd=common.ROOT, stderr=subprocess.PIPE)
    started = time.monotonic()
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - started > timeout_s + 30:  # + start-up and warm-up, which the stage timeout also covers
            proc.kill()
            _, status, usage = os.wait4(proc.pid, 0)
            return {"failed": f"timed out after {timeout_s:g} s"}
        time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        return {"failed": f"exit {proc.returncode}: {err.strip().splitlines()[-1] if err.strip() else ''}"}
    res = json.loads((work / f"{stage}.json").read_text())
    res.update(process_wall_s=time.monotonic() - started, rss_mb=usage.ru_maxrss / 1024,
               process_cpu_s=usage.ru_utime + usage.ru_stime)
    return res


# ---- the run -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = common.base_parser(__doc__ or "")
    p.add_argument("--child", choices=("cad", "pdf"), help=argparse_hidden())
    p.add_argument("--work", type=Path, help=argparse_hidden())
    p.add_argument("--memory-mb", type=int, default=STAGE_MEMORY_MB,
                   help="RLIMIT_AS of each stage child in MB (default STAGE_MEMORY_MB or 2048; 0: none)")
    p.add_argument("--copies", type=int, default=None, help="a smaller job: this many copies (what-if runs)")
    p.add_argument("--also", type=int, default=60,
                   help="also measure the same job with this many copies, in the same rounds (0: not)")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    if args.child:
        child(args.child, args.work, args.memory_mb)
        return 0
    rounds = args.rounds or (1 if args.quick else 3)
    load_start = os.getloadavg()[0]
    jobs = {"l-kitchen": json.dumps(common.example_spec("l-kitchen.json", job_id="T2-L")).encode(),
            "largest": json.dumps(largest_job(args.copies if not args.quick else 12)).encode()}
    if args.also and not args.quick:  # the same pieces, fewer of them: where a lower MAX_COPIES would land
        jobs[f"{args.also} copies"] = json.dumps(largest_job(args.also)).encode()
    sizes = {name: accepted(spec) for name, spec in jobs.items()}
    common.eprint(f"sizes: {sizes}")
    results: dict[str, dict[str, list[dict[str, Any]]]] = {n: {"cad": [], "pdf": []} for n in jobs}
    with tempfile.TemporaryDirectory(prefix="studio-bench-limits-") as tmp:
        works = {}
        for name, spec in jobs.items():
            works[name] = Path(tmp) / name
            works[name].mkdir()
            (works[name] / "spec.json").write_bytes(spec)

        def one(name: str, r: int) -> float:
            total = 0.0
            for stage in ("cad", "pdf"):
                res = run_child(stage, works[name], args.memory_mb, STAGE_TIMEOUT_S)
                results[name][stage].append(res)
                if "failed" in res:
                    common.eprint(f"round {r + 1} {name} {stage}: FAILED {res['failed']}")
                    return float("nan")
                common.eprint(f"round {r + 1} {name} {stage}: {res['wall_s']:.2f} s wall, {res['cpu_s']:.2f} s CPU, "
                              f"{res['rss_mb']:.0f} MB RSS, {res['vm_peak_mb']:.0f} MB VmPeak")
                total += res["wall_s"]
            return total

        common.interleaved(rounds, list(jobs), one)
        keep = Path(tempfile.gettempdir()) / "studio-bench-limits-largest.pdf"  # to look at, not committed
        if (works["largest"] / "shop-drawing.pdf").exists():
            keep.write_bytes((works["largest"] / "shop-drawing.pdf").read_bytes())
    body = _section(sizes, results, rounds, load_start, args)
    common.emit("Largest accepted job", body, {"sizes": sizes, "results": results}, args)
    return 0 if all("failed" not in r for n in results.values() for s in n.values() for r in s) else 1


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS


def _med(samples: list[dict[str, Any]], key: str) -> float:
    values = [s[key] for s in samples if "failed" not in s]
    return statistics.median(values) if values else float("nan")


def _section(sizes: dict[str, Any], results: dict[str, Any], rounds: int, load_start: float, args: Any) -> str:
    from engine.limits import MAX_COPIES, MAX_TOTAL_CUTOUTS, MAX_TOTAL_VERTICES
    from engine.spec import MAX_CUTOUTS, MAX_PIECES, MAX_VERTICES

    big = sizes["largest"]
    rows = []
    for name in results:
        for stage in ("cad", "pdf"):
            s = results[name][stage]
            failed = [x["failed"] for x in s if "failed" in x]
            if failed and len(failed) == len(s):
                rows.append(f"| {name} | {stage.upper()} | failed: {failed[0]} | | | | | |")
                continue
            wall = _med(s, "wall_s")
            rows.append(
                f"| {name} | {stage.upper()} | {wall:.2f} | {_med(s, 'cpu_s'):.2f} | {_med(s, 'rss_mb'):,.0f} | "
                f"{_med(s, 'vm_peak_mb'):,.0f} | {wall / STAGE_TIMEOUT_S * 100:.1f} % | "
                f"{', '.join(format(x['wall_s'], '.2f') for x in s if 'failed' not in x)} |")
    ratio = {st: statistics.median(b["wall_s"] / a["wall_s"] for a, b in zip(results["l-kitchen"][st],
                                                                             results["largest"][st], strict=True)
                                   if "failed" not in a and "failed" not in b) for st in ("cad", "pdf")}
    worst = max(_med(results["largest"][st], "wall_s") for st in ("cad", "pdf"))
    rss = max(_med(results["largest"][st], "rss_mb") for st in ("cad", "pdf"))
    vm = max(_med(results["largest"][st], "vm_peak_mb") for st in ("cad", "pdf"))
    pages = _med(results["largest"]["pdf"], "pages")
    inside = worst <= WELL_INSIDE * STAGE_TIMEOUT_S
    limit = f"RLIMIT_AS {args.memory_mb:,} MB" if args.memory_mb else "no RLIMIT_AS"
    return f"""
Command: `python -m bench.limits --write`. Machine: {common.machine()}. No database (the stages alone).
Date: {dt.date.today().isoformat()}. {rounds} interleaved round{'s' if rounds > 1 else ''} ({', '.join(results)}; the order flips
every round), medians. {common.load_note(load_start)}

The job (`bench.limits.largest_job`) sits at every cap at once: {big['pieces']} pieces of qty 1 (copies
{big['copies']} of MAX_COPIES {MAX_COPIES}), polygon outlines of {big['vertices'] // big['copies']} vertices (a bowed front) so
{big['vertices']:,} vertices of MAX_TOTAL_VERTICES {MAX_TOTAL_VERTICES:,}, and {big['cutouts']} cutouts of
MAX_TOTAL_CUTOUTS {MAX_TOTAL_CUTOUTS} (a sink with faucet and soap holes on each piece); the schema caps ({MAX_PIECES}
pieces, {MAX_VERTICES} vertices a polygon, {MAX_CUTOUTS} cutouts a piece) are not what binds. {big['json_bytes'] / 1024:,.0f} KB
of JSON; `limit_findings` gives no error and `check` no error and {big['warnings']} warnings
({big['check_ms']:,.0f} ms in process, the time the API spends before its 202). l-kitchen, the baseline, is
{sizes['l-kitchen']['pieces']} pieces, {sizes['l-kitchen']['vertices']} vertices, {sizes['l-kitchen']['cutouts']} cutouts.

Each stage runs in a fresh child process (`python -m bench.limits --child STAGE`): the stage child's warm-up
(`pipeline.stages._warm`), then `pipeline.stages.run_stage` as the worker calls it, the PDF stage on the CAD
stage's summary JSON and files; {limit} on the child, as STAGE_MEMORY_MB sets it. Wall and CPU are the
`run_stage` call alone; peak RSS is the child's own (`os.wait4`, warm-up included: what the stage process
holds); VmPeak is its largest address space, which is what RLIMIT_AS counts.

| job | stage | wall s | CPU s | peak RSS MB | VmPeak MB | of STAGE_TIMEOUT_S {STAGE_TIMEOUT_S:g} s | samples (wall s) |
|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

The largest job against l-kitchen, wall time, median of the ratios within each round: CAD {ratio['cad']:.0f}x,
PDF {ratio['pdf']:.0f}x
({pages:.0f} PDF pages). Its slowest stage takes {worst:.1f} s, {worst / STAGE_TIMEOUT_S * 100:.1f} % of the
{STAGE_TIMEOUT_S:g} s stage timeout (target, this harness's reading of "well inside": at most {WELL_INSIDE:.0%} of it, wall time, which a busy machine stretches past the CPU time; {common.verdict(inside)}); its largest
peak RSS is {rss:,.0f} MB and VmPeak {vm:,.0f} MB against STAGE_MEMORY_MB {STAGE_MEMORY_MB:,}
({common.verdict(vm < STAGE_MEMORY_MB)}).{_smaller(results)}
"""


def _smaller(results: dict[str, Any]) -> str:
    """A sentence on the smaller job measured alongside (`--also`), if any."""
    names = [n for n in results if n not in ("l-kitchen", "largest")]
    if not names:
        return ""
    n = names[0]
    worst = max(_med(results[n][st], "wall_s") for st in ("cad", "pdf"))
    rss = max(_med(results[n][st], "rss_mb") for st in ("cad", "pdf"))
    return (f" The same job with {n} (the caps scaled alike) in the same rounds: slowest stage {worst:.1f} s, "
            f"{worst / STAGE_TIMEOUT_S * 100:.1f} % of the timeout, peak RSS {rss:,.0f} MB.")


if __name__ == "__main__":
    sys.exit(main())
