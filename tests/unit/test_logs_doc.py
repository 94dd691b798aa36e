"""docs/LOGS.md lists exactly the events the code emits."""

from __future__ import annotations

import re

from tests.conftest import ROOT

EMIT = re.compile(r"log\.(?:debug|info|warning|error|exception)\(\s*\"([a-z_]+)\"")


def test_every_emitted_event_is_documented_and_every_documented_event_is_emitted() -> None:
    emitted = set()
    for folder in ("api", "pipeline", "ops", "engine"):
        for path in (ROOT / folder).rglob("*.py"):
            emitted |= set(EMIT.findall(path.read_text()))
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", (ROOT / "docs" / "LOGS.md").read_text(), re.M))
    assert emitted, "found no log calls: the pattern is wrong"
    assert emitted - documented == set(), "emitted but not in docs/LOGS.md"
    assert documented - emitted == set(), "in docs/LOGS.md but no longer emitted"
