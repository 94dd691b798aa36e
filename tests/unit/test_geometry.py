from __future__ import annotations

import math

import pytest
from shapely.geometry import Point

from engine import geometry as g
from engine.spec import Corner, Cutout, Edge, Piece, PolygonShape, RectShape, Segment


def rect(length: float = 1000, depth: float = 600, **kw) -> Piece:
    return Piece(id="P", shape=RectShape(length=length, depth=depth), **kw)


def test_seg_arc_semicircle_length_centre_and_points():
    s = g.Seg((0.0, 0.0), (0.0, 200.0), -1.0)  # CW half circle: bulges to the left of travel, -x
    assert s.length() == pytest.approx(math.pi * 100)
    (cx, cy), r = s.center_radius()
    assert (cx, cy, r) == pytest.approx((0.0, 100.0, 100.0))
    assert s.point_at(0.5) == pytest.approx((-100.0, 100.0))
    half = s.sub(0.0, 0.5)
    assert half.length() == pytest.approx(math.pi * 50)
    assert half.end == pytest.approx((-100.0, 100.0))
    assert g.Seg((0.0, 0.0), (0.0, 200.0), 1.0).point_at(0.5) == pytest.approx((100.0, 100.0))


def test_rect_outline_vertices_ccw_and_edge_names():
    ol = g.outline(rect())
    assert ol.vertices == [(0, 0), (1000, 0), (1000, 600), (0, 600)]
    assert ol.edge_names == ["front", "right", "back", "left"]
    assert ol.polygon().area == pytest.approx(600_000)
    assert [s.kind for s in ol.spans] == ["sawn"] * 4  # no edges given: sawn


def test_radius_corners_shorten_edges_and_arc_counts_as_finished():
    fin = Edge(kind="finished", profile="ogee")
    p = rect(edges={"front": fin, "right": fin, "back": Edge(kind="wall"), "left": fin},
             corners=[Corner(at=1, type="radius", size=50), Corner(at=2, type="radius", size=50)])
    ol = g.outline(p)
    arc = next(s for s in ol.spans if s.corner == 1)
    assert arc.kind == "finished" and arc.profile == "ogee"
    assert arc.seg.length() == pytest.approx(math.pi * 50 / 2)
    # corner 2 sits between finished right and a wall back: exposed, so polished too
    assert next(s for s in ol.spans if s.corner == 2).kind == "finished"
    front = next(s for s in ol.spans if s.edge == 0)
    assert front.seg.length() == pytest.approx(950)
    assert g.area(ol.segs) == pytest.approx(600_000 - 2 * (2500 - math.pi * 625))
    assert ol.polygon().area == pytest.approx(g.area(ol.segs), abs=5)  # discretised twin


def test_clip_corner_is_a_chamfer():
    ol = g.outline(rect(corners=[Corner(at=0, type="clip", size=30)]))
    clip = next(s for s in ol.spans if s.corner == 0)
    assert clip.seg.bulge == 0
    assert clip.seg.length() == pytest.approx(30 * math.sqrt(2))
    assert ol.polygon().area == pytest.approx(600_000 - 450)


def test_corner_too_big_and_corner_index_out_of_range():
    with pytest.raises(g.GeometryError, match="do not fit"):
        g.outline(rect(length=100, depth=100, corners=[Corner(at=0, type="radius", size=60),
                                                       Corner(at=1, type="radius", size=60)]))
    with pytest.raises(g.GeometryError, match="vertex 7"):
        g.outline(rect(corners=[Corner(at=7, type="radius", size=10)]))


def test_segments_override_edge_kind():
    edge = Edge(kind="finished", profile="eased",
                segments=[Segment(start=0, end=620, kind="seam")])
    ol = g.outline(rect(length=2900, edges={"front": edge}))
    front = [(s.kind, round(s.seg.length())) for s in ol.spans if s.edge == 0]
    assert front == [("seam", 620), ("finished", 2280)]


def test_bulge_polygon_semicircle_end():
    # 1000 x 400 with the right end a half circle of radius 200 (bulge 1 from (1000,0) to (1000,400))
    p = Piece(id="R", shape=PolygonShape(vertices=[[0, 0], [1000, 0, 1], [1000, 400], [0, 400]]))
    ol = g.outline(p)
    assert ol.length() == pytest.approx(1000 + math.pi * 200 + 1000 + 400)
    assert g.area(ol.segs) == pytest.approx(400_000 + math.pi * 200**2 / 2)
    assert ol.polygon().area == pytest.approx(g.area(ol.segs), rel=1e-4)
    assert g.bbox(ol.segs) == pytest.approx((0, 0, 1200, 400))
    assert g.bbox([g.Seg((0, 0), (0, 200), -1.0)]) == pytest.approx((-100, 0, 0, 200))


def test_cutout_shapes_and_rotation():
    circle = Cutout(id="F", type="faucet_hole", shape="circle", center=[100, 100], diameter=35)
    assert g.cutout_polygon(circle).area == pytest.approx(math.pi * 17.5**2, rel=1e-3)
    oval = Cutout(id="O", type="undermount_sink", shape="oval", center=[0, 0], length=500, width=300)
    assert g.cutout_polygon(oval).area == pytest.approx(math.pi * 250 * 150, rel=1e-3)
    turned = Cutout(id="S", type="undermount_sink", shape="rect", center=[0, 0], length=500, width=300, rotation=90)
    minx, miny, maxx, maxy = g.cutout_polygon(turned).bounds
    assert (maxx - minx, maxy - miny) == pytest.approx((300, 500))
    rounded = Cutout(id="S", type="undermount_sink", shape="rect", center=[0, 0], length=500, width=300,
                     corner_radius=20)
    assert g.area(g.cutout_segs(rounded)) == pytest.approx(150_000 - (4 - math.pi) * 400)
    assert g.area(g.cutout_segs(circle)) == pytest.approx(math.pi * 17.5**2)
    assert g.cutout_missing(Cutout(id="X", type="custom", shape="circle", center=[0, 0])) is not None


def test_self_intersection_detected():
    bow = Piece(id="B", shape=PolygonShape(vertices=[[0, 0], [100, 100], [100, 0], [0, 100]]))
    assert g.self_intersection(bow) is not None
    ok = Piece(id="L", shape=PolygonShape(vertices=[[0, 0], [100, 0], [100, 50], [50, 50], [50, 100], [0, 100]]))
    assert g.self_intersection(ok) is None
    turns = g.vertex_turns(ok)
    assert turns[3] < 0 and all(t > 0 for i, t in enumerate(turns) if i != 3)  # the one reflex corner


def test_label_point_is_on_the_stone():
    rect = Piece(id="R", type="countertop", shape=RectShape(length=1000, depth=600))
    assert g.label_point(g.outline(rect).segs) == pytest.approx((500, 300))
    ell = Piece(id="L", type="vanity", shape=PolygonShape(vertices=[
        [0, 0], [1800, 0], [1800, 600], [600, 600], [600, 1300], [0, 1300]]))
    segs = g.outline(ell).segs
    x, y = g.label_point(segs)
    assert g.to_polygon(segs).buffer(-100).contains(Point(x, y))  # well inside, not on an edge


def test_distance_to_a_line_or_arc_is_what_a_fine_polyline_gives() -> None:
    """Seg.distance_to is exact; a polyline of the arc at 0.001 mm sagitta is within that of it."""
    import random

    from shapely.geometry import LineString, Point

    rng = random.Random(3)
    segs = [g.Seg((0.0, 0.0), (1000.0, 0.0)), g.Seg((0.0, 0.0), (0.0, 0.0)),
            g.Seg((0.0, 0.0), (100.0, 100.0), math.tan(math.pi / 8)),  # quarter circle, counter-clockwise
            g.Seg((100.0, 100.0), (0.0, 0.0), -math.tan(math.pi / 8)),  # the same arc, clockwise
            g.Seg((500.0, 0.0), (-500.0, 0.0), 1.0), g.Seg((0.0, 0.0), (300.0, 40.0), -2.5)]  # half circle, major arc
    for s in segs:
        line = LineString([*s.points(0.001, 4096), s.end]) if s.chord > 0 else Point(s.start)
        for _ in range(200):
            p = (rng.uniform(-700, 1200), rng.uniform(-700, 700))
            assert s.distance_to(p) == pytest.approx(line.distance(Point(p)), abs=0.002), (s, p)
