from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from engine.checks import check
from engine.spec import decode_job

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXPECTED = json.loads((EXAMPLES / "expected.json").read_text())


def job_from(name: str):
    return decode_job((EXAMPLES / name).read_bytes())


def raw(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


def codes(findings, severity):
    return [{"code": f.code, "path": f.path} for f in findings if f.severity == severity]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_examples_produce_exactly_the_expected_findings(name):
    findings = check(job_from(name))
    assert codes(findings, "error") == EXPECTED[name]["errors"]
    assert codes(findings, "warning") == EXPECTED[name]["warnings"]


def test_bad_cutout_messages_speak_shop_language():
    by_code = {f.code: f.message for f in check(job_from("bad-cutout.json"))}
    assert by_code["CUTOUT_OUTSIDE_PIECE"] == "Sink S1 reaches 350 mm past the right edge of V1."
    assert "2.5 mm from the back edge of V1" in by_code["CUTOUT_TOO_CLOSE_TO_EDGE"]
    island = check(job_from("island.json"))[0]
    assert "300 mm at the back edge" in island.message and "254 mm" in island.message


def kitchen(**piece_changes) -> dict:
    body = raw("bad-cutout.json")
    body["pieces"][0]["cutouts"] = []
    body["pieces"][0].update(piece_changes)
    return body


def found(body: dict) -> list[tuple[str, str, str]]:
    return [(f.code, f.path, f.severity) for f in check(msgspec.convert(body, type=type(job_from("l-kitchen.json"))))]


def test_inches_job_messages_in_inches_and_rules_converted():
    body = kitchen(cutouts=[{"id": "F", "type": "faucet_hole", "shape": "circle", "center": [10, 21], "diameter": 1.5}])
    body["units"] = "in"
    body["material"]["thickness"] = 1.25
    body["slab_stock"] = [{"id": "S", "length": 120, "width": 65}]
    body["pieces"][0]["shape"] = {"type": "rect", "length": 36, "depth": 22}
    findings = check(decode_job(body))
    assert [(f.code, f.path) for f in findings] == [("CUTOUT_TOO_CLOSE_TO_EDGE", "pieces[0].cutouts[0]")]
    assert '0.25" from the back edge' in findings[0].message and '0.98"' in findings[0].message


def test_overlap_web_and_seam_rules():
    sink = {"id": "S", "type": "undermount_sink", "shape": "rect", "center": [450, 275], "length": 400, "width": 300}
    hole = {"id": "F", "type": "faucet_hole", "shape": "circle", "center": [450, 445], "diameter": 35}
    body = kitchen(cutouts=[sink, hole])  # sink edge at y 425, hole edge at 427.5: a 2.5 mm web
    assert ("WEB_TOO_NARROW", "pieces[0].cutouts[1]", "warning") in found(body)
    body = kitchen(cutouts=[sink, dict(hole, center=[450, 420])])
    assert ("CUTOUTS_OVERLAP", "pieces[0].cutouts[1]", "error") in found(body)
    body = kitchen(cutouts=[sink])
    body["pieces"][0]["edges"]["left"] = {"kind": "seam"}
    body["pieces"][0]["cutouts"][0]["center"] = [260, 275]  # 60 mm from the left seam
    assert found(body) == [("CUTOUT_TOO_CLOSE_TO_SEAM", "pieces[0].cutouts[0]", "warning")]


def test_structural_errors():
    body = kitchen(corners=[{"at": 9, "type": "radius", "size": 10}])
    assert found(body) == [("UNKNOWN_REFERENCE", "pieces[0]", "error")]
    body = kitchen(cutouts=[{"id": "F", "type": "faucet_hole", "shape": "circle", "center": [100, 100]}])
    assert found(body) == [("UNKNOWN_REFERENCE", "pieces[0].cutouts[0]", "error")]
    body = kitchen(shape={"type": "polygon", "vertices": [[0, 0], [500, 500], [500, 0], [0, 500]]}, edges=None)
    assert found(body) == [("POLYGON_SELF_INTERSECTS", "pieces[0]", "error")]
    body = kitchen(shape={"type": "polygon", "vertices": [[0, 0], [500, 0], [1000, 0]]}, edges=None)
    assert found(body) == [("DEGENERATE_PIECE", "pieces[0]", "error")]
    body = kitchen()
    body["pieces"].append(dict(body["pieces"][0]))
    body["joins"] = [{"a": "V1.front[0:100]", "b": "NOPE.left"}, {"a": "V1.edge7", "b": "V1.left[0:9999]"}]
    assert found(body) == [("UNKNOWN_REFERENCE", "pieces[1]", "error")] + [("UNKNOWN_REFERENCE", f"joins[{i}]", "error")
                                                                           for i in (0, 1, 1)]


def test_piece_larger_than_slabs_names_slab_and_suggests_seam():
    body = kitchen(shape={"type": "rect", "length": 4200, "depth": 620}, edges=None)
    [f] = check(decode_job(body))
    assert (f.code, f.path, f.severity) == ("PIECE_LARGER_THAN_SLABS", "pieces[0]", "error")
    assert "G-STD (2800 x 1650 mm)" in f.message and "split at 2780 mm from the left" in f.message


def test_inside_corner_needs_radius():
    l_shape = {"type": "polygon", "vertices": [[0, 0], [2000, 0], [2000, 600], [600, 600], [600, 1800], [0, 1800]]}
    body = kitchen(shape=l_shape, edges=None)
    body["slab_stock"][0].update(length=3200, width=2000)
    assert found(body) == [("INSIDE_CORNER_TOO_SHARP", "pieces[0]", "warning")]
    body = kitchen(shape=l_shape, edges=None, corners=[{"at": 3, "type": "radius", "size": 6}])
    body["slab_stock"][0].update(length=3200, width=2000)
    assert found(body) == []


def test_overhang_uses_thickness_limit_and_rule_override():
    body = raw("island.json")
    body["material"]["thickness"] = 20  # 152 mm limit
    assert [f.code for f in check(decode_job(body))] == ["OVERHANG_NEEDS_SUPPORT"]
    body["options"]["rules"] = {"max_unsupported_overhang": 310}
    assert check(decode_job(body)) == []


def test_check_finds_every_narrow_web_on_a_large_job():
    # 200 pieces x 50 holes: the API runs this on every submission (its speed is in bench/http, not timed here).
    body = raw("l-kitchen.json")
    piece = body["pieces"][1]
    holes = [{"id": f"H{i}", "type": "faucet_hole", "shape": "circle", "center": [100 + 28 * i, 300], "diameter": 20}
             for i in range(50)]
    body["pieces"] = [dict(piece, id=f"P{i}", cutouts=holes) for i in range(200)]
    body["joins"] = []
    findings = check(decode_job(body))
    assert sum(f.code == "WEB_TOO_NARROW" for f in findings) == 200 * 49


@pytest.mark.parametrize("footprint", [[[0, 0], [1000, 0], [2000, 0]], [[5, 5], [5, 5], [5, 5]]])
def test_a_cabinet_footprint_without_area_is_an_error_not_a_crash(footprint):
    # It used to reach a NaN distance and raise ValueError inside check(): a 500 from the API.
    body = raw("island.json")
    body["pieces"][0]["support"]["cabinet_footprint"] = footprint
    findings = check(decode_job(body))
    assert codes(findings, "error") == [{"code": "INVALID_FOOTPRINT", "path": "pieces[0].support.cabinet_footprint"}]


@pytest.mark.parametrize("size", [1e-9, 4.78e-9, 1e-6])
def test_a_piece_too_small_to_have_an_area_is_a_finding_not_a_crash(size: float) -> None:
    # Found by the API fuzzer: a 4.78e-9 mm side collapsed the outline and shapely raised ValueError (a 500).
    from engine.checks import check
    from engine.spec import decode_job

    raw = {"spec_version": "1.0", "job": {"id": "T", "name": "tiny"},
           "material": {"name": "Granite", "type": "granite", "thickness": 20},
           "slab_stock": [{"id": "S", "length": 3000, "width": 1500}],
           "pieces": [{"id": "P", "shape": {"type": "polygon", "vertices": [[0, 0], [size, 0], [size, 0.33]]}}]}
    findings = check(decode_job(raw))
    assert [(f.path, f.severity) for f in findings if f.severity == "error"][:1] == [("pieces[0]", "error")]


@pytest.mark.parametrize("max_pairs", [None, 0])  # 0: too many pairs for numpy, GEOS measures every sample
def test_overhang_farthest_sample_is_what_geos_finds_point_by_point(monkeypatch, max_pairs):
    """The answer is GEOS's maximum distance, and a sample at it, to within OVERHANG_TOLERANCE_MM, tie or not."""
    import numpy as np
    import shapely

    from engine.checks import overhang

    if max_pairs is not None:
        monkeypatch.setattr(overhang, "MAX_OVERHANG_PAIRS", max_pairs)
    tol = overhang.OVERHANG_TOLERANCE_MM
    rng = np.random.default_rng(7)
    footprints = [shapely.box(50, 30, 2550, 900), shapely.box(0, 0, 2600, 900),  # ties along a parallel edge
                  shapely.Polygon([(0, 0), (1000, 0), (1000, 400), (400, 400), (400, 900), (0, 900)]),  # an L
                  shapely.box(0, 0, 1000, 1000).difference(shapely.box(300, 300, 600, 600)),  # a hole
                  shapely.Polygon([(0, 0), (900, 900), (900, 0), (0, 900)]).buffer(0),  # a bow tie: two parts
                  shapely.Point(500, 400).buffer(450),  # arcs: many short segments
                  shapely.Polygon([(0, 0), (800, 0), (800, 0), (800, 700), (0, 700)])]  # a repeated vertex
    piece = shapely.segmentize(shapely.box(0, 0, 2600, 1200).exterior, 10.0)
    inside = np.array([[300.0, 300.0], [10.0, 10.0], [450.0, 200.0]])  # deep inside some footprints: distance 0
    checked = 0
    for foot in footprints:
        for coords in (np.asarray(piece.coords), rng.uniform(-200, 2800, (300, 2)).round(rng.integers(0, 3)), inside):
            dists = shapely.distance(shapely.points(coords), foot)
            top = float(dists.max())
            for limit in (0.0, top - 1e-3, top - 1e-9, top, top + 1.0):
                found = overhang.farthest_sample(coords, foot, limit)
                if top <= limit - tol:
                    assert found is None, (foot.wkt[:40], limit)
                elif top > limit + tol:
                    assert found is not None, (foot.wkt[:40], limit)
                    index, distance = found
                    assert abs(distance - top) <= tol and dists[index] >= top - tol, (foot.wkt[:40], limit)
                    checked += 1
    assert checked > 20

def test_under_a_convex_footprint_the_outline_vertices_find_the_same_overhang_as_every_sample() -> None:
    """_overhang_samples keeps only the vertices when the footprint is convex; the farthest distance must not move."""
    import numpy as np
    import shapely

    from engine.checks import overhang

    rng = np.random.default_rng(11)
    compared = 0
    for _ in range(300):
        w, d = rng.uniform(300, 4000), rng.uniform(300, 1500)
        piece = [shapely.box(0, 0, w, d), shapely.box(0, 0, w, 200).union(shapely.box(0, 0, 300, d)),  # an L
                 shapely.MultiPoint(rng.uniform(0, 3000, (7, 2))).convex_hull.buffer(30)][rng.integers(0, 3)]
        pts = rng.uniform(-300, 3300, (rng.integers(3, 9), 2))
        foot = shapely.Polygon(pts).convex_hull  # convex, at any angle
        if foot.geom_type != "Polygon" or foot.area < 1:
            continue
        boundary = shapely.Polygon(piece.exterior).exterior
        fast = overhang.overhang_samples(boundary, foot)
        every = np.asarray(shapely.segmentize(boundary, overhang.OVERHANG_SAMPLE_MM).coords)
        assert len(fast) < len(every)
        for limit in (0.0, 100.0, 250.0):
            a, b = overhang.farthest_sample(fast, foot, limit), overhang.farthest_sample(every, foot, limit)
            assert (a is None) == (b is None)
            if a is not None:
                assert abs(a[1] - b[1]) <= overhang.OVERHANG_TOLERANCE_MM, (a, b)
                compared += 1
    assert compared > 300
    # Not convex (an L of cabinets): every sample is measured.
    ell = shapely.Polygon([(0, 0), (1000, 0), (1000, 400), (400, 400), (400, 900), (0, 900)])
    boundary = shapely.box(0, 0, 1200, 1000).exterior
    assert len(overhang.overhang_samples(boundary, ell)) == len(shapely.segmentize(boundary, overhang.OVERHANG_SAMPLE_MM).coords)
