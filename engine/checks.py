"""Fabricator checks on a job: errors that make it invalid, warnings a shop should see (JOB_SPEC.md, 'Rules').

`check()` runs on every API submission, so the work is bounded: cutout pairs go through an STRtree, arcs are
discretised coarsely, and the overhang check samples the outline rather than comparing every pair of points.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import shapely
from shapely import STRtree
from shapely.geometry import LinearRing, LineString, Polygon
from shapely.ops import nearest_points

from engine import geometry as g
from engine.model import Finding
from engine.spec import DEFAULT_RULES_MM, MM_PER_INCH, JobSpec, Piece, RectShape, max_overhang_mm, to_mm

# Coarser than drawing quality: distances matter to the millimetre, not to 0.05 mm, and checks must be fast.
CHECK_SAGITTA_MM = 0.2
CHECK_PER_CIRCLE = 32
OVERHANG_SAMPLE_MM = 10.0
MAX_OVERHANG_SAMPLES = 20_000
MAX_OVERHANG_PAIRS = 400_000  # samples x footprint segments numpy may pair up; above that GEOS goes point by point
OVERHANG_TOLERANCE_MM = 1e-6  # numpy's distances are within this of GEOS's (rounding is ~1e-10 mm at 10 m)

CUTOUT_NAMES = {
    "undermount_sink": "Sink", "dropin_sink": "Sink", "farm_sink": "Farm sink", "cooktop": "Cooktop",
    "faucet_hole": "Faucet hole", "soap_hole": "Soap hole", "outlet": "Outlet", "custom": "Cutout",
}
SIDE_WORDS = {"front": "front edge", "right": "right edge", "back": "back edge", "left": "left edge"}
JOIN_REF = re.compile(r"^(?P<piece>.+)\.(?P<edge>front|right|back|left|edge\d+)"
                      r"(?:\[(?P<a>\d+(?:\.\d+)?):(?P<b>\d+(?:\.\d+)?)\])?$")


@dataclass(frozen=True)
class Rules:
    """Rule thresholds in mm, defaults overridden by options.rules."""

    min_cutout_to_edge: float
    min_hole_to_edge: float
    min_web_between_cutouts: float
    min_cutout_to_seam: float
    min_inside_corner_radius: float
    max_unsupported_overhang: float


def rules_mm(job_mm: JobSpec) -> Rules:
    """Effective thresholds (mm) for a job already in mm."""
    r = job_mm.options.rules
    values = {name: getattr(r, name) if getattr(r, name) is not None else default
              for name, default in DEFAULT_RULES_MM.items()}
    overhang = r.max_unsupported_overhang
    values["max_unsupported_overhang"] = overhang if overhang is not None else max_overhang_mm(job_mm.material.thickness)
    return Rules(**values)


class _Fmt:
    """Lengths in the job's own units, as a fabricator would write them."""

    def __init__(self, units: str) -> None:
        self.units = units

    def __call__(self, mm: float) -> str:
        if self.units == "in":
            return f'{mm / MM_PER_INCH:.2f}"'.replace('.00"', '"')
        return f"{mm:.0f} mm" if abs(mm - round(mm)) < 0.05 or abs(mm) >= 100 else f"{mm:.1f} mm"


def can_rotate(job: JobSpec) -> bool:
    """Pieces may be turned on the slab unless the vein or grain direction must be kept."""
    keep = job.options.grain is not None and job.options.grain.keep_direction
    return not (job.material.vein == "directional" or keep)


def cutout_name(piece: Piece, index: int) -> str:
    """'Sink S1' style name of a cutout."""
    c = piece.cutouts[index]
    return f"{CUTOUT_NAMES.get(c.type, 'Cutout')} {c.id}"


def side_word(piece: Piece, edge: int) -> str:
    """'right edge' for a rect side, 'edge 2' for a polygon edge."""
    if isinstance(piece.shape, RectShape):
        return SIDE_WORDS[g.edge_names(piece)[edge]]
    return f"edge {edge}"


def check(job: JobSpec) -> list[Finding]:
    """Every error and warning for a job as given; messages use the job's own units."""
    fmt = _Fmt(job.units)
    mm = to_mm(job)
    rules = rules_mm(mm)
    findings: list[Finding] = []
    # The outline and its polygon are built once per piece: every rule below reads them.
    shapes: list[tuple[g.Outline, Polygon] | None] = []
    by_id: dict[str, g.Outline] = {}
    for pi, piece in enumerate(mm.pieces):
        path = f"pieces[{pi}]"
        duplicate = any(p.id == piece.id for p in mm.pieces[:pi])
        if duplicate:
            findings.append(Finding("UNKNOWN_REFERENCE", path, f"Piece id {piece.id} is used twice; ids must be unique."))
        shape = _check_piece_shape(piece, path, fmt, findings)
        shapes.append(shape)
        if shape is None:
            continue
        ol, poly = shape
        by_id.setdefault(piece.id, ol)
        _check_slab_fit(mm, piece, poly, rules, path, fmt, findings)
        _check_inside_corners(piece, rules, path, fmt, findings)
    seams = _check_joins(mm, by_id, findings)
    for pi, (piece, shape) in enumerate(zip(mm.pieces, shapes)):
        if shape is None:
            continue
        ol, poly = shape
        own = seams.get(piece.id, []) if by_id.get(piece.id) is ol else []
        _check_cutouts(piece, ol, poly, own, rules, f"pieces[{pi}]", fmt, findings)
        _check_overhang(mm, piece, ol, poly, rules, f"pieces[{pi}]", fmt, findings)
    return findings


def _check_piece_shape(piece: Piece, path: str, fmt: _Fmt,
                       findings: list[Finding]) -> tuple[g.Outline, Polygon] | None:
    """Structural checks of one piece; returns its outline and polygon when the geometry is sound."""
    if not isinstance(piece.shape, RectShape):
        pts, _ = g.raw_vertices(piece)
        reason = g.self_intersection(piece)
        if shapely.MultiPoint(pts).convex_hull.area < 1.0:
            findings.append(Finding("DEGENERATE_PIECE", path, f"Piece {piece.id} has no area: its vertices are "
                                    "on one line or on top of each other."))
            return None
        if reason is not None:
            where = reason.split("[", 1)[-1].rstrip("]") if "[" in reason else ""
            near = ""
            try:
                x, y = (float(v) for v in where.split()[:2])
                near = f" near ({fmt(x)}, {fmt(y)})".replace(" mm,", ",")
            except ValueError:
                pass
            findings.append(Finding("POLYGON_SELF_INTERSECTS", path,
                                    f"The outline of piece {piece.id} crosses itself{near}; list the vertices "
                                    "in order around the piece, counter-clockwise."))
            return None
    for ci, c in enumerate(piece.cutouts):
        problem = g.cutout_missing(c)
        if problem:
            findings.append(Finding("UNKNOWN_REFERENCE", f"{path}.cutouts[{ci}]",
                                    f"{cutout_name(piece, ci)} on {piece.id}: {problem}."))
    ids = [c.id for c in piece.cutouts]
    for ci, c in enumerate(piece.cutouts):
        if c.id in ids[:ci]:
            findings.append(Finding("UNKNOWN_REFERENCE", f"{path}.cutouts[{ci}]",
                                    f"Cutout id {c.id} is used twice on piece {piece.id}."))
    try:
        ol = g.outline(piece)
    except g.GeometryError as e:
        findings.append(Finding("UNKNOWN_REFERENCE", path, f"Piece {e}."))
        return None
    try:
        poly = ol.polygon(CHECK_SAGITTA_MM)
    except g.GeometryError:  # sides so short the outline collapsed
        poly = None
    if poly is None or poly.area < 1.0:  # under a square millimetre is no piece of stone
        findings.append(Finding("DEGENERATE_PIECE", path, f"Piece {piece.id} has no area."))
        return None
    if not poly.is_valid:
        findings.append(Finding("POLYGON_SELF_INTERSECTS", path,
                                f"The corners of piece {piece.id} make its outline cross itself; use smaller corners."))
        return None
    return ol, poly


def _check_slab_fit(job: JobSpec, piece: Piece, poly: Polygon, rules: Rules, path: str, fmt: _Fmt,
                    findings: list[Finding]) -> None:
    """A piece no slab in stock can hold (bbox vs the usable slab area, turned if the stone allows)."""
    minx, miny, maxx, maxy = poly.bounds
    length, depth = maxx - minx, maxy - miny
    margin = job.options.slab_margin
    rotate = can_rotate(job)
    usable = [(s, s.length - 2 * margin, s.width - 2 * margin) for s in job.slab_stock if s.qty is None or s.qty > 0]
    eps = 1e-6
    for _s, ul, uw in usable:
        if (length <= ul + eps and depth <= uw + eps) or (rotate and length <= uw + eps and depth <= ul + eps):
            return
    if not usable:
        findings.append(Finding("PIECE_LARGER_THAN_SLABS", path, f"Piece {piece.id} cannot be cut: no slabs in stock."))
        return
    names = ", ".join(f"{s.id} ({fmt(s.length).removesuffix(' mm')} x {fmt(s.width)})" for s, _, _ in usable)
    # The longest run a slab offers for this piece's depth is where a seam across the length would let it fit.
    runs = [ul for _s, ul, uw in usable if depth <= uw + eps]
    runs += [uw for _s, ul, uw in usable if depth <= ul + eps] if rotate else []
    if runs:
        run = max(runs)
        if length <= 2 * run:
            seam = _seam_clear_of_cutouts(piece, math.floor(run / 10) * 10, rules.min_cutout_to_seam)
            advice = f"Add a seam: split at {fmt(seam)} from the left"
            if length - seam > run:
                advice += " (a cutout is in the way: the right part is still too long, move the cutout or add a second seam)"
        else:
            advice = f"It needs {math.ceil(length / run) - 1} seams, one at least every {fmt(math.floor(run / 10) * 10)}"
    else:
        advice = f"Its depth of {fmt(depth)} is more than any slab's width; it must be split front to back"
    findings.append(Finding("PIECE_LARGER_THAN_SLABS", path,
                            f"Piece {piece.id} ({fmt(length).removesuffix(' mm')} x {fmt(depth)}) is larger than every "
                            f"slab in stock after the {fmt(margin)} margin: {names}. {advice}."))


def _seam_clear_of_cutouts(piece: Piece, seam: float, clearance: float) -> float:
    """Move a suggested seam left until it is `clearance` away from every cutout (seams through sinks break)."""
    for _ in range(len(piece.cutouts) + 1):
        moved = False
        for c in piece.cutouts:
            if g.cutout_missing(c):
                continue
            minx, _, maxx, _ = g.cutout_polygon(c).bounds
            if minx - clearance < seam < maxx + clearance:
                seam = math.floor((minx - clearance) / 10) * 10
                moved = True
        if not moved:
            break
    return max(seam, 10.0)


def _check_inside_corners(piece: Piece, rules: Rules, path: str, fmt: _Fmt, findings: list[Finding]) -> None:
    """Reflex corners concentrate stress: they need a radius of at least min_inside_corner_radius."""
    pts, _ = g.raw_vertices(piece)
    orientation = 1.0 if g.signed_area_vertices(pts) >= 0 else -1.0
    radius = {c.at: c.size for c in piece.corners if c.type == "radius"}
    for i, turn in enumerate(g.vertex_turns(piece)):
        if turn * orientation < -1e-3 and radius.get(i, 0.0) < rules.min_inside_corner_radius - 1e-9:
            have = f"a {fmt(radius[i])} radius" if i in radius else "no radius"
            findings.append(Finding("INSIDE_CORNER_TOO_SHARP", path,
                                    f"Inside corner at vertex {i} of {piece.id} has {have}; give it at least "
                                    f"{fmt(rules.min_inside_corner_radius)} so the stone does not crack there.",
                                    "warning"))


def _check_joins(job: JobSpec, outlines: dict[str, g.Outline], findings: list[Finding]) -> dict[str, list[LineString]]:
    """Validate join references; returns the seam lines (mm, piece frame) per piece id."""
    seams: dict[str, list[LineString]] = {}
    pieces = {p.id: p for p in job.pieces}
    for pid, ol in outlines.items():
        for span in ol.spans:
            if span.kind == "seam":
                seams.setdefault(pid, []).append(g.span_line(span))
    k = MM_PER_INCH if job.units == "in" else 1.0  # join ranges are written in the job's units
    for ji, join in enumerate(job.joins):
        for ref in (join.a, join.b):
            m = JOIN_REF.match(ref)
            problem = None
            if not m:
                problem = f"'{ref}' is not PIECE.EDGE or PIECE.EDGE[from:to] (EDGE: front/right/back/left or edgeN)"
            elif m["piece"] not in pieces:
                problem = f"'{ref}' names piece {m['piece']}, which is not in this job"
            else:
                piece = pieces[m["piece"]]
                names = g.edge_names(piece)
                if m["edge"] not in names:
                    problem = f"'{ref}': piece {piece.id} has edges {', '.join(names[:6])}{'...' if len(names) > 6 else ''}"
                elif piece.id in outlines:
                    ol = outlines[piece.id]
                    e = names.index(m["edge"])
                    length = ol.edge_lengths[e]
                    a = float(m["a"]) * k if m["a"] else 0.0
                    b = float(m["b"]) * k if m["b"] else length
                    if b <= a or b > length + 0.5:
                        problem = f"'{ref}': the range must lie within the edge (0 to {length / k:g})"
                    else:
                        n = len(ol.vertices)
                        raw = g.Seg(ol.vertices[e], ol.vertices[(e + 1) % n], _bulge(piece, e))
                        span = g.Span(raw.sub(a / length, b / length), "seam", None, e)
                        seams.setdefault(piece.id, []).append(g.span_line(span))
            if problem:
                findings.append(Finding("UNKNOWN_REFERENCE", f"joins[{ji}]", f"Join {ji}: {problem}."))
    return seams


def _bulge(piece: Piece, edge: int) -> float:
    _, bulges = g.raw_vertices(piece)
    return bulges[edge]


def _nearest_edge(piece: Piece, ol: g.Outline, point: tuple[float, float]) -> int | None:
    """Index of the original edge nearest a point (for 'past the right edge' messages)."""
    best, best_d = None, math.inf
    for span in ol.spans:
        if span.edge is None:
            continue
        d = span.seg.distance_to(point)
        if d < best_d:
            best, best_d = span.edge, d
    return best


def _check_cutouts(piece: Piece, ol: g.Outline, poly: Polygon, seams: list[LineString], rules: Rules, path: str,
                   fmt: _Fmt, findings: list[Finding]) -> None:
    """Cutouts inside the piece, clear of edges, seams and each other."""
    boundary = poly.exterior
    cover: Polygon | None = None  # the piece grown by a micrometre, built only for a cutout that touches the edge
    inside: list[tuple[int, Polygon]] = []
    for ci, c in enumerate(piece.cutouts):
        if g.cutout_missing(c):
            continue
        cpath = f"{path}.cutouts[{ci}]"
        name = cutout_name(piece, ci)
        cp = g.to_polygon(g.cutout_segs(c), CHECK_SAGITTA_MM, CHECK_PER_CIRCLE)
        # A farm (apron) sink is notched through the front edge, so it may cross the outline, but not miss it.
        if c.type == "farm_sink":
            if not cp.intersects(poly):
                findings.append(Finding("CUTOUT_OUTSIDE_PIECE", cpath, f"{name} lies entirely outside {piece.id}."))
            continue
        # What the piece covers, its grown twin covers too: the buffer is only needed for a cutout on the edge.
        if not poly.covers(cp) and not (cover := cover or poly.buffer(1e-6)).covers(cp):
            coords = np.asarray(cp.exterior.coords)
            dists = shapely.distance(shapely.points(coords), poly)
            far = int(np.argmax(dists))
            edge = _nearest_edge(piece, ol, (coords[far][0], coords[far][1]))
            where = f"past the {side_word(piece, edge)} of {piece.id}" if edge is not None else f"outside {piece.id}"
            if cp.intersection(poly).area < 1e-6:
                msg = f"{name} lies entirely outside {piece.id}, up to {fmt(float(dists[far]))} {where}."
            else:
                msg = f"{name} reaches {fmt(float(dists[far]))} {where}."
            findings.append(Finding("CUTOUT_OUTSIDE_PIECE", cpath, msg))
            continue
        inside.append((ci, cp))
        limit = rules.min_hole_to_edge if c.type in g.HOLE_TYPES else rules.min_cutout_to_edge
        d = boundary.distance(cp)
        if d < limit - 1e-6:
            nearest = nearest_points(boundary, cp)[0]
            edge = _nearest_edge(piece, ol, (nearest.x, nearest.y))
            side = side_word(piece, edge) if edge is not None else "a rounded corner"
            findings.append(Finding("CUTOUT_TOO_CLOSE_TO_EDGE", cpath,
                                    f"{name} is {fmt(d)} from the {side} of {piece.id}; keep at least {fmt(limit)} "
                                    "of stone there or it may crack.", "warning"))
        for seam in seams:
            ds = seam.distance(cp)
            if ds < rules.min_cutout_to_seam - 1e-6:
                findings.append(Finding("CUTOUT_TOO_CLOSE_TO_SEAM", cpath,
                                        f"{name} is {fmt(ds)} from a seam of {piece.id}; keep at least "
                                        f"{fmt(rules.min_cutout_to_seam)}.", "warning"))
                break
    if len(inside) < 2:
        return
    geoms = [cp for _, cp in inside]
    tree = STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=max(rules.min_web_between_cutouts, 1e-6))
    for a, b in sorted({(int(x), int(y)) for x, y in zip(left, right) if x < y}):
        (ia, pa), (ib, pb) = inside[a], inside[b]
        na, nb = cutout_name(piece, ia), cutout_name(piece, ib)
        if pa.intersection(pb).area > 1e-3:
            findings.append(Finding("CUTOUTS_OVERLAP", f"{path}.cutouts[{ib}]", f"{nb} overlaps {na} on {piece.id}."))
            continue
        d = pa.distance(pb)
        if d < rules.min_web_between_cutouts - 1e-6:
            findings.append(Finding("WEB_TOO_NARROW", f"{path}.cutouts[{ib}]",
                                    f"Only {fmt(d)} of stone between {na} and {nb} on {piece.id}; keep at least "
                                    f"{fmt(rules.min_web_between_cutouts)}.", "warning"))


def _farthest_sample(coords: np.ndarray, foot: Polygon, limit: float) -> tuple[int, float] | None:
    """The sample farthest from the footprint (first index, distance), or None when none is beyond `limit`.

    What `argmax(shapely.distance(shapely.points(coords), foot))` finds, to within OVERHANG_TOLERANCE_MM, without a
    GEOS point per sample (that was most of a submission's CPU): numpy measures every sample against every segment
    of the footprint's rings, and GEOS only says which of the samples beyond `limit` are inside the footprint
    (distance 0). Above MAX_OVERHANG_PAIRS sample-segment pairs GEOS measures point by point instead.
    """
    parts = [] if foot.is_empty else [foot] if foot.geom_type == "Polygon" else \
        list(foot.geoms) if foot.geom_type == "MultiPolygon" else []
    rings = [np.asarray(r.coords) for part in parts for r in (part.exterior, *part.interiors)]
    if not rings or len(coords) * sum(len(r) - 1 for r in rings) > MAX_OVERHANG_PAIRS:
        dists = shapely.distance(shapely.points(coords), foot)
    else:
        # Segments down, samples across: numpy's inner loops then run along the samples, not the few segments.
        a = np.concatenate([r[:-1] for r in rings])
        seg = np.concatenate([r[1:] for r in rings]) - a
        ax, ay, ex, ey = (np.ascontiguousarray(v)[:, None] for v in (a[:, 0], a[:, 1], seg[:, 0], seg[:, 1]))
        len2 = ex * ex + ey * ey
        dx = np.ascontiguousarray(coords[:, 0]) - ax
        dy = np.ascontiguousarray(coords[:, 1]) - ay
        t = np.clip((dx * ex + dy * ey) / np.where(len2 > 0, len2, 1.0), 0.0, 1.0)  # the nearest point's fraction
        dx -= t * ex
        dy -= t * ey
        dists = np.sqrt((dx * dx + dy * dy).min(axis=0))
        beyond = np.flatnonzero(dists > limit)  # only these can be the answer; those inside the footprint are at 0
        dists[beyond[shapely.intersects_xy(foot, coords[beyond, 0], coords[beyond, 1])]] = 0.0
    far = int(np.argmax(dists))
    worst = float(dists[far])
    return None if worst <= limit else (far, worst)


def _overhang_samples(boundary: LinearRing, foot: Polygon) -> np.ndarray:
    """The points of the piece's outline whose distance to the footprint is measured: every OVERHANG_SAMPLE_MM.

    Under a convex footprint (most are: a run of cabinets is a rectangle) the outline's own vertices give the
    same farthest distance: the distance to a convex set is a convex function along a straight line, so along
    each side of the outline it is largest at one of the side's ends, and the points in between cannot beat both.
    """
    if foot.geom_type == "Polygon" and not foot.interiors and foot.convex_hull.area - foot.area <= 1e-9 * foot.area:
        return np.asarray(boundary.coords)
    step = max(OVERHANG_SAMPLE_MM, boundary.length / MAX_OVERHANG_SAMPLES)
    return np.asarray(shapely.segmentize(boundary, step).coords)


def _check_overhang(job: JobSpec, piece: Piece, ol: g.Outline, poly: Polygon, rules: Rules, path: str, fmt: _Fmt,
                    findings: list[Finding]) -> None:
    """Stone past the cabinets farther than the limit needs corbels or brackets."""
    if piece.support is None or not piece.support.cabinet_footprint:
        return
    foot = g.footprint_polygon(piece.support.cabinet_footprint)
    if not foot.is_valid:
        foot = foot.buffer(0)
    if foot.is_empty or foot.area < 1.0:  # points in a line or on top of each other: nothing to measure against
        findings.append(Finding("INVALID_FOOTPRINT", f"{path}.support.cabinet_footprint",
                                f"The cabinet footprint under {piece.id} has no area (its corners are in a line or "
                                "repeat); give the outline of the cabinets, at least three corners around them.",
                                "error"))
        return
    coords = _overhang_samples(poly.exterior, foot)
    limit = rules.max_unsupported_overhang + 0.5  # half a millimetre: drawings are not that exact
    farthest = _farthest_sample(coords, foot, limit)
    if farthest is None:
        return
    far, worst = farthest
    edge = _nearest_edge(piece, ol, (coords[far][0], coords[far][1]))
    where = f" at the {side_word(piece, edge)}" if edge is not None else ""
    thick = fmt(job.material.thickness)
    findings.append(Finding("OVERHANG_NEEDS_SUPPORT", path,
                            f"{piece.id} overhangs its cabinets by {fmt(worst)}{where}; more than "
                            f"{fmt(rules.max_unsupported_overhang)} unsupported in {thick} stone needs corbels or "
                            "a support bracket.", "warning"))
