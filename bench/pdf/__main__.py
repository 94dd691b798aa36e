"""PDF stage, today's render_pdf against the frozen baseline (4dc515e) in the same run, on the same jobs.

    .venv/bin/python -m bench.pdf                 # 3 rounds, l-kitchen and the 60-piece priced job
    .venv/bin/python -m bench.pdf --rounds 1 --profile   # and a pyinstrument profile of today's 60-piece render

Each round renders every job with both renderers, alternating which goes first, in this one warm process.
Times are CPU seconds of this process (time.process_time): on the shared 2-core machine wall time swings 3x
from one render to the next with the other sessions' load, CPU time much less. Reports the best and median per
job and renderer, today / baseline, pages, whether every page's extracted
text is identical, and the largest pixel difference of any page at 50 dpi (see bench/pdf/compare.py).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

from bench.pdf.compare import ISSUED, as_intended, jobs, page_texts, pixel_diffs, renderers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    from bench.pdf.baseline import baseline
    from engine import pdf

    baseline().warm()
    pdf.warm()
    render = renderers()
    work = jobs()
    times: dict[tuple[str, str], list[float]] = {(job, who): [] for job in work for who in render}
    output: dict[tuple[str, str], bytes] = {}
    for job, (spec, summary, svgs) in work.items():  # one untimed render each: caches, first-use imports
        for who, fn in render.items():
            output[job, who] = fn(spec, summary, svgs, issued=ISSUED)
    for round_no in range(args.rounds):
        order = list(render.items()) if round_no % 2 == 0 else list(reversed(render.items()))
        for job, (spec, summary, svgs) in work.items():
            for who, fn in order:
                start = time.process_time()
                fn(spec, summary, svgs, issued=ISSUED)
                times[job, who].append(time.process_time() - start)
    load = os.getloadavg()[0]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, load (1 min) {load:.1f} at the end, {args.rounds} rounds")
    print("| job | baseline CPU ms (best / median) | today CPU ms (best / median) | today / baseline (best) | pages | "
          "same text | worst page: pixels changed, mean diff |")
    print("|---|---:|---:|---:|---:|---|---|")
    for job in work:
        base, today = times[job, "baseline"], times[job, "today"]
        pages_base = [as_intended(text) for text in page_texts(output[job, "baseline"])]
        pages_today = page_texts(output[job, "today"])
        diffs = pixel_diffs(output[job, "baseline"], output[job, "today"])
        worst = max(diffs, key=lambda d: d.changed)
        print(f"| {job} | {min(base) * 1e3:,.0f} / {statistics.median(base) * 1e3:,.0f} | "
              f"{min(today) * 1e3:,.0f} / {statistics.median(today) * 1e3:,.0f} | {min(today) / min(base):.2f}x | "
              f"{len(pages_base)} / {len(pages_today)} | {'yes' if pages_base == pages_today else 'NO'} | "
              f"page {worst.page}: {worst.changed * 100:.3f} %, {worst.mean:.3f} |")
    if args.profile:
        from pyinstrument import Profiler

        spec, summary, svgs = work["60 pieces"]
        profiler = Profiler(interval=0.002)
        with profiler:
            pdf.render_pdf(spec, summary, svgs, issued=ISSUED)
        print(profiler.output_text(unicode=False, color=False, show_all=False))


if __name__ == "__main__":
    main()
