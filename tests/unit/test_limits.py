"""Work caps per job: each one a 422 naming the field, and long finding lists summarised."""

from __future__ import annotations

import json

import msgspec

from engine.limits import (MAX_COPIES, MAX_FINDINGS_LISTED, MAX_TOTAL_CUTOUTS, MAX_TOTAL_VERTICES, limit_findings,
                           listed_errors, listed_warnings)
from engine.model import Finding
from engine.spec import decode_job
from tests.conftest import EXAMPLES


def job_with(pieces: list[dict]) -> object:  # type: ignore[type-arg]
    raw = json.loads((EXAMPLES / "l-kitchen.json").read_text())
    raw["pieces"], raw["joins"] = pieces, []
    return decode_job(msgspec.json.encode(raw))


def rect(i: int, qty: int = 1, cutouts: int = 0) -> dict:  # type: ignore[type-arg]
    holes = [{"id": f"H{k}", "type": "faucet_hole", "shape": "circle", "diameter": 35,
              "center": [100 + 60 * k, 300]} for k in range(cutouts)]
    return {"id": f"P{i}", "type": "countertop", "qty": qty, "shape": {"type": "rect", "length": 2400, "depth": 620},
            "cutouts": holes}


def polygon(i: int, n: int, qty: int = 1) -> dict:  # type: ignore[type-arg]
    import math
    vertices = [[300 + 250 * math.cos(2 * math.pi * k / n), 300 + 250 * math.sin(2 * math.pi * k / n)]
                for k in range(n)]
    return {"id": f"Q{i}", "type": "vanity", "qty": qty, "shape": {"type": "polygon", "vertices": vertices}}


def test_the_examples_are_far_inside_the_caps() -> None:
    for name in ("l-kitchen.json", "island.json", "waterjet-vanities.json"):
        assert limit_findings(decode_job((EXAMPLES / name).read_bytes())) == [], name


def test_each_cap_names_the_field_that_makes_the_job_big() -> None:
    at_cap = job_with([rect(0, qty=MAX_COPIES // 2), rect(1, qty=MAX_COPIES // 2)])
    assert limit_findings(at_cap) == []  # exactly at the cap is allowed
    (copies,) = limit_findings(job_with([rect(0, qty=10), rect(1, qty=MAX_COPIES)]))
    assert (copies.code, copies.path) == ("TOO_MANY_COPIES", "pieces[1].qty")
    n = 500
    pieces = [polygon(i, n, qty=1) for i in range(MAX_TOTAL_VERTICES // n)]
    assert limit_findings(job_with(pieces)) == []
    (vertices,) = limit_findings(job_with([*pieces, polygon(99, n, qty=2)]))
    assert (vertices.code, vertices.path) == ("TOO_MANY_VERTICES", f"pieces[{len(pieces)}].shape")
    (cutouts,) = limit_findings(job_with([rect(0, qty=MAX_TOTAL_CUTOUTS // 10 + 1, cutouts=10)]))
    assert (cutouts.code, cutouts.path) == ("TOO_MANY_CUTOUTS", "pieces[0].cutouts")
    assert str(MAX_TOTAL_CUTOUTS) in cutouts.message


def test_long_lists_of_findings_are_summarised_with_a_count() -> None:
    warnings = [Finding(code="W", path=f"pieces[{i}]", message="m", severity="warning") for i in range(80)]
    listed = listed_warnings(warnings)
    assert len(listed) == MAX_FINDINGS_LISTED + 1 and listed[:-1] == warnings[:MAX_FINDINGS_LISTED]
    assert listed[-1].code == "MORE_WARNINGS" and "30 more warnings" in listed[-1].message
    assert listed_warnings(warnings[:3]) == warnings[:3]
    errors = [Finding(code="E", path="$", message="m") for _ in range(51)]
    assert listed_errors(errors)[-1].code == "MORE_ERRORS" and "1 more error " in listed_errors(errors)[-1].message
