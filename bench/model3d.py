"""`python -m bench.model3d`: what model.glb and the PNG views cost, against the rest of the CAD stage, same run.

Prints one line per job: medians of model_glb and model_views, and run_cad without the model as the baseline
(a ratio, since the machine is shared). The largest job is MAX_PIECES pieces, l-kitchen's A and B alternating.
"""

from __future__ import annotations

import copy
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from engine.cad import run_cad
from engine.model3d import model_glb
from engine.render3d import model_views
from engine.spec import MAX_PIECES, JobSpec, decode_job

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _median_ms(fn: Callable[[JobSpec], Any], job: JobSpec, rounds: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        out = fn(job)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, out


def _largest() -> JobSpec:
    raw = json.loads((EXAMPLES / "l-kitchen.json").read_text())
    raw["pieces"] = [dict(copy.deepcopy(raw["pieces"][i % 2]), id=f"P{i}") for i in range(MAX_PIECES)]
    raw["joins"] = []
    return decode_job(raw)


def main() -> None:
    jobs = {name: decode_job((EXAMPLES / f"{name}.json").read_bytes())
            for name in ("l-kitchen", "island", "waterjet-vanities")}
    jobs[f"{MAX_PIECES} pieces"] = _largest()
    model_views(jobs["l-kitchen"])  # imports and font cache out of the way
    for name, job in jobs.items():
        rounds = 1 if name.endswith("pieces") else 5
        glb_ms, glb = _median_ms(model_glb, job, rounds)
        png_ms, pngs = _median_ms(model_views, job, rounds)
        line = (f"{name}: model_glb {glb_ms:.0f} ms ({len(glb) / 1024:.0f} KiB), "
                f"model_views {png_ms:.0f} ms ({sum(map(len, pngs.values())) / 1024:.0f} KiB)")
        if rounds > 1:  # the nest of MAX_PIECES pieces runs to its time limit: no useful baseline
            outputs = msgspec.structs.replace(job.options.outputs, glb=False)
            base = msgspec.structs.replace(job, options=msgspec.structs.replace(job.options, outputs=outputs))
            cad_ms, _ = _median_ms(run_cad, base, rounds)
            line += f"; run_cad without them {cad_ms:.0f} ms (glb {glb_ms / cad_ms:.2f}x, views {png_ms / cad_ms:.2f}x)"
        print(line, flush=True)


if __name__ == "__main__":
    main()
