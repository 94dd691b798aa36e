"""`python -m bench.nest [--quick]`: the slab nesting benchmark; prints a Markdown table (and can write the doc)."""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import date

from bench.nest import shaped
from bench.nest.harness import run, table
from bench.nest.instances import load

QUICK = {"classes": (1, 5, 7, 9), "sizes": (20,), "per_group": 2}


def machine() -> str:
    """nproc and CPU model, for the record (times are context only: the machine is shared)."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), model)
    except OSError:
        pass
    return f"{os.cpu_count()} x {model}, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> str:
    ap = argparse.ArgumentParser(prog="python -m bench.nest", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="a tiny smoke set (seconds)")
    ap.add_argument("--source", choices=("auto", "original", "generated"), default="auto")
    ap.add_argument("--time-limit", type=float, default=None, help="seconds per method per instance")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--no-rotation-variant", action="store_true", help="only 2BP|O|F, skip 2BP|R|F")
    ap.add_argument("--shaped", type=int, metavar="JOBS", default=0,
                    help="instead: this many kitchen-like jobs of shaped pieces, true outlines vs bounding boxes")
    args = ap.parse_args(argv)
    if args.shaped:
        limit = args.time_limit if args.time_limit is not None else 2.0
        t0 = time.perf_counter()
        results = shaped.run(args.shaped, limit, args.workers)
        out = (f"{args.shaped} shaped jobs (bench/nest/shaped.py); time limit {limit:g} s per nest() call; "
               f"{args.workers} worker(s); wall {time.perf_counter() - t0:.0f} s; {machine()}; "
               f"{date.today().isoformat()}\n\n" + shaped.table(results))
        print(out)
        return out
    sel = QUICK if args.quick else {}
    source, instances = load(args.source, **sel)
    limit = args.time_limit if args.time_limit is not None else (0.2 if args.quick else 0.5)
    rotations = (False,) if args.no_rotation_variant or args.quick else (False, True)
    t0 = time.perf_counter()
    results = run(instances, rotations, limit, workers=args.workers)
    wall = time.perf_counter() - t0
    out = (f"instances: {source}, {len(instances)} per rotation setting; time limit {limit:g} s per method per "
           f"instance; {args.workers} worker(s); wall {wall:.0f} s; {machine()}; {date.today().isoformat()}\n\n"
           + table(results, source))
    print(out)
    return out


if __name__ == "__main__":
    main()
