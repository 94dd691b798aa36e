"""PDF stage soak and timing: does a worker stay flat over thousands of renders, and where does the time go?

    .venv/bin/python -m bench.pdf_soak            # 2,000 renders with the shared FontConfiguration
    .venv/bin/python -m bench.pdf_soak --quick    # 50 renders, for a smoke run
    .venv/bin/python -m bench.pdf_soak --timings  # per-stage times for the examples and a 60-piece job

Soak: renders the l-kitchen example N times in this process, sampling RSS every `--every` renders, first with
the process-wide FontConfiguration and compiled CSS that `render_pdf` uses, then (fewer renders, `--leak-n`)
with a fresh FontConfiguration and CSS per render: the WeasyPrint leak this design avoids.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import io
import os
import platform
import pstats
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ISSUED = dt.date(2025, 1, 15)


def rss_mb() -> float:
    """Resident set size of this process in MB (from /proc, so no extra dependency)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def example(name: str) -> Any:
    from engine.spec import decode_job

    return decode_job((ROOT / "examples" / f"{name}.json").read_bytes())


def cad(job: Any) -> tuple[Any, dict[str, bytes]]:
    """Summary and SVGs as the CAD stage makes them (run_cad), or summary-only when it is not there."""
    try:
        from engine.cad import run_cad
    except ImportError:
        from engine.summary import summarize

        return summarize(job, None), {}
    result = run_cad(job)
    return result.summary, {a.name: a.data for a in result.artifacts if a.name.endswith(".svg")}


def sixty_piece_job(n: int = 60) -> Any:
    """A large, priced job: n pieces of mixed shapes, sizes, cutouts, radius corners and drip grooves."""
    from engine.spec import decode_job

    pieces = []
    for i in range(n):
        length, depth = 600 + (i * 137) % 2000, 300 + (i * 71) % 400
        piece: dict[str, Any] = {"id": f"P{i + 1:02d}", "label": f"Run {i // 6 + 1}, part {i % 6 + 1}",
                                 "type": ("countertop", "vanity", "window_sill", "backsplash")[i % 4],
                                 "shape": {"type": "rect", "length": length, "depth": depth},
                                 "edges": {"front": {"kind": "finished", "profile": ("eased", "half_bullnose")[i % 2],
                                                     **({"drip_groove": {}} if i % 4 == 2 else {})},
                                           "right": {"kind": "finished" if i % 3 == 0 else "seam",
                                                     "profile": "eased"},
                                           "back": {"kind": "wall"}, "left": {"kind": "wall"}}}
        if i % 5 == 0:
            piece["corners"] = [{"at": 1, "type": "radius", "size": 25}]
        if i % 4 == 0 and length >= 1200 and depth >= 500:
            piece["cutouts"] = [{"id": "S1", "type": "undermount_sink", "shape": "rect", "center": [length / 2, depth / 2],
                                 "length": 500, "width": 300, "corner_radius": 15},
                                {"id": "F1", "type": "faucet_hole", "shape": "circle",
                                 "center": [length / 2, depth / 2 + 150 + 45], "diameter": 35}]
        pieces.append(piece)
    return decode_job({
        "spec_version": "1.0",
        "job": {"id": "BENCH-60", "name": "Sixty pieces", "customer": "Bench", "site": "Lab", "currency": "EUR",
                "locale": "de-DE"},
        "units": "mm",
        "material": {"name": "Granite", "type": "granite", "thickness": 20, "finish": "honed"},
        "slab_stock": [{"id": "G-STD", "length": 3200, "width": 1600, "qty": None}],
        "pieces": pieces,
        "pricing": {"material_per_m2": "180", "fabrication_per_m2": "45", "edge_per_m": {"eased": "12", "*": "20"},
                    "cutout_each": {"undermount_sink": "110", "faucet_hole": "12"}, "drip_groove_per_m": "9",
                    "vat_rate": "0.19"},
        "options": {"time_limit_s": 1.0},
    })


def render_once(job: Any, summary: Any, svgs: dict[str, bytes], fresh: bool) -> bytes:
    from engine import pdf

    resources = pdf._Resources() if fresh else None  # fresh: what a naive render does every time
    return pdf._render(job, summary, svgs, issued=ISSUED, resources=resources)


def soak(n: int, every: int, fresh: bool, log: Callable[[str], None] = print) -> list[tuple[int, float]]:
    """Render l-kitchen n times; returns [(renders done, RSS MB)] sampled every `every` renders."""
    job = example("l-kitchen")
    summary, svgs = cad(job)
    render_once(job, summary, svgs, fresh)  # warm: imports, font loading, first-render caches
    gc.collect()
    samples = [(0, rss_mb())]
    started = time.perf_counter()
    for i in range(1, n + 1):
        render_once(job, summary, svgs, fresh)
        if i % every == 0 or i == n:
            gc.collect()
            samples.append((i, rss_mb()))
            log(f"  {'fresh' if fresh else 'shared'} {i:5d} renders  RSS {samples[-1][1]:7.1f} MB  "
                f"{(time.perf_counter() - started) / i * 1000:6.0f} ms/render")
    return samples


def growth(samples: list[tuple[int, float]]) -> tuple[float, float, float]:
    """(MB at the first sample, MB at the end, MB per 100 renders between them).

    The baseline is the first sample after the first batch: pango, fontconfig and WeasyPrint fill their caches
    over the first few dozen renders (about 9 MB), which is warm-up, not a leak.
    """
    (n0, r0), (n1, r1) = samples[1] if len(samples) > 2 else samples[0], samples[-1]
    return r0, r1, (r1 - r0) / max(1, n1 - n0) * 100


def timings(log: Callable[[str], None] = print, runs: int = 3) -> None:
    """Per-stage times (check+nest+summary+DXF/SVG, then PDF) for the examples and the 60-piece job."""
    from engine.pdf import render_pdf

    jobs = [("l-kitchen", example("l-kitchen")), ("island", example("island")), ("60 pieces", sixty_piece_job())]
    render_pdf(jobs[0][1], *cad(jobs[0][1]), issued=ISSUED)  # warm
    log(f"{'job':<12}{'CAD ms':>9}{'PDF ms':>9}{'pages':>7}{'PDF KB':>9}{'RSS MB':>9}")
    for name, job in jobs:
        t = time.perf_counter()
        summary, svgs = cad(job)
        cad_ms = (time.perf_counter() - t) * 1000
        best = float("inf")
        for _ in range(runs):
            t = time.perf_counter()
            data = render_pdf(job, summary, svgs, issued=ISSUED)
            best = min(best, (time.perf_counter() - t) * 1000)
        from pypdf import PdfReader

        pages = len(PdfReader(io.BytesIO(data)).pages)
        log(f"{name:<12}{cad_ms:9.0f}{best:9.0f}{pages:7d}{len(data) / 1024:9.0f}{rss_mb():9.1f}")
    # Where the time goes: the same steps as engine.pdf._render, timed one by one.
    log("\nWhere the time goes (ms, best of %d):" % runs)
    log(f"{'job':<12}{'HTML+SVG':>10}{'parse':>8}{'style+layout':>14}{'draw+write':>12}")
    for name, job in jobs:
        summary, svgs = cad(job)
        log(f"{name:<12}" + "".join(f"{v:>{w}.0f}" for v, w in zip(phases(job, summary, svgs, runs), (10, 8, 14, 12))))
    # And the hottest functions of one big render, for the curious.
    job = jobs[-1][1]
    summary, svgs = cad(job)
    prof = cProfile.Profile()
    prof.enable()
    render_pdf(job, summary, svgs, issued=ISSUED)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(8)
    log("\n".join(line for line in out.getvalue().splitlines() if line.strip())[-1600:])


def phases(job: Any, summary: Any, svgs: dict[str, bytes], runs: int) -> tuple[float, float, float, float]:
    """Best-of-runs ms for: building the HTML and SVG, parsing it, style + layout, drawing + writing the PDF."""
    from weasyprint import HTML

    from engine import pdf
    from engine.pricing import quote

    res = pdf._shared()
    page = job.options.outputs.pdf.page if job.options.outputs.pdf else "A3"
    best = [float("inf")] * 4
    for _ in range(runs):
        t0 = time.perf_counter()
        q = summary.quote or (quote(job, summary) if job.pricing else None)
        text = pdf.build_html(job, summary, svgs, ISSUED, q)
        t1 = time.perf_counter()
        doc = HTML(string=text, base_url=pdf.ASSETS.as_uri() + "/", url_fetcher=res.fetcher)
        t2 = time.perf_counter()
        rendered = doc.render(stylesheets=[res.css, res.page_css[page]], font_config=res.font_config)
        t3 = time.perf_counter()
        rendered.write_pdf()
        t4 = time.perf_counter()
        for i, v in enumerate((t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            best[i] = min(best[i], v * 1000)
    return best[0], best[1], best[2], best[3]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000, help="renders with the shared font configuration")
    ap.add_argument("--leak-n", type=int, default=400, help="renders with a fresh font configuration each")
    ap.add_argument("--every", type=int, default=100, help="sample RSS every this many renders")
    ap.add_argument("--quick", action="store_true", help="50 renders each, sampled every 10")
    ap.add_argument("--timings", action="store_true", help="only the per-stage timings and profile")
    args = ap.parse_args(argv)
    if args.quick:
        args.n, args.leak_n, args.every = 50, 50, 10
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    print(f"# {dt.date.today()}  {platform.python_implementation()} {platform.python_version()}  "
          f"nproc={os.cpu_count()}  CPU: {cpu}")
    if args.timings:
        timings()
        return
    print(f"Soak: l-kitchen, shared FontConfiguration, {args.n} renders")
    shared = soak(args.n, args.every, fresh=False)
    print(f"Leak baseline: fresh FontConfiguration per render, {args.leak_n} renders")
    fresh = soak(args.leak_n, args.every, fresh=True)
    print(f"\n{'mode':<8}{'renders':>9}{'warm MB':>9}{'end MB':>9}{'growth %':>10}{'MB/100 renders':>16}")
    for name, s in (("shared", shared), ("fresh", fresh)):
        r0, r1, per100 = growth(s)
        print(f"{name:<8}{s[1][0] if len(s) > 2 else 0:>4}-{s[-1][0]:<4}{r0:>9.1f}{r1:>9.1f}{(r1 - r0) / r0 * 100:>10.1f}"
              f"{per100:>16.3f}")


if __name__ == "__main__":
    main()
