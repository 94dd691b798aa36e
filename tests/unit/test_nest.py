"""Slab nesting: every layout is checked geometrically, not just counted."""

from __future__ import annotations

import math
import random

import pytest
from shapely.affinity import rotate, translate
from shapely.geometry import Polygon, box

from engine.model import EngineError, Placement, Slabs
from engine.nest import Part, StockSlab, lower_bound, nest

EPS = 1e-6
SLAB = StockSlab(id="S", length=3050, width=1440, qty=None, kind="full")


def run(parts: list[Part], sheets: list[StockSlab], *, kerf: float = 4, margin: float = 10, guillotine: bool = True,
        prefer_remnants: bool = True, seed: int = 0, time_limit_s: float = 3.0) -> Slabs:
    slabs = nest(parts, sheets, kerf=kerf, margin=margin, guillotine=guillotine, prefer_remnants=prefer_remnants,
                 time_limit_s=time_limit_s, seed=seed)
    check(slabs, parts, kerf=kerf, margin=margin, guillotine=guillotine)
    return slabs


def transform(pt: tuple[float, float], pl: Placement) -> tuple[float, float]:
    a = math.radians(pl.rotation_deg)
    x, y = pt
    return (x * math.cos(a) - y * math.sin(a) + pl.x_mm, x * math.sin(a) + y * math.cos(a) + pl.y_mm)


def bbox_on_slab(part: Part, pl: Placement) -> tuple[float, float, float, float]:
    corners = [transform(c, pl) for c in ((0, 0), (part.length, 0), (part.length, part.width), (0, part.width))]
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    return min(xs), min(ys), max(xs), max(ys)


def gap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    return max(b[0] - a[2], a[0] - b[2], b[1] - a[3], a[1] - b[3])


def guillotine_ok(rects: list[tuple[float, float, float, float]]) -> bool:
    """True when the rectangles can be separated by recursive edge-to-edge cuts."""
    if len(rects) <= 1:
        return True
    for axis in (0, 1):
        for c in sorted({r[axis + 2] for r in rects}):
            low = [r for r in rects if r[axis + 2] <= c + EPS]
            high = [r for r in rects if r[axis] >= c - EPS]
            if low and high and len(low) + len(high) == len(rects):
                return guillotine_ok(low) and guillotine_ok(high)
    return False


def outline_on_slab(part: Part, pl: Placement) -> Polygon:
    poly = Polygon(part.outline or [(0, 0), (part.length, 0), (part.length, part.width), (0, part.width)])
    return translate(rotate(poly, pl.rotation_deg, origin=(0, 0)), pl.x_mm, pl.y_mm)


def check(slabs: Slabs, parts: list[Part], *, kerf: float, margin: float, guillotine: bool) -> None:
    """Every part once, inside the margin, one kerf from every other; guillotine cuts when asked for.

    Guillotine layouts are checked on bounding boxes (what the saw cuts); free layouts on the true outlines,
    which may interlock (their bounding boxes can overlap) and turn by any quarter turn.
    """
    by_key = {(p.piece, p.copy): p for p in parts}
    seen = [(pl.piece, pl.copy) for lay in slabs.layouts for pl in lay.placements]
    assert sorted(seen) == sorted(by_key), "every part exactly once"
    assert slabs.used == len(slabs.layouts) >= slabs.area_bound
    for n, lay in enumerate(slabs.layouts, start=1):
        assert lay.index == n
        boxes, shapes = [], []
        for pl in lay.placements:
            part = by_key[(pl.piece, pl.copy)]
            assert pl.rotation_deg in ((0.0, 90.0) if guillotine else (0.0, 90.0, 180.0, 270.0))
            if not part.can_rotate:
                assert pl.rotation_deg == 0.0
            x0, y0, x1, y1 = bbox_on_slab(part, pl)
            assert x0 >= margin - EPS and y0 >= margin - EPS
            assert x1 <= lay.length_mm - margin + EPS and y1 <= lay.width_mm - margin + EPS
            boxes.append((x0, y0, x1, y1))
            shapes.append(outline_on_slab(part, pl))
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                if guillotine:
                    assert gap(boxes[i], boxes[j]) >= kerf - EPS, (lay.index, boxes[i], boxes[j])
                else:
                    assert shapes[i].distance(shapes[j]) >= kerf - EPS, (lay.index, i, j)
        if guillotine:
            assert guillotine_ok(boxes)
        for r in lay.remnants:
            assert r.length_mm >= 200 and r.width_mm >= 200
            rb = (r.x_mm, r.y_mm, r.x_mm + r.length_mm, r.y_mm + r.width_mm)
            assert rb[0] >= margin - EPS and rb[2] <= lay.length_mm - margin + EPS
            assert rb[1] >= margin - EPS and rb[3] <= lay.width_mm - margin + EPS
            if guillotine:
                assert all(gap(rb, b) >= -EPS for b in boxes), "a remnant never overlaps a part"
            else:
                assert all(box(*rb).distance(s) >= kerf - EPS for s in shapes), "a remnant is one cut from parts"


def rect_parts(sizes: list[tuple[float, float]], can_rotate: bool = True) -> list[Part]:
    return [Part(key=f"P{i}#1", piece=f"P{i}", copy=1, length=l, width=w, can_rotate=can_rotate)
            for i, (l, w) in enumerate(sizes)]


def random_parts(n: int, seed: int) -> list[Part]:
    rng = random.Random(seed)
    return rect_parts([(round(rng.uniform(300, 2800)), round(rng.uniform(100, 900))) for _ in range(n)])


def test_l_kitchen_fits_one_slab() -> None:
    parts = [Part("A#1", "A", 1, 2900, 620, True), Part("B#1", "B", 1, 1580, 620, True)]
    for guillotine in (True, False):
        slabs = run(parts, [SLAB], guillotine=guillotine)
        assert slabs.used == slabs.area_bound == 1
        assert slabs.layouts[0].slab_id == "S"


def test_island_with_radius_corners_fits_one_slab() -> None:
    r = 50.0
    arc = [(math.cos(math.radians(a)), math.sin(math.radians(a))) for a in range(0, 91, 15)]
    outline = [(0.0, 0.0), (2600.0, 0.0)] + [(2600 - r + r * c, 1200 - r + r * s) for c, s in arc] \
        + [(r - r * s, 1200 - r + r * c) for c, s in arc]
    part = Part("I#1", "I", 1, 2600, 1200, True, outline=outline)
    slabs = run([part], [SLAB])
    assert slabs.used == 1
    assert slabs.layouts[0].used_area_m2 < 2.6 * 1.2  # the true outline's area, radius corners removed


def test_rotation_transform_puts_part_where_it_says() -> None:
    # Only fits turned: 2000 x 1000 on a 1200 x 2200 slab.
    part = Part("R#1", "R", 1, 2000, 1000, True)
    slabs = run([part], [StockSlab("T", 1200, 2200, None, "full")])
    pl = slabs.layouts[0].placements[0]
    assert pl.rotation_deg == 90.0
    assert (pl.x_mm, pl.y_mm) == (10 + 1000, 10)
    assert bbox_on_slab(part, pl) == pytest.approx((10, 10, 1010, 2010))


def test_grain_locked_parts_never_rotate() -> None:
    parts = rect_parts([(600, 1300)] * 4 + [(1400, 300)] * 3, can_rotate=False)
    for guillotine in (True, False):
        slabs = run(parts, [SLAB], guillotine=guillotine)
        assert all(pl.rotation_deg == 0.0 for lay in slabs.layouts for pl in lay.placements)


def test_part_too_big_names_the_part() -> None:
    parts = rect_parts([(1000, 600)]) + [Part("BIG#2", "BIG", 2, 3100, 900, True)]
    with pytest.raises(EngineError, match=r"Piece BIG \(copy 2, 3100 x 900 mm\).*S 3050 x 1440 mm"):
        nest(parts, [SLAB], kerf=4, margin=10, guillotine=True, prefer_remnants=True, time_limit_s=1, seed=0)


def test_grain_lock_can_make_a_part_too_big() -> None:
    parts = [Part("T#1", "T", 1, 1000, 2000, False)]
    with pytest.raises(EngineError, match="grain"):
        nest(parts, [SLAB], kerf=4, margin=10, guillotine=True, prefer_remnants=True, time_limit_s=1, seed=0)


def test_margin_counts_against_the_slab() -> None:
    # 3040 is below the slab length but above its usable length with a 10 mm margin.
    with pytest.raises(EngineError):
        nest(rect_parts([(3040, 600)]), [SLAB], kerf=4, margin=10, guillotine=True, prefer_remnants=True,
             time_limit_s=1, seed=0)
    assert run(rect_parts([(3040, 600)]), [SLAB], margin=5).used == 1


def test_qty_limit_falls_over_to_next_stock() -> None:
    parts = rect_parts([(2900, 1300)] * 3)
    sheets = [StockSlab("ONE", 3050, 1440, 1, "full"), StockSlab("MANY", 3200, 1600, None, "full")]
    slabs = run(parts, sheets)
    ids = [lay.slab_id for lay in slabs.layouts]
    assert ids.count("ONE") == 1 and ids.count("MANY") == 2


def test_stock_running_out_is_an_error() -> None:
    with pytest.raises(EngineError, match="Not enough slabs"):
        nest(rect_parts([(2900, 1300)] * 3), [StockSlab("ONE", 3050, 1440, 2, "full")], kerf=4, margin=10,
             guillotine=True, prefer_remnants=True, time_limit_s=1, seed=0)


def test_remnants_used_first() -> None:
    parts = rect_parts([(1200, 600), (900, 600), (2000, 620), (2400, 620)])
    sheets = [SLAB, StockSlab("REM", 1400, 1300, 1, "remnant")]
    slabs = run(parts, sheets)
    assert slabs.layouts[0].slab_id == "REM" and slabs.layouts[0].kind == "remnant"
    assert {(pl.piece) for pl in slabs.layouts[0].placements} == {"P0", "P1"}
    assert [lay.slab_id for lay in slabs.layouts[1:]] == ["S"]


def test_same_seed_same_layout() -> None:
    parts = random_parts(40, seed=7)
    for guillotine in (True, False):
        a = run(parts, [SLAB], guillotine=guillotine, seed=3)
        b = run(parts, [SLAB], guillotine=guillotine, seed=3)
        assert a == b


@pytest.mark.parametrize("guillotine", [True, False])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_jobs_are_valid(guillotine: bool, seed: int) -> None:
    parts = random_parts(35, seed)
    slabs = run(parts, [SLAB], guillotine=guillotine, seed=seed, kerf=6, margin=20)
    assert slabs.used <= slabs.area_bound + 3  # long blanks: guillotine needs more than the area bound
    total = sum(p.length * p.width for p in parts)
    assert slabs.yield_pct == pytest.approx(100 * total / (slabs.used * 3050 * 1440), abs=0.01)


def ell(length: float, width: float, arm: float) -> list[tuple[float, float]]:
    return [(0.0, 0.0), (length, 0.0), (length, arm), (arm, arm), (arm, width), (0.0, width)]


def test_free_placement_interlocks_l_shapes() -> None:
    # Two 1800 x 1300 L-shapes: their bounding boxes need two 2500 x 2000 slabs, their outlines one (one L turned
    # 180 degrees into the other's corner). A saw needs the two blanks, so guillotine keeps two slabs.
    parts = [Part(f"L#{c}", "L", c, 1800, 1300, True, outline=ell(1800, 1300, 650)) for c in (1, 2)]
    slab = [StockSlab("C", 2500, 2000, None, "full")]
    assert run(parts, slab, guillotine=True, kerf=8).used == 2
    free = run(parts, slab, guillotine=False, kerf=8)
    assert free.used == 1
    assert sorted(p.rotation_deg for p in free.layouts[0].placements) == [0.0, 180.0]


def test_free_placement_uses_an_l_shapes_inner_corner() -> None:
    # The L's bbox leaves no room for the 1000 x 500 piece on this slab; its inner corner does.
    parts = [Part("L#1", "L", 1, 2400, 1400, False, outline=ell(2400, 1400, 600))]
    parts += [Part("R#1", "R", 1, 1000, 500, False)]
    slab = [StockSlab("S", 2600, 1600, None, "full")]
    assert run(parts, slab, guillotine=True, kerf=6, margin=20).used == 2
    assert run(parts, slab, guillotine=False, kerf=6, margin=20).used == 1


def shaped_parts(n: int, seed: int, can_rotate: bool = True) -> list[Part]:
    """L-shapes, U-shapes, clipped-corner and plain pieces of kitchen sizes."""
    rng = random.Random(seed)
    parts = []
    for i in range(n):
        l, w = round(rng.uniform(500, 2600)), round(rng.uniform(400, 1300))
        arm = round(min(l, w) * rng.uniform(0.3, 0.6))
        kind = rng.randrange(4)
        if kind == 0:
            outline = ell(l, w, arm)
        elif kind == 1:
            outline = [(0.0, 0.0), (l, 0.0), (l, w), (l - arm, w), (l - arm, arm), (arm, arm), (arm, w), (0.0, w)]
        elif kind == 2:
            c = arm / 2
            outline = [(0.0, 0.0), (l - c, 0.0), (l, c), (l, w), (0.0, w)]
        else:
            outline = None
        parts.append(Part(f"P{i}#1", f"P{i}", 1, l, w, can_rotate, outline=outline))
    return parts


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_shaped_jobs_are_valid_and_never_worse_than_bboxes(seed: int) -> None:
    parts = shaped_parts(14, seed, can_rotate=seed != 3)
    boxes = [Part(p.key, p.piece, p.copy, p.length, p.width, p.can_rotate) for p in parts]
    free = run(parts, [SLAB], guillotine=False, kerf=6, margin=20, seed=seed, time_limit_s=2)
    by_bbox = run(boxes, [SLAB], guillotine=False, kerf=6, margin=20, seed=seed, time_limit_s=1)
    assert free.used <= by_bbox.used


def test_lower_bound_uses_true_area_and_usable_slab() -> None:
    assert lower_bound(rect_parts([(1000, 1000)] * 4), [SLAB], 10) == 1
    assert lower_bound(rect_parts([(1500, 1420)] * 3), [SLAB], 10) == 2


def test_no_parts_no_slabs() -> None:
    assert nest([], [SLAB], kerf=4, margin=10, guillotine=True, prefer_remnants=True, time_limit_s=1,
                seed=0) == Slabs(area_bound=0, used=0, yield_pct=0.0, layouts=[])


def test_merged_free_rectangles_never_leave_a_non_guillotine_layout() -> None:
    # Merging free rectangles (as rectpack does) can produce a pinwheel; such passes must be dropped.
    from engine.nest import Choice, Fit, Rule, Split
    from engine.nest import guillotine_ok as nest_guillotine_ok
    from engine.nest.passes import Problem, pack

    pinwheel = [(0, 0, 2, 1), (2, 0, 1, 2), (1, 2, 2, 1), (0, 1, 1, 2), (1, 1, 1, 1)]
    assert not nest_guillotine_ok([(float(a), float(b), float(c), float(d)) for a, b, c, d in pinwheel])
    assert nest_guillotine_ok([(0.0, 0.0, 2.0, 1.0), (2.0, 0.0, 1.0, 1.0), (0.0, 1.0, 3.0, 1.0)])
    for seed in range(6):
        parts = random_parts(30, seed)
        problem = Problem(parts, [SLAB], 4.0, 10.0, True, False)
        order = sorted(range(len(parts)), key=lambda i: -problem.items[i][0] * problem.items[i][1])
        for choice in Choice:
            for split in (Split.SAS, Split.SLAS, Split.LLAS, Split.MAXAS):
                sol = pack(problem, order, Rule(Fit.BSSF, split, merge=True), choice)
                if sol is None:
                    continue
                assert sorted(t[0] for b in sol.bins for t in b.items) == list(range(len(parts)))
                for b in sol.bins:
                    rects = [(x, y, x + (problem.items[it][1] if r else problem.items[it][0]),
                              y + (problem.items[it][0] if r else problem.items[it][1])) for it, x, y, r in b.items]
                    assert guillotine_ok(rects)


@pytest.mark.parametrize("guillotine", [True, False])
def test_last_slab_is_emptied_into_the_others(guillotine: bool) -> None:
    from engine.nest.passes import Problem, Solution, pack_one
    from engine.nest.search import GUILLOTINE_RULES, MAXRECTS_RULES, Search, eliminate

    # Four 1000 x 700 blanks fill a 2000 x 1400 slab; start from three on one slab and one on another.
    parts = rect_parts([(1000, 700)] * 4, can_rotate=False)
    problem = Problem(parts, [StockSlab("Q", 2000, 1400, None, "full")], 0.0, 0.0, guillotine, False)
    rules = GUILLOTINE_RULES if guillotine else MAXRECTS_RULES
    three = pack_one(problem, 0, [0, 1, 2], rules[0])
    one = pack_one(problem, 0, [3], rules[0])
    assert three is not None and one is not None
    start = Solution([three, one], problem, [0, 1, 2, 3])
    search = Search(problem, 1, 10.0)
    sol = eliminate(problem, start, search, rules)
    assert len(sol.bins) == 1 and sorted(t[0] for t in sol.bins[0].items) == [0, 1, 2, 3]
    assert sol.cost < start.cost
