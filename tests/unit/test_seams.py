"""Seams placed by the rules (`options.auto_seams`): the planner, the split, and what the summary, DXF and PDF say."""

from __future__ import annotations

import datetime as dt
import io

import ezdxf
import msgspec
import pytest
from pypdf import PdfReader

from engine.cad import run_cad
from engine.checks import check
from engine.model import EngineError
from engine.pdf import expected_pages, render_pdf
from engine.seams import apply_seams, split_job
from engine.spec import decode_job

SINK = {"id": "S1", "type": "undermount_sink", "shape": "rect", "center": [2000, 300], "length": 760, "width": 430}
L_SHAPE = [[0, 0], [3800, 0], [3800, 640], [640, 640], [640, 2000], [0, 2000]]


def job(pieces: list[dict], units: str = "mm", slab: tuple[float, float] = (3200, 1600), rules: dict | None = None,
        **options) -> dict:
    return {"spec_version": "1.0", "job": {"id": "SEAMS", "name": "Long run"}, "units": units,
            "material": {"name": "Quartz", "type": "quartz", "thickness": 30},
            "slab_stock": [{"id": "Q", "length": slab[0], "width": slab[1]}], "pieces": pieces,
            "options": {"auto_seams": True, "rules": rules or {}, **options}}


def top(length: float = 4200, depth: float = 640, cutouts=(SINK,), **extra) -> dict:
    return {"id": "A", "shape": {"type": "rect", "length": length, "depth": depth},
            "edges": {"front": {"kind": "finished", "profile": "eased"}, "back": {"kind": "wall"}},
            "cutouts": list(cutouts), **extra}


def cad(body: dict):
    return run_cad(decode_job(msgspec.json.encode(body)))


def gap_to(seam_x: float, cutout: dict) -> float:
    """Distance along x from a seam to a rect cutout (as the rule measures it)."""
    half = cutout["length"] / 2
    return max(cutout["center"][0] - half - seam_x, seam_x - cutout["center"][0] - half, 0.0)


def test_a_long_top_gets_one_seam_clear_of_the_sink() -> None:
    result = cad(job([top()]))
    [seam] = result.summary.seams
    assert (seam.piece, seam.parts) == ("A", ["A1", "A2"])
    assert gap_to(seam.position, SINK) >= 76 and seam.cutout_clearance == gap_to(seam.position, SINK)
    assert seam.position == 3180  # the farthest from the sink of the places where both parts fit a 3200 slab
    assert "A is 4200 mm long" in seam.reason and "3180 mm x 1580 mm" in seam.reason
    assert seam.rules == ["800 mm from sink S1 (at least 76 mm)"]
    assert [(p.id, p.length_mm) for p in result.summary.pieces] == [("A1", 3180), ("A2", 1020)]
    assert result.summary.area_gross_m2 == pytest.approx(4.2 * 0.64)
    assert result.summary.slabs.used == 1


def test_the_awi_distance_from_sinks_and_cooktops() -> None:
    sink = {**SINK, "center": [1400, 300]}  # 1020 to 1780
    hob = {**SINK, "id": "H1", "type": "cooktop", "center": [2900, 300], "length": 560}  # 2620 to 3180
    [seam] = cad(job([top(cutouts=[sink, hob])])).summary.seams
    assert seam.position == 2200 and seam.rules == ["420 mm from sink S1 (at least 76 mm)"]  # halfway between
    # 18 in from sinks and cooktops leaves no room between them: two seams, outside both.
    seams = cad(job([top(cutouts=[sink, hob])], rules={"min_sink_to_seam": 457})).summary.seams
    assert [s.parts for s in seams] == [["A1", "A2"], ["A2", "A3"]]
    assert all(gap_to(s.position, c) >= 457 for s in seams for c in (sink, hob))
    hole = {"id": "F1", "type": "faucet_hole", "shape": "circle", "center": [1800, 560], "diameter": 35}
    [seam] = cad(job([top(cutouts=[SINK, hole])], rules={"min_sink_to_seam": 457})).summary.seams
    assert gap_to(seam.position, SINK) >= 457 and seam.position == 3180  # the faucet hole keeps 76 mm only
    assert seam.rules == ["800 mm from sink S1 (at least 457 mm)"]


def test_a_dishwasher_opening_never_carries_a_seam() -> None:
    zone = {"type": "dishwasher", "from": 1800, "to": 2600}
    [seam] = cad(job([top(cutouts=[], appliance_zones=[zone])])).summary.seams
    assert not 1800 < seam.position < 2600
    assert seam.position in (1800, 2600)  # no cutout: the most even parts, next to the opening
    assert "clear of the dishwasher opening from 1800 mm to 2600 mm" in seam.rules


def test_an_l_shape_is_seamed_away_from_its_inside_corner() -> None:
    piece = {"id": "L", "shape": {"type": "polygon", "vertices": L_SHAPE}, "corners": [{"at": 3, "type": "radius",
                                                                                          "size": 6}]}
    result = cad(job([piece]))
    [seam] = result.summary.seams
    assert abs(seam.position - 640) >= 150 and seam.inside_corner_clearance == abs(seam.position - 640)
    left, right = result.summary.pieces
    assert (left.length_mm, left.depth_mm) == (seam.position, 2000) and right.depth_mm == 640
    split = apply_seams(decode_job(msgspec.json.encode(job([piece]))), result.summary.seams)
    assert [c.at for c in split.pieces[0].corners] == [3] and split.pieces[1].corners == []
    # A corner rule wider than the left leg's room leaves no place for the seam: the error says which rule.
    [finding] = check(decode_job(msgspec.json.encode(job([piece], rules={"min_seam_to_inside_corner": 1000}))))
    assert finding.code == "PIECE_LARGER_THAN_SLABS" and finding.severity == "error"
    assert "No seam keeps the rules" in finding.message
    assert "a seam within 1000 mm of the inside corner at 640 mm cracks" in finding.message


def test_no_plan_is_an_error_in_a_fabricators_words() -> None:
    zone = {"type": "dishwasher", "from": 200, "to": 4000}  # a seam at 200 leaves 4000 mm: more than a slab
    body = job([top(cutouts=[], appliance_zones=[zone])])
    [finding] = check(decode_job(msgspec.json.encode(body)))
    assert (finding.code, finding.path) == ("PIECE_LARGER_THAN_SLABS", "pieces[0]")
    assert ("after the seam at 200 mm, the next must fall between 1020 mm and 3380 mm from the left end for the "
            "parts to fit a slab, and no seam may go there: the dishwasher opening from 200 mm to 4000 mm has no "
            "cabinet under it to carry a seam.") in finding.message
    with pytest.raises(EngineError, match="dishwasher opening"):
        cad(body)
    deep = job([top(depth=1700, cutouts=[])], grain={"keep_direction": True})  # turned, 1580 mm long parts fit
    [finding] = check(decode_job(msgspec.json.encode(deep)))
    assert "its depth of 1700 mm" in finding.message and "front to back" in finding.message
    assert "auto_seams" in check(decode_job(msgspec.json.encode({**body, "options": {}})))[0].message  # a hint


def test_an_inches_job_is_seamed_in_sixteenths_and_answered_in_inches() -> None:
    sink = {**SINK, "center": [78.75, 12], "length": 30, "width": 17}
    body = job([top(length=165, depth=25.5, cutouts=[sink])], units="in", slab=(126, 63), slab_margin=0.5,
               kerf=0.125, rules={"min_sink_to_seam": 18})
    result = cad(body)
    [seam] = result.summary.seams
    assert (seam.position * 16) == int(seam.position * 16)  # on a sixteenth of an inch
    assert gap_to(seam.position, sink) >= 18 and seam.position_mm == pytest.approx(seam.position * 25.4)
    assert '(at least 18")' in seam.rules[0] and 'A is 165" long' in seam.reason
    dxf = {a.name: a.data for a in result.artifacts}["piece-A1.dxf"]
    doc = ezdxf.read(io.StringIO(dxf.decode()))
    assert doc.header["$INSUNITS"] == 1
    [line] = doc.modelspace().query('LWPOLYLINE[layer=="SEAM"]')
    assert {round(x, 4) for x, *_ in line.get_points()} == {seam.position}


def test_fewer_slabs_beat_a_seam_farther_from_the_sinks() -> None:
    # Two sinks near the ends make 2100 the seam farthest from both, but then neither half shares a 3200 x 700 slab
    # with B (2150 long); 1020 or 3180 puts the short part beside B: two slabs instead of three.
    sinks = [{**SINK, "center": [400, 300], "length": 600}, {**SINK, "id": "S2", "center": [3800, 300],
                                                              "length": 600}]
    b = {"id": "B", "shape": {"type": "rect", "length": 2150, "depth": 640}}
    result = cad(job([top(cutouts=sinks), b], slab=(3200, 700)))
    [seam] = result.summary.seams
    assert seam.position in (1020, 3180) and result.summary.slabs.used == 2


def test_the_split_carries_edges_cutouts_zones_and_joins_to_the_right_part() -> None:
    a = top(length=5000, cutouts=[SINK, {**SINK, "id": "S2", "center": [4200, 300]}],
            appliance_zones=[{"type": "dishwasher", "from": 2800, "to": 3400}])
    a["edges"]["front"]["segments"] = [{"from": 0, "to": 620, "kind": "seam"}, {"from": 4600, "to": 5000,
                                                                                "kind": "miter"}]
    b = {"id": "B", "shape": {"type": "rect", "length": 1500, "depth": 620}, "edges": {"left": {"kind": "seam"}}}
    body = {**job([a, b]), "joins": [{"a": "A.front[0:620]", "b": "B.left", "type": "butt_seam"}]}
    spec = decode_job(msgspec.json.encode(body))
    split, parts = split_job(spec, {"A": [2600]})
    assert parts == {"A": ["A1", "A2"]}
    a1, a2, _ = split.pieces
    assert (a1.shape.length, a2.shape.length) == (2600, 2400)
    assert [s.end for s in a1.edges["front"].segments] == [620] and a1.edges["right"].kind == "seam"
    assert [(s.start, s.end, s.kind) for s in a2.edges["front"].segments] == [(2000, 2400, "miter")]
    assert a2.edges["left"].kind == "seam" and a2.edges["back"].kind == "wall"
    assert [(c.id, c.center[0]) for c in a2.cutouts] == [("S2", 1600)] and [c.id for c in a1.cutouts] == ["S1"]
    assert [(z.start, z.end) for z in a2.appliance_zones] == [(200, 800)] and a1.appliance_zones == []
    assert [(j.a, j.b) for j in split.joins] == [("A1.front[0:620]", "B.left"), ("A1.right", "A2.left")]
    assert [f for f in check(split) if f.severity == "error"] == []


def test_the_drawings_show_each_seam() -> None:
    body = job([top()])
    spec = decode_job(msgspec.json.encode(body))
    result = run_cad(spec)
    files = {a.name: a.data for a in result.artifacts}
    assert {"piece-A1.dxf", "piece-A2.dxf", "piece-A1.svg", "piece-A2.svg"} <= set(files)
    for name, x in (("piece-A1.dxf", 3180), ("piece-A2.dxf", 0)):
        doc = ezdxf.read(io.StringIO(files[name].decode()))
        assert not doc.audit().has_errors
        [line] = doc.modelspace().query('LWPOLYLINE[layer=="SEAM"]')
        assert {x for x, *_ in line.get_points()} == {x}
    svgs = {n: d for n, d in files.items() if n.endswith(".svg")}
    reader = PdfReader(io.BytesIO(render_pdf(spec, result.summary, svgs, issued=dt.date(2025, 1, 15))))
    assert len(reader.pages) == expected_pages(spec, result.summary, priced=False) == 1 + 3 + 1
    seams = reader.pages[1].extract_text()
    assert "Piece A" in seams and "seams: A1 + A2" in seams and "3180" in seams and "4200" in seams
    assert "800 mm from sink S1 (at least 76 mm)" in seams
    assert "Piece A1" in reader.pages[2].extract_text() and "Piece A2" in reader.pages[3].extract_text()


def test_a_job_that_fits_is_left_alone() -> None:
    result = cad(job([top(length=3000)]))
    assert result.summary.seams == [] and [p.id for p in result.summary.pieces] == ["A"]


def test_bad_appliance_zones_and_rules_name_the_field() -> None:
    body = job([top(appliance_zones=[{"type": "dishwasher", "from": 2600, "to": 1800}])])
    with pytest.raises(msgspec.ValidationError, match=r"`to` \(1800\) must be greater than `from`.*pieces\[0\]"
                                                      r"\.appliance_zones\[0\]"):
        decode_job(msgspec.json.encode(body))
    with pytest.raises(msgspec.ValidationError, match=r"options\.rules\.min_sink_to_seam"):
        decode_job(msgspec.json.encode(job([top()], rules={"min_sink_to_seam": -1})))
    with pytest.raises(msgspec.ValidationError, match=r"pieces\[0\]\.appliance_zones\[0\]\.type"):
        decode_job(msgspec.json.encode(job([top(appliance_zones=[{"type": "fridge", "from": 1, "to": 2}])])))


def test_the_example_keeps_its_seam_and_figures() -> None:
    import json
    from pathlib import Path

    examples = Path(__file__).resolve().parents[2] / "examples"
    expected = json.loads((examples / "expected.json").read_text())["long-run-auto-seam.json"]
    result = run_cad(decode_job((examples / "long-run-auto-seam.json").read_bytes()))
    assert [{"piece": s.piece, "position": s.position, "parts": s.parts} for s in result.summary.seams] == (
        expected["seams"])
    assert (result.summary.area_gross_m2, result.summary.area_net_m2, result.summary.weight_kg) == (
        expected["area_gross_m2"], expected["area_net_m2"], expected["weight_kg"])
    assert result.summary.slabs.used == expected["slabs"][0]["guillotine_slabs_reached_by_a_simple_packer"]


def test_the_openapi_schema_marks_the_seam_fields_as_spec_1_1() -> None:
    from api.openapi import _COMPONENTS

    assert _COMPONENTS["Options"]["properties"]["auto_seams"]["x-added-in"] == "1.1"
    rules = _COMPONENTS["Rules"]["properties"]
    assert rules["min_seam_to_inside_corner"]["x-added-in"] == rules["min_sink_to_seam"]["x-added-in"] == "1.1"
    assert "x-added-in" not in rules["min_cutout_to_seam"]
    zones = _COMPONENTS["Piece"]["properties"]["appliance_zones"]
    assert zones["x-added-in"] == "1.1" and "dishwasher" in zones["description"]
    assert set(_COMPONENTS["ApplianceZone"]["properties"]) == {"type", "from", "to"}


def test_a_hand_placed_seam_in_an_inches_job_is_measured_in_inches() -> None:
    # The seam runs along the first 25" of the front; the sink starts 0.5" past its end, 2.5" behind the front.
    sink = {"id": "S1", "type": "undermount_sink", "shape": "rect", "center": [40.5, 11], "length": 30, "width": 17}
    body = job([top(length=100, depth=25.5, cutouts=[sink])], units="in", slab=(126, 63), auto_seams=False)
    body["joins"] = [{"a": "A.front[0:25]", "b": "B.left"}]
    body["pieces"].append({"id": "B", "shape": {"type": "rect", "length": 40, "depth": 25.5}})
    found = [(f.code, f.path) for f in check(decode_job(msgspec.json.encode(body)))]
    assert found == [("CUTOUT_TOO_CLOSE_TO_SEAM", "pieces[0].cutouts[0]")]


def test_a_curved_end_a_footprint_and_copies_survive_the_split_with_the_same_figures() -> None:
    from engine.summary import summarize

    piece = {"id": "BAR", "qty": 2, "shape": {"type": "polygon", "vertices": [[0, 0], [4400, 0, 0.4], [4400, 600],
                                                                               [0, 600]]},
             "edges": [{"kind": "finished", "profile": "eased"}, {"kind": "finished", "profile": "bullnose"},
                       {"kind": "finished", "profile": "eased", "drip_groove": {}}, {"kind": "wall"}],
             "corners": [{"at": 0, "type": "radius", "size": 30}],
             "support": {"cabinet_footprint": [[0, 0], [4000, 0], [4000, 560], [0, 560]]}}
    spec = decode_job(msgspec.json.encode(job([piece], slab=(3200, 1600))))
    result = run_cad(spec)
    [seam] = result.summary.seams
    split = apply_seams(spec, result.summary.seams)
    left, right = split.pieces
    assert (left.qty, right.qty) == (2, 2) and [c.at for c in left.corners] == [0] and right.corners == []
    assert len(right.shape.vertices[1]) == 3 and right.edges[1].profile == "bullnose"  # the arc stays whole
    assert right.edges[2].drip_groove is not None and right.edges[3].kind == "seam"
    assert max(x for x, _ in right.support.cabinet_footprint) == pytest.approx(4000 - seam.position)
    whole, parts = summarize(spec, None, []), summarize(split, None, [])
    assert (parts.area_gross_m2, parts.finished_edge_m) == (whole.area_gross_m2, whole.finished_edge_m)
    assert parts.finished_edge_by_profile_m == whole.finished_edge_by_profile_m
    assert [f for f in check(split) if f.severity == "error"] == []


def test_a_cut_that_would_cross_the_piece_twice_is_not_a_seam() -> None:
    c_shape = [[0, 0], [4000, 0], [4000, 640], [640, 640], [640, 1360], [4000, 1360], [4000, 2000], [0, 2000]]
    body = job([{"id": "C", "shape": {"type": "polygon", "vertices": c_shape}}])
    [finding] = [f for f in check(decode_job(msgspec.json.encode(body))) if f.severity == "error"]
    assert finding.code == "PIECE_LARGER_THAN_SLABS" and "a cut there would cross the piece more than once" in (
        finding.message)


def test_a_scribed_back_edge_is_no_row_of_inside_corners() -> None:
    # A templated top: its back follows the wall in 40 short straight runs, each bend a few degrees.
    back = [[4200 - 4200 * k / 40, 640 + 5 * (-1) ** k] for k in range(41)]
    piece = {"id": "T", "shape": {"type": "polygon", "vertices": [[0, 0], [4200, 0], *back]}, "cutouts": [SINK]}
    [seam] = cad(job([piece])).summary.seams
    assert seam.inside_corner_clearance is None and gap_to(seam.position, SINK) >= 76


def test_place_seams_refuses_a_piece_without_a_plan_even_past_the_checks() -> None:
    from engine.seams import place_seams

    zone = {"type": "dishwasher", "from": 200, "to": 4000}
    spec = decode_job(msgspec.json.encode(job([top(cutouts=[], appliance_zones=[zone])])))
    with pytest.raises(EngineError, match="No seam on piece A keeps the rules: after the seam at 200 mm") as err:
        place_seams(spec, lambda split: pytest.fail("nothing to nest"))
    assert [(f.code, f.path) for f in err.value.findings] == [("PIECE_LARGER_THAN_SLABS", "pieces[0]")]


def test_parts_that_fit_the_sizes_but_not_the_stock_fail_with_the_nesters_words_and_why() -> None:
    body = job([top()], slab=(3200, 700))
    body["slab_stock"][0]["qty"] = 1  # one slab a part wide: the two parts need two
    with pytest.raises(EngineError, match=r"Not enough slabs in stock.*auto_seams places seams by the slabs' sizes"):
        cad(body)
