"""Nesting on the slab yard: defect zones are never covered (checked geometrically on every layout), remnants are
used first."""

from __future__ import annotations

import json
import random

import msgspec
import pytest
from shapely.geometry import Polygon, box

from engine.cad import nest_job, run_cad
from engine.model import EngineError, Slabs
from engine.nest import NestError, Part, StockSlab, nest
from engine.spec import JobSpec, decode_job
from tests.conftest import example_bytes
from tests.unit.test_nest import check, outline_on_slab, random_parts, rect_parts

EPS = 1e-6


def run(parts: list[Part], sheets: list[StockSlab], *, kerf: float = 4, margin: float = 10, guillotine: bool = True,
        prefer_remnants: bool = True, seed: int = 0, time_limit_s: float = 1.0) -> Slabs:
    slabs = nest(parts, sheets, kerf=kerf, margin=margin, guillotine=guillotine, prefer_remnants=prefer_remnants,
                 time_limit_s=time_limit_s, seed=seed)
    check(slabs, parts, kerf=kerf, margin=margin, guillotine=guillotine)
    check_zones(slabs, parts, sheets, kerf=kerf, guillotine=guillotine)
    return slabs


def check_zones(slabs: Slabs, parts: list[Part], sheets: list[StockSlab], *, kerf: float, guillotine: bool) -> None:
    """No part comes within a kerf of a defect zone of its slab (its true outline; on the saw, its blank); no
    remnant covers a zone."""
    by_key = {(p.piece, p.copy): p for p in parts}
    by_id = {s.id: s for s in sheets}
    for lay in slabs.layouts:
        zones = [Polygon(z) for z in by_id[lay.slab_id].defects]
        for pl in lay.placements:
            shape = outline_on_slab(by_key[(pl.piece, pl.copy)], pl)
            for zone in zones:
                assert shape.distance(zone) >= kerf - EPS, (lay.slab_id, pl, zone.bounds)
                if guillotine:  # the saw cuts the blank: the whole bounding box stays clear
                    assert box(*shape.bounds).distance(zone) >= kerf - EPS, (lay.slab_id, pl, zone.bounds)
        for r in lay.remnants:
            rem = box(r.x_mm, r.y_mm, r.x_mm + r.length_mm, r.y_mm + r.width_mm)
            assert all(rem.intersection(zone).area < EPS for zone in zones), (lay.slab_id, r)


def random_zones(rng: random.Random, length: float, width: float, n: int) -> list[list[tuple[float, float]]]:
    zones: list[list[tuple[float, float]]] = []
    for _ in range(n):
        x, y = rng.uniform(0, length - 50), rng.uniform(0, width - 50)
        if rng.random() < 0.5:
            w, h = rng.uniform(5, 300), rng.uniform(5, 300)
            zones.append([(x, y), (x + w, y), (x + w, y + h), (x, y + h)])
        else:  # a crack: a thin slanted quadrilateral
            dx, dy = rng.uniform(50, 600), rng.uniform(-300, 300)
            zones.append([(x, y), (x + dx, y + dy), (x + dx + 8, y + dy + 8), (x + 8, y + 8)])
    return zones


@pytest.mark.parametrize("guillotine", [True, False])
@pytest.mark.parametrize("seed", range(6))
def test_no_part_ever_covers_a_defect_zone(guillotine: bool, seed: int) -> None:
    rng = random.Random(seed)
    # Two remnants and a full slab, each with zones (the full one in unlimited supply, so there is always a layout).
    sheets = [StockSlab(id=f"Y{k}", length=3050, width=1440, qty=None if k == 2 else 1,
                        kind="full" if k == 2 else "remnant", defects=random_zones(rng, 3050, 1440, rng.randrange(1, 4)))
              for k in range(3)]
    parts = [p for p in random_parts(10, seed) if p.length < 1400]  # short enough to go between zones
    slabs = run(parts, sheets, guillotine=guillotine, seed=seed)
    assert slabs.used >= 1


@pytest.mark.parametrize("seed", range(3))
def test_shaped_parts_nested_by_outline_keep_clear_of_zones(seed: int) -> None:
    rng = random.Random(100 + seed)
    ell = [(0.0, 0.0), (1800.0, 0.0), (1800.0, 600.0), (600.0, 600.0), (600.0, 1200.0), (0.0, 1200.0)]
    parts = [Part(f"L{i}#1", f"L{i}", 1, 1800, 1200, True, outline=ell) for i in range(3)]
    sheets = [StockSlab(id=f"Y{k}", length=3050, width=1440, qty=1, kind="full",
                        defects=random_zones(rng, 3050, 1440, 2)) for k in range(4)]
    run(parts, sheets, guillotine=False, seed=seed)


def test_a_zone_across_the_middle_splits_the_slab() -> None:
    # A crack across the whole width at x 1500..1510: a 2000 mm part cannot go on this slab at all.
    crack = [(1500.0, 0.0), (1510.0, 0.0), (1510.0, 1440.0), (1500.0, 1440.0)]
    cracked = StockSlab(id="C", length=3050, width=1440, qty=1, kind="remnant", defects=[crack])
    whole = StockSlab(id="W", length=3050, width=1440, qty=1, kind="full")
    for guillotine in (True, False):
        parts = rect_parts([(2000, 700), (1400, 700), (1400, 700), (1400, 700)])  # too much for one slab
        slabs = run(parts, [cracked, whole], guillotine=guillotine)
        where = {pl.piece: lay.slab_id for lay in slabs.layouts for pl in lay.placements}
        assert where["P0"] == "W" and "C" in where.values()  # a short one goes on a side of the crack
    with pytest.raises(NestError, match="defect zones"):
        nest(rect_parts([(2000, 600)]), [cracked], kerf=4, margin=10, guillotine=True, prefer_remnants=True,
             time_limit_s=1, seed=0)


def test_remnants_are_used_before_full_slabs() -> None:
    full = StockSlab(id="FULL", length=3050, width=1440, qty=1, kind="full")
    small = StockSlab(id="REM", length=1300, width=800, qty=1, kind="remnant")
    for guillotine in (True, False):
        one = run(rect_parts([(1200, 600)]), [full, small], guillotine=guillotine)
        assert [lay.slab_id for lay in one.layouts] == ["REM"]
        # Too big for the remnant: the full slab, and the remnant still takes what fits on it.
        two = run(rect_parts([(2500, 600), (1200, 600)]), [full, small], guillotine=guillotine)
        where = {pl.piece: lay.slab_id for lay in two.layouts for pl in two.layouts[0].placements}
        assert {lay.slab_id for lay in two.layouts} <= {"FULL", "REM"} and where
    # Without the preference, the remnant is just a smaller slab: still chosen here (it is cheaper by area), but
    # with it the order of the stock puts it first whatever its size.
    big_rem = StockSlab(id="BIGREM", length=3050, width=1440, qty=1, kind="remnant")
    assert [lay.slab_id for lay in run(rect_parts([(1200, 600)]), [full, big_rem]).layouts] == ["BIGREM"]


def inventory_job(units: str = "mm") -> JobSpec:
    raw = json.loads(example_bytes("l-kitchen.json"))
    k = 25.4 if units == "in" else 1.0
    raw["units"] = units
    raw["material"]["thickness"] /= k
    for piece in raw["pieces"]:
        shape = piece["shape"]
        piece["shape"] = {**{k2: (v / k if isinstance(v, (int, float)) else v) for k2, v in shape.items()},
                          **({"vertices": [[v[0] / k, v[1] / k, *v[2:]] for v in shape["vertices"]]}
                             if "vertices" in shape else {})}
        piece["cutouts"] = []
        piece.pop("edges", None)
    raw["joins"] = []
    raw["options"] = {**raw.get("options", {}), "kerf": 4 / k, "slab_margin": 10 / k}
    raw["slab_stock"] = [{"id": "S-1", "length": 3050 / k, "width": 1440 / k, "qty": 1,
                          "defects": [{"type": "rect", "x": 0, "y": 650 / k, "length": 3050 / k, "width": 20 / k}]},
                         {"id": "S-2", "length": 3050 / k, "width": 1440 / k, "qty": 1, "defects": [
                             {"type": "polygon", "vertices": [[1000 / k, 0], [1100 / k, 0], [1100 / k, 1440 / k]]}]}]
    return decode_job(json.dumps(raw).encode())


@pytest.mark.parametrize("units", ["mm", "in"])
def test_the_job_spec_carries_zones_in_its_units(units: str) -> None:
    job = inventory_job(units)
    from engine.spec import to_mm

    slabs = nest_job(to_mm(job))
    assert slabs.used == 1 and slabs.layouts[0].slab_id == "S-1"  # both pieces, one each side of the band
    ys = sorted(pl.y_mm for pl in slabs.layouts[0].placements)
    assert ys[0] < 650 and ys[1] >= 670 + 4 - 0.01


def test_an_unresolved_inventory_job_is_an_engine_error() -> None:
    job = msgspec.structs.replace(inventory_job(), slab_stock="inventory")
    assert job.from_inventory
    with pytest.raises(EngineError, match="inventory"):
        run_cad(job)


def test_defect_zones_are_drawn_on_the_slab() -> None:
    import io
    import xml.etree.ElementTree as ET

    import ezdxf

    from engine.dxf import slab_dxf
    from engine.svg import slab_svg
    from engine.spec import to_mm

    job = inventory_job()
    layout = nest_job(to_mm(job)).layouts[0]
    doc = ezdxf.read(io.StringIO(slab_dxf(job, layout).decode()))
    zones = doc.modelspace().query('LWPOLYLINE[layer=="DEFECTS"]')
    assert [len(z) for z in zones] == [4] and not doc.audit().has_errors
    assert sorted(p[:2] for p in zones[0].get_points()) == sorted([(0, 650), (3050, 650), (3050, 670), (0, 670)])
    svg = ET.fromstring(slab_svg(job, layout))
    assert any(el.get("fill") == "#e53935" for el in svg.iter())
