from __future__ import annotations

import io
import json
import math
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import ezdxf
import pytest

from engine.cad import file_stem, run_cad
from engine.dxf import piece_dxf, slab_dxf
from engine.model import EngineError, Placement, SlabLayout
from engine.spec import decode_job
from engine.svg import piece_svg, slab_svg

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SVG = "{http://www.w3.org/2000/svg}"


def example(name: str):
    return decode_job((EXAMPLES / name).read_bytes())


def read_dxf(data: bytes):
    doc = ezdxf.read(io.StringIO(data.decode("utf-8")))
    auditor = doc.audit()
    assert not auditor.has_errors, [str(e) for e in auditor.errors]
    return doc


def by_layer(doc) -> Counter:
    return Counter((e.dxftype(), e.dxf.layer) for e in doc.modelspace())


def sill(units: str = "mm", **extra) -> dict:
    k = 1 / 25.4 if units == "in" else 1
    body = {
        "spec_version": "1.0", "job": {"id": "SILL", "name": "Window sill"}, "units": units,
        "material": {"name": "Marble", "type": "marble", "thickness": 30 * k},
        "slab_stock": [{"id": "M", "length": 2800 * k, "width": 1600 * k}],
        "pieces": [{
            "id": "S/1", "type": "window_sill", "qty": 2,
            "shape": {"type": "rect", "length": 1200 * k, "depth": 250 * k},
            "edges": {"front": {"kind": "finished", "profile": "half_bullnose",
                                "drip_groove": {"offset": 20 * k, "width": 8 * k, "depth": 5 * k}},
                      "right": {"kind": "finished", "profile": "eased"}, "back": {"kind": "wall"},
                      "left": {"kind": "sawn"}},
        }],
        "options": {"kerf": 4 * k, "slab_margin": 10 * k},
    }
    body.update(extra)
    return body


# ---- DXF --------------------------------------------------------------------------------------


def test_piece_dxf_layers_units_and_closed_outlines():
    doc = read_dxf(piece_dxf(example("l-kitchen.json"), 0))
    assert doc.header["$INSUNITS"] == 4 and doc.header["$MEASUREMENT"] == 1
    layers = by_layer(doc)
    assert layers[("LWPOLYLINE", "OUTER_CUT")] == 1
    assert layers[("LWPOLYLINE", "INNER_CUT")] == 1  # the sink
    assert layers[("CIRCLE", "DRILL")] == 1  # the faucet hole
    assert layers[("LWPOLYLINE", "SEAM")] == 1 and layers[("LWPOLYLINE", "POLISH_EASED")] == 1
    assert layers[("DIMENSION", "DIMENSIONS")] == 2 and layers[("TEXT", "LABELS")] >= 2
    msp = doc.modelspace()
    [outer] = msp.query('LWPOLYLINE[layer=="OUTER_CUT"]')
    assert outer.closed and [tuple(p) for p in outer.get_points("xy")] == [(0, 0), (2900, 0), (2900, 620), (0, 620)]
    [polish] = msp.query('LWPOLYLINE[layer=="POLISH_EASED"]')
    assert not polish.closed and [tuple(p) for p in polish.get_points("xy")] == [(620, 0), (2900, 0), (2900, 620)]
    [hole] = msp.query("CIRCLE")
    assert (hole.dxf.center.x, hole.dxf.center.y, hole.dxf.radius) == (1900, 565, 17.5)


def test_arc_corners_are_bulges_not_segments():
    doc = read_dxf(piece_dxf(example("island.json"), 0))
    msp = doc.modelspace()
    [outer] = msp.query('LWPOLYLINE[layer=="OUTER_CUT"]')
    bulges = [b for *_, b in outer.get_points("xyb") if b]
    assert len(outer) == 6 and bulges == pytest.approx([math.tan(math.pi / 8)] * 2)
    [hob] = msp.query('LWPOLYLINE[layer=="INNER_CUT"]')
    assert hob.closed and sum(1 for *_, b in hob.get_points("xyb") if b) == 4
    # the polished run goes all the way round, arcs included
    [polish] = msp.query('LWPOLYLINE[layer=="POLISH_EASED"]')
    assert polish.closed and sum(1 for *_, b in polish.get_points("xyb") if b) == 2


def test_inches_drip_groove_and_layer_renames():
    body = sill("in")
    body["options"]["outputs"] = {"layer_names": {"OUTER_CUT": "CUT-OUT", "POLISH_HALF_BULLNOSE": "P_HB"}}
    doc = read_dxf(piece_dxf(decode_job(body), 0))
    assert doc.header["$INSUNITS"] == 1 and doc.header["$MEASUREMENT"] == 0
    layers = by_layer(doc)
    assert layers[("LWPOLYLINE", "CUT-OUT")] == 1 and ("LWPOLYLINE", "OUTER_CUT") not in layers
    assert layers[("LWPOLYLINE", "P_HB")] == 1 and layers[("LWPOLYLINE", "POLISH_EASED")] == 1
    [outer] = doc.modelspace().query('LWPOLYLINE[layer=="CUT-OUT"]')
    assert max(p[0] for p in outer.get_points("xy")) == pytest.approx(1200 / 25.4)  # written back in inches
    [groove] = doc.modelspace().query('LWPOLYLINE[layer=="DRIP_GROOVE"]')
    pts = [tuple(p) for p in groove.get_points("xy")]
    # 20 mm inside the front edge, stopping 20 mm short of each end
    assert pts == [pytest.approx((20 / 25.4, 20 / 25.4)), pytest.approx((1180 / 25.4, 20 / 25.4))]


def test_slab_dxf_places_rotated_pieces():
    job = decode_job(sill())
    layout = SlabLayout(slab_id="M", index=1, length_mm=2800, width_mm=1600, kind="full", used_area_m2=0.6,
                        yield_pct=13.4, placements=[Placement(piece="S/1", copy=1, x_mm=10, y_mm=10),
                                                    Placement(piece="S/1", copy=2, x_mm=1500, y_mm=10,
                                                              rotation_deg=90)])
    doc = read_dxf(slab_dxf(job, layout))
    msp = doc.modelspace()
    [slab] = msp.query('LWPOLYLINE[layer=="SLAB"]')
    assert [tuple(p) for p in slab.get_points("xy")] == [(0, 0), (2800, 0), (2800, 1600), (0, 1600)]
    outlines = msp.query('LWPOLYLINE[layer=="OUTER_CUT"]')
    boxes = sorted((min(xs), min(ys), max(xs), max(ys)) for o in outlines
                   for xs, ys in [list(zip(*o.get_points("xy")))])
    assert boxes == [pytest.approx((10, 10, 1210, 260)), pytest.approx((1250, 10, 1500, 1210))]
    assert sorted(t.dxf.text for t in msp.query('TEXT[layer=="LABELS"]'))[:2] == ["S/1 #1", "S/1 #2"]


# ---- SVG --------------------------------------------------------------------------------------


def test_piece_svg_is_scalable_and_has_a_legend():
    root = ET.fromstring(piece_svg(example("l-kitchen.json"), 0))
    assert root.get("width") == "100%" and root.get("height") is None
    assert len(root.get("viewBox").split()) == 4
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"Finished (eased)", "Wall", "Seam"} <= set(texts)
    assert "2900 mm" in texts and "620 mm" in texts and "SINK1" in texts
    paths = root.findall(f"{SVG}path")
    # outline, 3 coloured edge runs, sink, hole, 2 dimensions, 3 legend swatches
    assert len(paths) == 11
    assert any("stroke-dasharray" in p.attrib for p in paths)  # the seam is dashed


def test_piece_svg_draws_arcs_y_up_and_grooves_dashed():
    root = ET.fromstring(piece_svg(example("island.json"), 0))
    outline = root.findall(f"{SVG}path")[0].get("d")
    assert outline.count("A50 50 ") == 2
    assert "L2600 -1150" in outline  # the back edge is drawn up the screen (negative y)
    root = ET.fromstring(piece_svg(decode_job(sill("in")), 0))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert '47.24"' in texts and "Drip groove" in texts
    assert any(p.get("stroke") == "#00838f" and p.get("stroke-dasharray") for p in root.iter(f"{SVG}path"))


def test_slab_svg_labels_pieces_and_yield():
    result = run_cad(example("l-kitchen.json"))
    layout = result.summary.slabs.layouts[0]
    root = ET.fromstring(slab_svg(example("l-kitchen.json"), layout))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "A" in texts and "B" in texts
    yield_text = f"{layout.yield_pct:g}".replace(".", ",")  # the job's locale is hr-HR: a decimal comma
    assert any(t.startswith("Slab 1: Q-STD") and f"yield {yield_text}%" in t for t in texts)
    assert root.get("viewBox") is not None


# ---- run_cad ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["l-kitchen.json", "island.json"])
def test_run_cad_examples(name):
    result = run_cad(example(name))
    expected = json.loads((EXAMPLES / "expected.json").read_text())[name]
    assert result.summary.area_gross_m2 == pytest.approx(expected["area_gross_m2"], abs=1e-3)
    assert result.summary.slabs.used == expected["slabs"][0]["guillotine_slabs_reached_by_a_simple_packer"]
    names = [a.name for a in result.artifacts]
    pieces = [p.id for p in example(name).pieces]
    assert names == [f"piece-{p}.{ext}" for p in pieces for ext in ("dxf", "svg")] + ["slab-1.dxf", "slab-1.svg",
                                                                                    "model.glb"]
    for a in result.artifacts[:-1]:  # model.glb: tests/unit/test_model3d.py
        assert a.content_type == ("image/vnd.dxf" if a.name.endswith(".dxf") else "image/svg+xml")
        if a.name.endswith(".dxf"):
            read_dxf(a.data)
        else:
            ET.fromstring(a.data)
    again = run_cad(example(name))
    assert [a.data for a in again.artifacts] == [a.data for a in result.artifacts]  # deterministic


def test_run_cad_refuses_a_job_with_errors():
    with pytest.raises(EngineError, match="Sink S1 reaches 350 mm past the right edge of V1") as err:
        run_cad(example("bad-cutout.json"))
    assert [f.code for f in err.value.findings] == ["CUTOUT_OUTSIDE_PIECE"]


def test_run_cad_outputs_flags_and_safe_names():
    body = sill()
    body["options"]["outputs"] = {"svg": False}
    result = run_cad(decode_job(body))
    assert [a.name for a in result.artifacts] == ["piece-S_1.dxf", "slab-1.dxf", "model.glb"]
    assert result.summary.cutouts.total == 0 and result.summary.pieces[0].qty == 2
    assert file_stem("../../etc/passwd") == "etc_passwd" and file_stem("...") == "piece"


def test_nest_placements_are_in_the_piece_frame():
    # A piece whose outline starts at x = -100: the nester packs its bbox, we shift back.
    body = sill()
    body["pieces"][0].update(qty=1, edges=None,
                             shape={"type": "polygon", "vertices": [[-100, 0], [1100, 0], [1100, 250], [-100, 250]]})
    layout = run_cad(decode_job(body)).summary.slabs.layouts[0]
    [p] = layout.placements
    a = math.radians(p.rotation_deg)
    corner = (-100 * math.cos(a) + p.x_mm, -100 * math.sin(a) + p.y_mm)
    assert min(corner) == pytest.approx(10)  # the outline starts at the slab margin, not 100 mm off the slab


def vanities(process: str) -> dict:
    """Two L-shaped vanity tops, a bar top with an arc end and two sills: outline nesting's use case."""
    return {
        "spec_version": "1.0", "job": {"id": "WJ", "name": "Vanities"}, "units": "mm",
        "material": {"name": "Granite", "type": "granite", "thickness": 20},
        "slab_stock": [{"id": "G", "length": 3000, "width": 1800}],
        "options": {"cutting_process": process, "kerf": 1.5, "slab_margin": 15},
        "pieces": [
            {"id": "V", "type": "vanity", "qty": 2, "shape": {"type": "polygon", "vertices": [
                [0, 0], [1800, 0], [1800, 600], [600, 600], [600, 1300], [0, 1300]]}},
            {"id": "BAR", "type": "countertop", "shape": {"type": "polygon", "vertices": [
                [0, 0], [1200, 0, 0.25], [1200, 450], [0, 450]]}},
            {"id": "SILL", "type": "window_sill", "qty": 2, "shape": {"type": "rect", "length": 900, "depth": 220}},
        ],
    }


def test_waterjet_nests_true_outlines_and_draws_them():
    from shapely.affinity import rotate, translate
    from shapely.geometry import Point

    from engine import geometry as g

    saw = run_cad(decode_job(vanities("bridge_saw")))
    jet = run_cad(decode_job(vanities("waterjet")))
    assert saw.summary.slabs.used == 2  # the two L blanks cannot share a saw slab
    assert jet.summary.slabs.used == 1  # their outlines can, one turned into the other's corner
    [layout] = jet.summary.slabs.layouts
    pieces = {p.id: p for p in decode_job(vanities("waterjet")).pieces}
    shapes = []
    for p in layout.placements:
        poly = g.to_polygon(g.outline(pieces[p.piece]).segs)
        shapes.append(translate(rotate(poly, p.rotation_deg, origin=(0, 0)), p.x_mm, p.y_mm))
        assert poly.area > 0 and 15 - 1e-6 <= shapes[-1].bounds[0] and shapes[-1].bounds[2] <= 3000 - 15 + 1e-6
    for i in range(len(shapes)):
        for j in range(i + 1, len(shapes)):
            assert shapes[i].distance(shapes[j]) >= 1.5 - 1e-6  # one kerf, arcs measured on the true outline
    files = {a.name: a.data for a in jet.artifacts}
    doc = read_dxf(files["slab-1.dxf"])
    assert by_layer(doc)[("LWPOLYLINE", "OUTER_CUT")] == 5
    # Every label sits on its own piece: an L's bbox centre is off the stone (or on the other L).
    labels = {e.dxf.text: (e.dxf.insert.x, e.dxf.insert.y) for e in doc.modelspace().query("TEXT")}
    for p, shape in zip(layout.placements, shapes):
        name = p.piece + (f" #{p.copy}" if pieces[p.piece].qty > 1 else "")
        assert shape.contains(Point(labels[name])), name
    svg = ET.fromstring(files["slab-1.svg"])
    assert {t.text for t in svg.iter(f"{SVG}text")} >= {"V #1", "V #2", "BAR", "SILL #1", "SILL #2"}
    assert run_cad(decode_job(vanities("waterjet"))).summary.slabs == jet.summary.slabs  # seeded, not timed


def test_waterjet_example_fits_one_slab():
    # What the README shows for examples/waterjet-vanities.json.
    assert run_cad(example("waterjet-vanities.json")).summary.slabs.used == 1
