"""Template import: templater-like DXFs built with ezdxf here, read back as v1 job drafts (engine/templates)."""

from __future__ import annotations

import io
import math

import ezdxf
import msgspec
import pytest

from engine.geometry import area as exact_area
from engine.spec import decode_job
from engine.templates import Defaults, TemplateError, import_template
from engine.templates.draft import segs_of

SQIN_M2 = 0.00064516


def new(insunits: int | None = 4):  # type: ignore[no-untyped-def]
    doc = ezdxf.new("R2010", setup=True)
    if insunits is not None:
        doc.header["$INSUNITS"] = insunits
    return doc


def dxf_bytes(doc) -> bytes:  # type: ignore[no-untyped-def]
    s = io.StringIO()
    doc.write(s)
    return s.getvalue().encode()


def run(doc, **defaults):  # type: ignore[no-untyped-def]
    out = import_template(dxf_bytes(doc), Defaults(**defaults))
    job = decode_job(msgspec.json.encode(out["job"]))  # the draft is a valid v1 job
    return out, job


def codes(out) -> list[str]:  # type: ignore[no-untyped-def]
    return [p["code"] for p in out["problems"]]


def piece_m2(job, i: int = 0) -> float:  # type: ignore[no-untyped-def]
    verts = job.pieces[i].shape.vertices
    a = exact_area(segs_of([(v[0], v[1], v[2] if len(v) > 2 else 0.0) for v in verts]))
    return a * (SQIN_M2 if job.units == "in" else 1e-6)


def lines(msp, pts, layers=None, **attrs):  # type: ignore[no-untyped-def]
    """A closed outline drawn as separate LINEs (how many templaters export), edge i on layers[i]."""
    for i, (a, b) in enumerate(zip(pts, pts[1:] + pts[:1])):
        msp.add_line(a, b, dxfattribs={"layer": layers[i] if layers else "0", **attrs})


def rounded_rect(msp, cx, cy, length, width, r, layer="0"):  # type: ignore[no-untyped-def]
    hx, hy, q = length / 2, width / 2, math.tan(math.pi / 8)
    pts = [(cx - hx + r, cy - hy, 0), (cx + hx - r, cy - hy, q), (cx + hx, cy - hy + r, 0), (cx + hx, cy + hy - r, q),
           (cx + hx - r, cy + hy, 0), (cx - hx + r, cy + hy, q), (cx - hx, cy + hy - r, 0), (cx - hx, cy - hy + r, q)]
    return msp.add_lwpolyline(pts, format="xyb", close=True, dxfattribs={"layer": layer})


def test_line_chain_in_mm_with_wall_and_finished_layers() -> None:
    doc = new(4)
    lines(doc.modelspace(), [(100, 200), (3100, 200), (3100, 800), (100, 800)],
          layers=["FINISHED", "FINISHED", "WALL", "SAWN"])
    out, job = run(doc)
    assert out["problems"] == [] and job.units == "mm"
    assert piece_m2(job) == pytest.approx(1.8, abs=1e-4)
    verts = job.pieces[0].shape.vertices
    assert verts[0] == [0.0, 0.0] and max(v[0] for v in verts) == 3000 and max(v[1] for v in verts) == 600
    assert [e.kind for e in job.pieces[0].edges] == ["finished", "finished", "wall", "sawn"]
    assert job.pieces[0].edges[0].profile == "eased"


def test_l_shaped_top_with_sink_cooktop_and_faucet_hole() -> None:
    doc = new(4)
    msp = doc.modelspace()
    msp.add_lwpolyline([(0, 0), (3000, 0), (3000, 600), (650, 600), (650, 1500), (0, 1500)], close=True)
    rounded_rect(msp, 1500, 300, 800, 450, 20, layer="SINK")
    msp.add_lwpolyline([(2220, 55), (2780, 55), (2780, 545), (2220, 545)], close=True,
                       dxfattribs={"layer": "COOKTOP"})
    msp.add_circle((1500, 550), 17.5)
    out, job = run(doc, material="Calacatta", thickness=20)
    (piece,) = job.pieces
    assert piece_m2(job) == pytest.approx((3000 * 600 + 650 * 900) / 1e6, abs=1e-4)  # 2.385 m²
    by_type = {c.type: c for c in piece.cutouts}
    sink, cooktop, hole = by_type["undermount_sink"], by_type["cooktop"], by_type["faucet_hole"]
    assert (sink.shape, sink.length, sink.width, sink.corner_radius, sink.center) == ("rect", 800, 450, 20,
                                                                                      [1500, 300])
    assert (cooktop.shape, cooktop.length, cooktop.width, cooktop.center) == ("rect", 560, 490, [2500, 300])
    assert (hole.shape, hole.diameter, hole.center) == ("circle", 35, [1500, 550])
    assert job.material.name == "Calacatta" and job.material.thickness == 20
    # net area by hand: outline - sink (rounded) - cooktop - hole
    net = 2.385e6 - (800 * 450 - (4 - math.pi) * 20**2) - 560 * 490 - math.pi * 17.5**2
    from engine.geometry import cutout_polygon, to_polygon
    poly = to_polygon(segs_of([(*v[:2], v[2] if len(v) > 2 else 0.0) for v in piece.shape.vertices]))
    for c in piece.cutouts:
        poly = poly.difference(cutout_polygon(c))
    assert poly.area / 1e6 == pytest.approx(net / 1e6, abs=1e-4)
    assert codes(out) == []  # every cutout on a named layer: nothing guessed


def test_cutouts_on_no_layer_are_classified_by_shape_and_reported() -> None:
    doc = new(4)
    msp = doc.modelspace()
    msp.add_lwpolyline([(0, 0), (2400, 0), (2400, 650), (0, 650)], close=True)
    rounded_rect(msp, 600, 325, 760, 430, 25)
    msp.add_lwpolyline([(1500, 80), (2060, 80), (2060, 570), (1500, 570)], close=True)
    msp.add_ellipse((2250, 325), major_axis=(0, 60), ratio=0.5)  # an oval standing up, 120 x 60
    out, job = run(doc)
    types = sorted((c.type, c.shape) for c in job.pieces[0].cutouts)
    assert types == [("cooktop", "rect"), ("undermount_sink", "oval"), ("undermount_sink", "rect")]
    oval = next(c for c in job.pieces[0].cutouts if c.shape == "oval")
    assert (oval.length, oval.width, abs(oval.rotation)) == (120, 60, 90)
    assert codes(out).count("CUTOUT_GUESSED") == 3


def test_inches_polyline_with_bulges() -> None:
    doc = new(1)
    # 120 x 25.5 in with a half-round end of radius 12.75 on the right
    doc.modelspace().add_lwpolyline([(0, 0, 0), (120, 0, 1), (120, 25.5, 0), (0, 25.5, 0)], format="xyb", close=True)
    out, job = run(doc)
    assert job.units == "in" and job.material.thickness == 1.25 and job.slab_stock[0].length == 126
    expected = (120 * 25.5 + math.pi * 12.75**2 / 2) * SQIN_M2
    assert piece_m2(job) == pytest.approx(expected, abs=1e-4)
    assert job.pieces[0].shape.vertices[1][2] == 1.0  # the arc stays an arc
    assert out["problems"] == []


def test_inches_drawing_converted_to_mm_when_asked() -> None:
    doc = new(1)
    doc.modelspace().add_lwpolyline([(0, 0), (100, 0), (100, 25), (0, 25)], close=True)
    _, job = run(doc, units="mm")
    assert job.units == "mm" and job.pieces[0].shape.vertices[2] == [2540, 635]
    assert piece_m2(job) == pytest.approx(2500 * SQIN_M2, abs=1e-4)


@pytest.mark.parametrize(("size", "units", "m2"), [(100.0, "in", 100 * 25 * SQIN_M2), (2500.0, "mm", 2500 * 625e-6)])
def test_unitless_drawing_units_inferred_from_piece_size(size: float, units: str, m2: float) -> None:
    doc = new(0)
    doc.modelspace().add_lwpolyline([(0, 0), (size, 0), (size, size / 4), (0, size / 4)], close=True)
    out, job = run(doc)
    assert job.units == units and codes(out) == ["UNITS_INFERRED"]
    assert piece_m2(job) == pytest.approx(m2, abs=1e-4)
    out, job = run(doc, units="mm")  # the shop says: no guess, no problem
    assert job.units == "mm" and codes(out) == []


def test_small_gap_closed_and_reported_large_gap_open() -> None:
    doc = new(4)
    msp = doc.modelspace()
    lines(msp, [(0, 0), (1000, 0), (1000, 500), (0, 500)])
    msp.add_line((0, 500), (0, 0.03))  # replace the last edge with one 0.03 mm short
    for e in msp.query("LINE"):
        if e.dxf.start == (0, 500) and e.dxf.end == (0, 0):
            msp.delete_entity(e)
    msp.add_lwpolyline([(2000, 0), (3000, 0), (3000, 400), (2000, 400), (2000, 2)])  # open: 2 mm gap
    out, job = run(doc)
    assert sorted(codes(out)) == ["GAP_CLOSED", "OPEN_OUTLINE"]
    assert len(job.pieces) == 1 and piece_m2(job) == pytest.approx(0.5, abs=1e-4)
    gap = next(p for p in out["problems"] if p["code"] == "GAP_CLOSED")
    assert "0.03" in gap["message"] and gap["handle"]
    opened = next(p for p in out["problems"] if p["code"] == "OPEN_OUTLINE")
    assert "2 mm" in opened["message"] and "gap_tolerance_mm" in opened["fix"]
    out, job = run(doc, gap_tolerance_mm=2.5)  # the shop widens the tolerance: both close
    assert len(job.pieces) == 2 and codes(out).count("GAP_CLOSED") == 2


def test_only_open_outlines_is_a_refusal_with_the_problems() -> None:
    doc = new(4)
    doc.modelspace().add_lwpolyline([(0, 0), (1000, 0), (1000, 500), (0, 500)])
    with pytest.raises(TemplateError) as err:
        import_template(dxf_bytes(doc))
    assert err.value.code == "NO_PIECES" and [p.code for p in err.value.problems] == ["OPEN_OUTLINE"]


def test_duplicate_and_overlapping_entities() -> None:
    doc = new(4)
    msp = doc.modelspace()
    lines(msp, [(0, 0), (1000, 0), (1000, 500), (0, 500)])
    msp.add_line((1000, 0), (0, 0))  # the front edge again, reversed
    msp.add_line((200, 500), (700, 500))  # a stray piece of the back edge lying on it
    out, job = run(doc)
    assert codes(out) == ["DUPLICATE_ENTITY", "DUPLICATE_ENTITY"]
    assert len(job.pieces) == 1 and piece_m2(job) == pytest.approx(0.5, abs=1e-4)


def test_spline_edge_is_approximated_within_tolerance() -> None:
    doc = new(4)
    msp = doc.modelspace()
    # front edge: a quadratic Bezier bowing 100 mm out (control point 200 mm below the chord)
    msp.add_open_spline([(0, 0), (500, -200), (1000, 0)], degree=2)
    msp.add_line((1000, 0), (1000, 500))
    msp.add_line((1000, 500), (0, 500))
    msp.add_line((0, 500), (0, 0))
    out, job = run(doc)
    assert codes(out) == ["SPLINE_APPROXIMATED"]
    parabolic_segment = 2 / 3 * 1000 * 100
    assert piece_m2(job) == pytest.approx((1000 * 500 + parabolic_segment) / 1e6, abs=1e-4)
    assert len(job.pieces[0].shape.vertices) <= 200 + 3


def test_spline_respects_the_vertex_cap() -> None:
    doc = new(4)
    msp = doc.modelspace()
    wiggle = [(x * 10, 30 * math.sin(x)) for x in range(101)]  # 1000 mm of waves
    msp.add_spline(wiggle)
    msp.add_line((1000, wiggle[-1][1]), (1000, 500))
    msp.add_line((1000, 500), (0, 500))
    msp.add_line((0, 500), (0, 0))
    out, job = run(doc, spline_tolerance_mm=0.001)
    assert len(job.pieces[0].shape.vertices) <= 500
    (p,) = [p for p in out["problems"] if p["code"] == "SPLINE_APPROXIMATED"]
    assert "would need more than" in p["message"]


def test_blocks_are_exploded_and_problems_name_the_insert() -> None:
    doc = new(4)
    block = doc.blocks.new("VANITY")
    block.add_lwpolyline([(0, 0), (1200, 0), (1200, 550), (0, 550)], close=True)
    block.add_circle((600, 275), 17.5, dxfattribs={"layer": "FAUCET"})
    msp = doc.modelspace()
    a = msp.add_blockref("VANITY", (0, 0), dxfattribs={"layer": "PIECES"})
    msp.add_blockref("VANITY", (2000, 0), dxfattribs={"layer": "PIECES", "xscale": 0.5, "yscale": 1})
    msp.add_text("VANITY LEFT", dxfattribs={"insert": (100, 100)})
    out, job = run(doc)
    assert sorted(round(piece_m2(job, i), 4) for i in range(2)) == [0.33, 0.66]
    assert all(p.cutouts[0].type == "faucet_hole" for p in job.pieces)
    (text,) = out["problems"]
    assert text["code"] == "TEXT_IN_PIECE" and "VANITY LEFT" in text["message"]
    assert {p.label for p in job.pieces} == {"VANITY LEFT", None}
    assert a.dxf.handle  # exploded entities are named by their INSERT


def test_shop_layer_mapping_and_dashed_wall_lines() -> None:
    doc = new(4)
    doc.linetypes.add("DASHED", pattern=[10, 5, -5]) if "DASHED" not in doc.linetypes else None
    lines(doc.modelspace(), [(0, 0), (1000, 0), (1000, 500), (0, 500)], layers=["KANTE", "ROH", "X", "MAUER"])
    doc.modelspace().query("LINE[layer=='X']").first.dxf.linetype = "DASHED"
    _, job = run(doc, layers={"kante": "finished", "MAUER": "wall", "roh": "sawn"}, edge_default="sawn")
    assert [e.kind for e in job.pieces[0].edges] == ["finished", "sawn", "wall", "wall"]
    with pytest.raises(TemplateError) as err:
        Defaults(layers={"KANTE": "polished"})
    assert err.value.code == "BAD_LAYER_MAPPING"


def test_clockwise_outline_is_turned_counter_clockwise() -> None:
    doc = new(4)
    lines(doc.modelspace(), [(0, 0), (0, 500), (1000, 500), (1000, 0)], layers=["WALL", "0", "0", "0"])
    _, job = run(doc)
    verts = job.pieces[0].shape.vertices
    signed = sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(verts, verts[1:] + verts[:1])) / 2
    assert signed == pytest.approx(500_000)
    # the wall edge (0,0)->(0,500) now runs (0,500)->(0,0): still marked wall
    walls = [i for i, e in enumerate(job.pieces[0].edges) if e.kind == "wall"]
    assert len(walls) == 1 and {tuple(verts[walls[0]]), tuple(verts[(walls[0] + 1) % 4])} == {(0, 0), (0, 500)}


@pytest.mark.parametrize("data", [b"", b"%PDF-1.7 ...", b"\x89PNG\r\n\x1a\n", b"hello world",
                                  b"AC1027\x00\x00", b"0\nSECTION\n2\nENTITIES\n0\nLINE\n10\nnot-a-number\n"])
def test_not_a_dxf_is_a_clear_refusal(data: bytes) -> None:
    with pytest.raises(TemplateError) as err:
        import_template(data)
    assert err.value.code in ("EMPTY_FILE", "NOT_DXF", "DAMAGED_DXF", "NO_PIECES") and err.value.fix


def test_caps_on_entities_pieces_and_vertices() -> None:
    doc = new(4)
    msp = doc.modelspace()
    for i in range(201):
        msp.add_lwpolyline([(i * 600, 0), (i * 600 + 500, 0), (i * 600 + 500, 400), (i * 600, 400)], close=True)
    with pytest.raises(TemplateError, match="more than 200 pieces"):
        import_template(dxf_bytes(doc))
    doc = new(4)
    pts = [(1000 * math.cos(t * math.tau / 600), 1000 * math.sin(t * math.tau / 600)) for t in range(600)]
    doc.modelspace().add_lwpolyline(pts, close=True)
    with pytest.raises(TemplateError, match="600 vertices"):
        import_template(dxf_bytes(doc))
    doc = new(4)
    block = doc.blocks.new("MANY")
    for i in range(150):
        block.add_line((i, 0), (i, 1))
    for i in range(150):  # 150 x 151 entities once exploded
        doc.modelspace().add_blockref("MANY", (0, i * 10))
    with pytest.raises(TemplateError) as err:
        import_template(dxf_bytes(doc))
    assert err.value.code == "TOO_MANY_ENTITIES"


def test_elliptic_arc_edge_is_flattened_and_a_stray_arc_is_open() -> None:
    doc = new(4)
    msp = doc.modelspace()
    # the front edge: half an ellipse (semi-axes 500 and 100) bowing out below a 1000 x 500 rectangle
    msp.add_ellipse((500, 0), major_axis=(500, 0), ratio=0.2, start_param=math.pi, end_param=2 * math.pi)
    msp.add_line((1000, 0), (1000, 500))
    msp.add_line((1000, 500), (0, 500))
    msp.add_line((0, 500), (0, 0))
    msp.add_arc((3000, 0), 50, 0, 90)
    out, job = run(doc)
    assert sorted(codes(out)) == ["CURVE_APPROXIMATED", "OPEN_OUTLINE"]
    assert piece_m2(job) == pytest.approx((1000 * 500 + math.pi * 500 * 100 / 2) / 1e6, abs=1e-4)
