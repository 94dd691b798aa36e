"""The nesting benchmark harness runs end to end on its tiny set, and its table adds up the bins it measured."""

from __future__ import annotations

import pytest

pytest.importorskip("rectpack")

from bench.nest.harness import METHODS, run, table  # noqa: E402
from bench.nest.instances import generate, load, lower_bound  # noqa: E402


def test_quick_set_gives_a_sane_table() -> None:
    # The generated source: no optional data package needed, and the same instances on every machine.
    source, instances = load("generated", classes=(1, 7, 9), sizes=(20,), per_group=1)
    assert source == "generated" and len(instances) == 3
    results = run(instances, (False, True), time_limit_s=0.1, workers=1)
    assert len(results) == 6
    for r in results:
        assert r.lower_bound >= 1
        for m in METHODS:
            assert r.lower_bound <= r.bins[m] <= r.n, (r.name, m)
        assert set(r.seconds) == {"ours_guillotine", "ours_free", "rectpack_guillotine", "rectpack_all"}
    by_rotation = {rot: [r for r in results if r.rotation == rot] for rot in (False, True)}
    # With rotation allowed the bound can only be weaker, never above the fixed-orientation one.
    for fixed, turned in zip(by_rotation[False], by_rotation[True], strict=True):
        assert fixed.name == turned.name and turned.lower_bound <= fixed.lower_bound
    md = table(results, source)
    assert md.count("\n| O | ") == 4 and md.count("\n| R | ") == 4  # three classes and a total each
    for rot, letter in ((False, "O"), (True, "R")):
        rs = by_rotation[rot]
        total = next(line for line in md.splitlines() if line.startswith(f"| {letter} | **all** |"))
        cells = [c.strip() for c in total.strip("|").split("|")]
        # rot, class, inst, LB, then the five methods' bin sums, in METHODS order.
        assert cells[2] == str(len(rs)) and cells[3] == str(sum(r.lower_bound for r in rs))
        assert cells[4:9] == [str(sum(r.bins[m] for r in rs)) for m in METHODS], total


def test_generator_is_deterministic_and_follows_the_class_rules() -> None:
    a, b = generate(3, 40, 2), generate(3, 40, 2)
    assert a == b and a.bin_w == a.bin_h == 40 and len(a.items) == 40
    assert all(1 <= w <= 35 and 1 <= h <= 35 for w, h in a.items)
    wide = generate(7, 100, 1)
    assert sum(1 for w, h in wide.items if w >= 67 and h <= 50) >= 50  # type 1 drawn 70 % of the time


def test_bounds_hold_on_a_known_case() -> None:
    inst = generate(9, 20, 1)
    big = sum(1 for w, h in inst.items if 2 * w > 100 and 2 * h > 100)
    assert lower_bound(inst) >= big  # items over half the bin on both sides never share one
    assert lower_bound(inst, rotation=True) <= lower_bound(inst)
