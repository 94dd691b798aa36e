"""A stage that does nothing, for STAGE_FUNCTION: measures the queue and the worker, not the engine."""

from __future__ import annotations

import time
from collections.abc import Sequence

from pipeline.stages import StageOutput

EMPTY = StageOutput(summary={})


def noop_stage(stage: str, spec_json: bytes, summary_json: bytes | None,
               files: Sequence[tuple[str, str, bytes]], catalogue_json: bytes | None = None) -> StageOutput:
    return EMPTY


def stamp_stage(stage: str, spec_json: bytes, summary_json: bytes | None,
                files: Sequence[tuple[str, str, bytes]], catalogue_json: bytes | None = None) -> StageOutput:
    """No-op that records when it started (wall clock, comparable across processes on one machine)."""
    return StageOutput(summary={"stage_started_at": time.time()})
