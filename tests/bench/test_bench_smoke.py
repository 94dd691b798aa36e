"""Each benchmark harness runs end to end on tiny sizes (`--quick`) and its section reports what it measured.

Integration tests (real PostgreSQL servers, subprocesses, minutes): not under tests/unit. No timing target is
asserted: the numbers belong in docs/BENCHMARKS.md, measured on purpose, not in CI. What is asserted is that
the section is built from the raw results: every median is the median of its samples and is the figure printed.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import statistics
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_harness(module: str, *args: str, tmp_path: Path, timeout: float = 420) -> tuple[str, dict]:  # type: ignore[type-arg]
    out_json = tmp_path / "result.json"
    proc = subprocess.run([sys.executable, "-m", module, *args, "--quick", "--json", str(out_json)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, f"{module} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return proc.stdout, json.loads(out_json.read_text())


def reported_medians(out: str, result: dict, names: set[str] | None = None) -> None:  # type: ignore[type-arg]
    """Every variant (at least `names`) has finite positive samples, its median is theirs, and the section prints it."""
    medians, samples = result["medians"], result["samples"]
    assert medians and set(medians) == set(samples)
    assert names is None or names <= set(medians), sorted(medians)
    for name, value in medians.items():
        values = samples[name]
        assert values and all(math.isfinite(v) and v > 0 for v in values), (name, values)
        assert value == statistics.median(values), (name, value, values)
        assert f"{value:,.0f}" in out, f"{name}: median {value:,.0f} not in the section"


def needs(*modules: str) -> pytest.MarkDecorator:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    return pytest.mark.skipif(bool(missing), reason=f"pip install -e '.[bench]' ({', '.join(missing)} missing)")


@needs("pgqueuer", "procrastinate", "asyncpg")
def test_queue_drain(tmp_path: Path) -> None:
    out, result = run_harness("bench.queue", "drain", tmp_path=tmp_path)
    assert "## Queue" in out and "ours / pgqueuer, batch 10" in out
    reported_medians(out, result, {"ours b10", "pgqueuer b10", "procrastinate c10", "studio worker c10"})
    medians = result["medians"]
    assert f"{medians['ours b10'] / medians['pgqueuer b10']:.2f}x" in out  # the ratio column is ours / theirs


def test_pickup_latency(tmp_path: Path) -> None:
    out, result = run_harness("bench.queue", "latency", tmp_path=tmp_path)
    assert "## Pickup latency" in out
    stage = result["summary"]["ack_to_stage"]
    assert 0 < stage["p50"] <= stage["p95"] <= stage["max"] < 2500, stage  # no pickup waited for the poll
    assert len(result["samples"]["ack_to_stage"]) == 30


def test_enqueue_overhead(tmp_path: Path) -> None:
    out, result = run_harness("bench.queue", "enqueue", tmp_path=tmp_path)
    assert "## Enqueue overhead" in out
    reported_medians(out, result, {"raw", "ours"})
    assert f"{result['medians']['ours'] / result['medians']['raw']:.2f}x" in out


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk not installed (apt-get install wrk)")
def test_http(tmp_path: Path) -> None:
    out, result = run_harness("bench.http", tmp_path=tmp_path)
    assert "## HTTP" in out
    for name, runs in result["full"].items():
        # wrk ran and every response was a 2xx: a failing endpoint would show up as non2xx, not as a low rps.
        assert runs and all(math.isfinite(r["rps"]) and r["rps"] > 0 and r["non2xx"] == 0 for r in runs), name


def test_pipeline(tmp_path: Path) -> None:
    out, result = run_harness("bench.pipeline", tmp_path=tmp_path)
    assert "## Pipeline" in out
    samples = result["samples"]
    assert set(samples) == {"engine direct, one process", "pipeline, 1 worker", "pipeline, 2 workers"}
    for name, values in samples.items():
        assert values and all(math.isfinite(v) and v > 0 for v in values), name
        assert f"{statistics.median(values) * 1000:,.0f}" in out, name  # the section prints the median in ms


def test_notify(tmp_path: Path) -> None:
    out, result = run_harness("bench.notify", tmp_path=tmp_path)
    assert "## NOTIFY under insert load" in out
    reported_medians(out, result, {"c8 with NOTIFY", "c8 without", "c8 ours (group commit)"})
    for label, ratio in result["ratios"].items():
        assert math.isfinite(ratio) and f"| {label} | {ratio:.2f}x |" in out, label


def test_write_section_keeps_other_sections(tmp_path: Path) -> None:
    from bench.common import write_section

    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text("# Benchmarks\n\n## Slab nesting\n\nkeep me\n\n## Queue\n\nold\n\n## PDF stage\n\nkeep too\n")
    write_section("Queue", "new numbers", doc)
    write_section("HTTP", "appended", doc)
    text = doc.read_text()
    assert "keep me" in text and "keep too" in text and "new numbers" in text and "old" not in text
    assert text.index("## Slab nesting") < text.index("## Queue") < text.index("## PDF stage") < text.index("## HTTP")
