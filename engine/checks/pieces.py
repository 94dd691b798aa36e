"""Rules on a piece as a whole: a sound outline, a slab that holds it, inside corners with a radius."""

from __future__ import annotations

import math

import shapely
from shapely.geometry import Polygon

from engine import geometry
from engine.checks.common import CHECK_SAGITTA_MM, LengthFormat, Thresholds, can_rotate, cutout_name
from engine.model import Finding
from engine.spec import JobSpec, Piece, RectShape

__all__ = ["check_inside_corners", "check_piece_shape", "check_slab_fit"]


def check_piece_shape(piece: Piece, path: str, fmt: LengthFormat,
                       findings: list[Finding]) -> tuple[geometry.Outline, Polygon] | None:
    """Structural checks of one piece; returns its outline and polygon when the geometry is sound."""
    if not isinstance(piece.shape, RectShape):
        pts, _ = geometry.raw_vertices(piece)
        reason = geometry.self_intersection(piece)
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
    for ci, cutout in enumerate(piece.cutouts):
        problem = geometry.cutout_missing(cutout)
        if problem:
            findings.append(Finding("UNKNOWN_REFERENCE", f"{path}.cutouts[{ci}]",
                                    f"{cutout_name(piece, ci)} on {piece.id}: {problem}."))
    ids = [cutout.id for cutout in piece.cutouts]
    for ci, cutout in enumerate(piece.cutouts):
        if cutout.id in ids[:ci]:
            findings.append(Finding("UNKNOWN_REFERENCE", f"{path}.cutouts[{ci}]",
                                    f"Cutout id {cutout.id} is used twice on piece {piece.id}."))
    try:
        outline = geometry.outline(piece)
    except geometry.GeometryError as err:
        findings.append(Finding("UNKNOWN_REFERENCE", path, f"Piece {err}."))
        return None
    try:
        poly = outline.polygon(CHECK_SAGITTA_MM)
    except geometry.GeometryError:  # sides so short the outline collapsed
        poly = None
    if poly is None or poly.area < 1.0:  # under a square millimetre is no piece of stone
        findings.append(Finding("DEGENERATE_PIECE", path, f"Piece {piece.id} has no area."))
        return None
    if not poly.is_valid:
        findings.append(Finding("POLYGON_SELF_INTERSECTS", path,
                                f"The corners of piece {piece.id} make its outline cross itself; use smaller corners."))
        return None
    return outline, poly


def check_slab_fit(job: JobSpec, piece: Piece, poly: Polygon, limits: Thresholds, path: str, fmt: LengthFormat,
                    findings: list[Finding]) -> None:
    """A piece no slab in stock can hold (bbox vs the usable slab area, turned if the stone allows)."""
    if isinstance(job.slab_stock, str):
        return  # the yard's slabs are known when the job is nested, not when it is submitted
    minx, miny, maxx, maxy = poly.bounds
    length, depth = maxx - minx, maxy - miny
    margin = job.options.slab_margin
    rotate = can_rotate(job)
    usable = [(slab, slab.length - 2 * margin, slab.width - 2 * margin) for slab in job.slab_stock
              if slab.qty is None or slab.qty > 0]
    eps = 1e-6
    for _, ul, uw in usable:
        if (length <= ul + eps and depth <= uw + eps) or (rotate and length <= uw + eps and depth <= ul + eps):
            return
    if not usable:
        findings.append(Finding("PIECE_LARGER_THAN_SLABS", path, f"Piece {piece.id} cannot be cut: no slabs in stock."))
        return
    names = ", ".join(f"{slab.id} ({fmt(slab.length).removesuffix(' mm')} x {fmt(slab.width)})"
                      for slab, _, _ in usable)
    too_large = (f"Piece {piece.id} ({fmt(length).removesuffix(' mm')} x {fmt(depth)}) is larger than every slab in "
                 f"stock after the {fmt(margin)} margin: {names}.")
    if job.options.auto_seams:
        from engine.seams import SeamError, plan_piece  # the planner sits above the checks: it reads their rules

        try:
            plan_piece(job, piece, limits, fmt)
            return  # the CAD stage places the seams
        except SeamError as err:
            findings.append(Finding("PIECE_LARGER_THAN_SLABS", path, f"{too_large} No seam keeps the rules: {err}."))
            return
    # The longest run a slab offers for this piece's depth is where a seam across the length would let it fit.
    runs = [ul for _, ul, uw in usable if depth <= uw + eps]
    runs += [uw for _, ul, uw in usable if depth <= ul + eps] if rotate else []
    if runs:
        run = max(runs)
        if length <= 2 * run:
            seam = _seam_clear_of_cutouts(piece, math.floor(run / 10) * 10, limits.min_cutout_to_seam)
            advice = f"Add a seam: split at {fmt(seam)} from the left"
            if length - seam > run:
                advice += " (a cutout is in the way: the right part is still too long, move the cutout or add a second seam)"
        else:
            advice = f"It needs {math.ceil(length / run) - 1} seams, one at least every {fmt(math.floor(run / 10) * 10)}"
        advice += " (or set options.auto_seams to place them by the rules)"
    else:
        advice = f"Its depth of {fmt(depth)} is more than any slab's width; it must be split front to back"
    findings.append(Finding("PIECE_LARGER_THAN_SLABS", path, f"{too_large} {advice}."))


def _seam_clear_of_cutouts(piece: Piece, seam: float, clearance: float) -> float:
    """Move a suggested seam left until it is `clearance` away from every cutout (seams through sinks break)."""
    for _ in range(len(piece.cutouts) + 1):
        moved = False
        for cutout in piece.cutouts:
            if geometry.cutout_missing(cutout):
                continue
            minx, _, maxx, _ = geometry.cutout_polygon(cutout).bounds
            if minx - clearance < seam < maxx + clearance:
                seam = math.floor((minx - clearance) / 10) * 10
                moved = True
        if not moved:
            break
    return max(seam, 10.0)


def check_inside_corners(piece: Piece, limits: Thresholds, path: str, fmt: LengthFormat,
                         findings: list[Finding]) -> None:
    """Reflex corners concentrate stress: they need a radius of at least min_inside_corner_radius."""
    pts, _ = geometry.raw_vertices(piece)
    orientation = 1.0 if geometry.signed_area_vertices(pts) >= 0 else -1.0
    radius = {corner.at: corner.size for corner in piece.corners if corner.type == "radius"}
    for i, turn in enumerate(geometry.vertex_turns(piece)):
        if turn * orientation < -1e-3 and radius.get(i, 0.0) < limits.min_inside_corner_radius - 1e-9:
            have = f"a {fmt(radius[i])} radius" if i in radius else "no radius"
            findings.append(Finding("INSIDE_CORNER_TOO_SHARP", path,
                                    f"Inside corner at vertex {i} of {piece.id} has {have}; give it at least "
                                    f"{fmt(limits.min_inside_corner_radius)} so the stone does not crack there.",
                                    "warning"))
