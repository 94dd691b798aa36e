"""Free placement of shaped pieces: true outlines against their bounding boxes, on kitchen-like jobs.

The CLASS instances are rectangles, where outline nesting cannot help (nest() does not even try it). This set
is what a waterjet shop cuts: L and U tops, clipped corners, bar tops with an arc end, and plain rectangles,
4 to 16 pieces per job, seeded, on one slab size. Each job is nested twice by `engine.nest.nest(guillotine=
False)`: once with the outlines (the real path) and once with every outline dropped (bounding boxes only, the
behaviour before outline nesting). Same time limit, same seed.
"""

from __future__ import annotations

import math
import multiprocessing
import random
import time
from dataclasses import dataclass

from engine.nest import Part, StockSlab, lower_bound, nest

SLAB = StockSlab(id="S", length=3200, width=1600, qty=None, kind="full")
KERF, MARGIN = 2.0, 15.0


@dataclass
class Outcome:
    job: int
    pieces: int
    bound: int
    outline: int
    bbox: int
    outline_s: float
    bbox_s: float


def _piece(rng: random.Random) -> tuple[float, float, list[tuple[float, float]]]:
    kind = rng.choices(("L", "U", "clip", "arc", "rect"), weights=(3, 1, 2, 2, 3))[0]
    length, width = round(rng.uniform(600, 2600)), round(rng.uniform(450, 1300))
    arm = round(min(length, width) * rng.uniform(0.35, 0.6))
    if kind == "L":
        pts = [(0, 0), (length, 0), (length, arm), (arm, arm), (arm, width), (0, width)]
    elif kind == "U":
        length = max(length, 3 * arm + 100)
        pts = [(0, 0), (length, 0), (length, width), (length - arm, width), (length - arm, arm), (arm, arm),
               (arm, width), (0, width)]
    elif kind == "clip":
        c = round(arm * 0.8)
        pts = [(0, 0), (length - c, 0), (length, c), (length, width), (0, width)]
    elif kind == "arc":  # a bar top whose right end is a half-ellipse
        width = min(width, 900)
        r = round(width * rng.uniform(0.3, 0.5))
        straight = length - r
        pts = [(0, 0), (straight, 0)]
        pts += [(straight + r * math.sin(math.pi * k / 16), width / 2 - width / 2 * math.cos(math.pi * k / 16))
                for k in range(1, 16)]
        pts += [(straight, width), (0, width)]
    else:
        pts = [(0, 0), (length, 0), (length, width), (0, width)]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return max(xs) - min(xs), max(ys) - min(ys), [(float(x - min(xs)), float(y - min(ys))) for x, y in pts]


def job_parts(job: int) -> list[Part]:
    rng = random.Random(1000 + job)
    parts = []
    for i in range(rng.randint(4, 16)):
        length, width, pts = _piece(rng)
        parts.append(Part(key=f"P{i}#1", piece=f"P{i}", copy=1, length=length, width=width, can_rotate=True,
                          outline=pts))
    return parts


def run_job(args: tuple[int, float]) -> Outcome:
    job, limit = args
    parts = job_parts(job)
    boxes = [Part(p.key, p.piece, p.copy, p.length, p.width, p.can_rotate) for p in parts]
    runs = {}
    for name, ps in (("outline", parts), ("bbox", boxes)):
        t0 = time.perf_counter()
        used = nest(ps, [SLAB], kerf=KERF, margin=MARGIN, guillotine=False, prefer_remnants=False,
                    time_limit_s=limit, seed=0).used
        runs[name] = (used, time.perf_counter() - t0)
    return Outcome(job, len(parts), lower_bound(parts, [SLAB], MARGIN), runs["outline"][0], runs["bbox"][0],
                   runs["outline"][1], runs["bbox"][1])


def run(jobs: int, limit: float, workers: int) -> list[Outcome]:
    args = [(j, limit) for j in range(jobs)]
    if workers <= 1:
        return [run_job(a) for a in args]
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        return pool.map(run_job, args, chunksize=1)


def table(results: list[Outcome]) -> str:
    n = len(results)
    lb = sum(r.bound for r in results)
    out_, box = sum(r.outline for r in results), sum(r.bbox for r in results)
    fewer = sum(1 for r in results if r.outline < r.bbox)
    more = sum(1 for r in results if r.outline > r.bbox)
    pieces = sum(r.pieces for r in results)
    return "\n".join([
        "| jobs | pieces | LB (true area) | slabs, outlines | slabs, bboxes | outlines vs bboxes | jobs with fewer "
        "slabs | jobs with more | s/job outlines | s/job bboxes |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| {n} | {pieces} | {lb} | {out_} | {box} | {100.0 * (out_ - box) / box:+.1f}% | {fewer} | {more} | "
        f"{sum(r.outline_s for r in results) / n:.2f} | {sum(r.bbox_s for r in results) / n:.2f} |",
    ])
