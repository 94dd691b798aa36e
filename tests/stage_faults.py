"""Stages that misbehave on purpose, run by real workers in real child processes (not mocks of the queue).

The job's name says what to do: "cad:fail:2" fails the CAD stage twice then succeeds, "pdf:fail:always",
"cad:sleep:5", "cad:crash",
"cad:alloc:512" (allocates 512 MB); a name without a stage prefix ("ok") does nothing special.
Attempts are counted in files under STUDIO_TEST_FAULT_DIR, since every attempt may run in another process.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

import msgspec

from pipeline.stages import StageOutput


def faulty_stage(stage: str, spec_json: bytes, summary_json: bytes | None,
                 files: Sequence[tuple[str, str, bytes]], catalogue_json: bytes | None = None) -> StageOutput:
    spec = msgspec.json.decode(spec_json)
    target_stage, _, action = spec["job"]["name"].partition(":")
    if target_stage != stage:
        action = "ok"
    counter = Path(os.environ["STUDIO_TEST_FAULT_DIR"]) / f"{spec['job']['id']}-{stage}"
    with counter.open("a") as f:  # one line per execution: tests count stage executions, not states
        f.write(f"{os.getpid()}\n")
    runs = len(counter.read_text().splitlines())
    if action.startswith("fail:"):
        limit = action.split(":", 1)[1]
        if limit == "always" or runs <= int(limit):
            raise RuntimeError(f"injected failure {runs} in {stage}")
    if action.startswith("sleep:"):
        time.sleep(float(action.split(":", 1)[1]))
    if action.startswith("alloc:"):  # past STAGE_MEMORY_MB: MemoryError under the child's RLIMIT_AS
        held = bytearray(int(action.split(":", 1)[1]) * 1024 * 1024)
        del held
    if action == "crash":
        os._exit(9)
    if stage == "pdf":  # what the PDF stage was handed, for tests of the CAD -> PDF hand-off
        (counter.parent / f"{spec['job']['id']}-pdf-files").write_bytes(msgspec.json.encode(list(files)))
    return StageOutput(summary={"job_id": spec["job"]["id"]} if stage == "cad" else None,
                       artifacts=[(f"{stage}.txt", "text/plain", f"{stage} of {spec['job']['id']}".encode())])
