"""Which stage follows, read from the spec's JSON as the claim returns it (jsonb's text form)."""

from __future__ import annotations

import json

import pytest

from pipeline.stages import next_stage
from tests.conftest import EXAMPLES


@pytest.mark.parametrize(("spec", "stage", "expected"), [
    ({}, "cad", "pdf"),  # no outputs given: JobSpec's default asks for a PDF
    ({"options": {"outputs": {"dxf": False}}}, "cad", "pdf"),
    ({"options": {"outputs": {"pdf": {"page": "A4"}}}}, "cad", "pdf"),
    ({"options": {"outputs": {"pdf": None}}}, "cad", None),
    ({}, "pdf", None),
])
def test_next_stage(spec: dict[str, object], stage: str, expected: str | None) -> None:
    assert next_stage(stage, json.dumps(spec)) == expected
    assert next_stage(stage, json.dumps(spec).encode()) == expected


def test_next_stage_reads_a_whole_example() -> None:
    raw = json.loads((EXAMPLES / "island.json").read_text())
    assert next_stage("cad", json.dumps(raw)) == "pdf"
    raw.setdefault("options", {}).setdefault("outputs", {})["pdf"] = None
    assert next_stage("cad", json.dumps(raw, indent=2)) is None
