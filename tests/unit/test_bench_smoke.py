"""Each benchmark harness runs end to end on tiny sizes (`--quick`) and produces a sane section.

No timing is asserted: the numbers belong in docs/BENCHMARKS.md, measured on purpose, not in CI.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
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


def positive_medians(result: dict) -> None:  # type: ignore[type-arg]
    medians = result["medians"]
    assert medians
    for name, value in medians.items():
        assert math.isfinite(value) and value > 0, f"{name}: {value}"


def needs(*modules: str) -> pytest.MarkDecorator:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    return pytest.mark.skipif(bool(missing), reason=f"pip install -e '.[bench]' ({', '.join(missing)} missing)")


@needs("pgqueuer", "procrastinate", "asyncpg")
def test_queue_drain(tmp_path: Path) -> None:
    out, result = run_harness("bench.queue", "drain", tmp_path=tmp_path)
    assert "## Queue" in out and "ours / pgqueuer, batch 10" in out
    positive_medians(result)
    assert {"ours b10", "pgqueuer b10", "procrastinate c10", "studio worker c10"} <= set(result["medians"])


def test_pickup_latency(tmp_path: Path) -> None:
    out, result = run_harness("bench.queue", "latency", tmp_path=tmp_path)
    assert "## Pickup latency" in out
    stage = result["summary"]["ack_to_stage"]
    assert 0 < stage["p50"] <= stage["p95"] <= stage["max"] < 2500, stage  # no pickup waited for the poll
    assert len(result["samples"]["ack_to_stage"]) == 30


def test_enqueue_overhead(tmp_path: Path) -> None:
    out, result = run_harness("bench.queue", "enqueue", tmp_path=tmp_path)
    assert "## Enqueue overhead" in out
    positive_medians(result)


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk not installed (apt-get install wrk)")
def test_http(tmp_path: Path) -> None:
    out, result = run_harness("bench.http", tmp_path=tmp_path)
    assert "## HTTP" in out
    for name, runs in result["full"].items():
        assert runs and runs[0]["rps"] > 0 and runs[0]["non2xx"] == 0, name


def test_pipeline(tmp_path: Path) -> None:
    out, result = run_harness("bench.pipeline", tmp_path=tmp_path)
    assert "## Pipeline" in out
    for name, values in result["samples"].items():
        assert values and all(v > 0 for v in values), name


def test_notify(tmp_path: Path) -> None:
    out, result = run_harness("bench.notify", tmp_path=tmp_path)
    assert "## NOTIFY under insert load" in out
    positive_medians(result)


def test_write_section_keeps_other_sections(tmp_path: Path) -> None:
    from bench.common import write_section

    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text("# Benchmarks\n\n## Slab nesting\n\nkeep me\n\n## Queue\n\nold\n\n## PDF stage\n\nkeep too\n")
    write_section("Queue", "new numbers", doc)
    write_section("HTTP", "appended", doc)
    text = doc.read_text()
    assert "keep me" in text and "keep too" in text and "new numbers" in text and "old" not in text
    assert text.index("## Slab nesting") < text.index("## Queue") < text.index("## PDF stage") < text.index("## HTTP")
