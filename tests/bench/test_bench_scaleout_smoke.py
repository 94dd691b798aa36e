"""The scale-out harness runs end to end on tiny sizes (`--quick`: 4 jobs, 1 and 2 workers) with real figures.

No timing is asserted: the numbers belong in docs/BENCHMARKS.md. What is asserted is that every figure was
measured: all jobs succeeded, throughput comes from the jobs' timestamps, PostgreSQL's CPU was read from /proc.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.common import tree_cpu

ROOT = Path(__file__).resolve().parents[2]


def test_tree_cpu_counts_a_child_that_burns_cpu() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time\nt = time.process_time()\n"
                              "while time.process_time() - t < 0.3: pass\ntime.sleep(30)"])
    try:
        before = tree_cpu([os.getpid()])
        time.sleep(1.0)  # the child burns 0.3 s of CPU, then sleeps
        after = tree_cpu([os.getpid()])
        assert 0.2 <= after - before < 1.5, (before, after)
    finally:
        child.kill()
        child.wait()


def test_quick_run_measures_every_figure(tmp_path: Path) -> None:
    out_json = tmp_path / "result.json"
    proc = subprocess.run([sys.executable, "-m", "bench.scaleout", "--quick", "--json", str(out_json)], cwd=ROOT,
                          capture_output=True, text=True, timeout=240, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, f"bench.scaleout failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    assert "## Scale-out" in proc.stdout and "| 2 |" in proc.stdout
    result = json.loads(out_json.read_text())
    assert set(result["runs"]) == {"1", "2"}
    for count, runs in result["runs"].items():
        (r,) = runs
        assert r["workers"] == int(count) and r["jobs"] == 4
        assert r["artifacts"] >= 4 * 3  # DXF, SVGs and the PDF of every job were stored
        assert 0 < r["span_s"] <= r["wall_s"] + 1  # from created_at / finished_at, inside the harness's clock
        assert math.isclose(r["jobs_per_min"], 4 / r["span_s"] * 60)
        assert r["stage_s_per_job"] > 0.05
        assert math.isfinite(r["pg_cpu_ms_per_job"]) and r["pg_cpu_ms_per_job"] > 0  # read from /proc
        assert r["worker_cpu_ms_per_job"] > 50  # the stages ran in the workers' process trees
