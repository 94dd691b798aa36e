from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from engine.spec import decode_job
from engine.summary import SQFT_PER_M2, summarize

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXPECTED = json.loads((EXAMPLES / "expected.json").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_examples_match_expected_figures(name):
    exp = EXPECTED[name]
    s = summarize(decode_job((EXAMPLES / name).read_bytes()), None)
    assert s.area_gross_m2 == pytest.approx(exp["area_gross_m2"], abs=0.001)
    assert s.area_net_m2 == pytest.approx(exp["area_net_m2"], abs=0.001)
    assert s.finished_edge_m == pytest.approx(exp["finished_edge_m"], abs=0.001)
    assert s.weight_kg == pytest.approx(exp["weight_kg"], abs=0.1)
    assert s.cutouts.total == exp["cutouts_total"]
    assert s.cutouts.by_type == exp["cutouts_by_type"]
    assert [(f.code, f.path) for f in s.errors] == [(e["code"], e["path"]) for e in exp["errors"]]
    assert [(f.code, f.path) for f in s.warnings] == [(w["code"], w["path"]) for w in exp["warnings"]]
    assert s.area_gross_sqft == pytest.approx(s.area_gross_m2 * SQFT_PER_M2, abs=0.01)


def test_island_figures_per_piece():
    s = summarize(decode_job((EXAMPLES / "island.json").read_bytes()), None)
    [p] = s.pieces
    assert (p.id, p.length_mm, p.depth_mm, p.qty) == ("ISL", 2600, 1200, 1)
    assert p.finished_edge_by_profile_m == {"eased": pytest.approx(7.6 - 4 * 0.05 + math.pi * 0.05, abs=1e-3)}


def job(shape: dict, units: str = "mm", qty: int = 1, edges=None, cutouts=(), thickness: float = 20) -> dict:
    return {
        "spec_version": "1.0", "job": {"id": "T", "name": "t"}, "units": units,
        "material": {"name": "G", "type": "granite", "thickness": thickness, "density_kg_m3": 2500},
        "slab_stock": [{"id": "S", "length": 3200, "width": 1600}],
        "pieces": [{"id": "P", "shape": shape, "qty": qty, "edges": edges, "cutouts": list(cutouts)}],
    }


def test_semicircle_end_by_bulge():
    # 1000 x 400 with a half-round right end (bulge 1): finished front, round end and back; the left is a wall
    shape = {"type": "polygon", "vertices": [[0, 0], [1000, 0, 1], [1000, 400], [0, 400]]}
    edges = [{"kind": "finished", "profile": "pencil"}, {"kind": "finished", "profile": "full_bullnose"},
             {"kind": "finished", "profile": "pencil"}, {"kind": "wall"}]
    s = summarize(decode_job(job(shape, edges=edges)), None)
    area = 0.4 + math.pi * 0.2**2 / 2  # 0.462832 m²
    assert s.area_gross_m2 == pytest.approx(area, abs=1e-4)
    assert s.finished_edge_m == pytest.approx(2 + math.pi * 0.2, abs=1e-3)
    assert s.finished_edge_by_profile_m == {"pencil": 2.0, "full_bullnose": pytest.approx(0.628, abs=1e-3)}
    assert s.pieces[0].length_mm == pytest.approx(1200)
    assert s.weight_kg == pytest.approx(area * 0.02 * 2500, abs=0.1)


def test_inches_job_reports_metric_and_imperial():
    # 100 in x 25.5 in = 2550 in² = 17.7083 ft² = 1.645158 m²; finished front: 100 in = 2.54 m = 8.333 ft
    s = summarize(decode_job(job({"type": "rect", "length": 100, "depth": 25.5}, units="in", thickness=1.25,
                                 edges={"front": {"kind": "finished"}})), None)
    assert s.units == "in"
    assert s.area_gross_m2 == pytest.approx(1.6452, abs=1e-4)
    assert s.area_gross_sqft == pytest.approx(2550 / 144, abs=1e-3)
    assert s.finished_edge_m == pytest.approx(2.54)
    assert s.finished_edge_ft == pytest.approx(100 / 12, abs=1e-3)
    assert s.finished_edge_by_profile_m == {"unspecified": 2.54}
    assert s.weight_kg == pytest.approx(1.645158 * 0.03175 * 2500, abs=0.1)
    # every figure has its twin in the job's units, per piece too (the PDF of an inches job prints these)
    assert s.finished_edge_by_profile_ft == {"unspecified": pytest.approx(100 / 12, abs=1e-3)}
    assert s.weight_lb == pytest.approx(1.645158 * 0.03175 * 2500 / 0.45359237, abs=0.1)
    [p] = s.pieces
    assert (p.area_gross_sqft, p.area_net_sqft) == (pytest.approx(2550 / 144, abs=1e-3),) * 2
    assert p.finished_edge_ft == pytest.approx(100 / 12, abs=1e-3)
    assert p.finished_edge_by_profile_ft == {"unspecified": pytest.approx(100 / 12, abs=1e-3)}


def test_qty_multiplies_totals_not_per_piece_figures():
    hole = {"id": "F", "type": "faucet_hole", "shape": "circle", "center": [500, 500], "diameter": 100}
    s = summarize(decode_job(job({"type": "rect", "length": 1000, "depth": 600}, qty=3, cutouts=[hole],
                                 edges={"front": {"kind": "finished", "profile": "eased"}})), None)
    net_one = 0.6 - math.pi * 0.05**2
    assert s.pieces[0].area_net_m2 == pytest.approx(net_one, abs=1e-4)
    assert s.pieces[0].cutouts.total == 1
    assert s.area_gross_m2 == pytest.approx(1.8)
    assert s.area_net_m2 == pytest.approx(3 * net_one, abs=1e-4)
    assert s.finished_edge_m == pytest.approx(3.0)
    assert s.cutouts.by_type == {"faucet_hole": 3}
