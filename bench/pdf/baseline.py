"""The baseline PDF renderer: `engine/pdf.py` as it was at BASELINE_COMMIT (before the split into `engine/pdf/` and
the issue-18 speed work), read from git history so the benchmark and the visual regression test render it side by
side with today's. Keeping it as a commit, not a copy, leaves one renderer in the tree."""

from __future__ import annotations

import functools
import subprocess
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BASELINE_COMMIT = "4dc515e6b4c3395f049b07f904e244570c0a6421"
MODULE = "bench.pdf.baseline_engine_pdf"


@functools.cache
def baseline() -> types.ModuleType:
    """The baseline module; it imports today's engine.geometry, engine.model and engine.spec, whose names it uses
    have not changed. Raises RuntimeError when the clone does not hold the commit (a shallow clone)."""
    shown = subprocess.run(["git", "-C", str(ROOT), "show", f"{BASELINE_COMMIT}:engine/pdf.py"],
                           capture_output=True, text=True)
    if shown.returncode != 0:
        raise RuntimeError(f"the PDF baseline needs commit {BASELINE_COMMIT[:7]} in this clone (a full clone, not "
                           f"--depth): {shown.stderr.strip()}")
    module = types.ModuleType(MODULE)
    module.__file__ = str(ROOT / "engine" / "pdf.py")  # its assets were engine/assets, beside the file
    sys.modules[MODULE] = module  # dataclasses resolve their annotations through sys.modules
    exec(compile(shown.stdout, f"{BASELINE_COMMIT[:7]}:engine/pdf.py", "exec"), module.__dict__)
    return module
