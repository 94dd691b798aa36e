"""Rules on cutouts: inside the piece, clear of its edges and seams, and of each other."""

from __future__ import annotations

import numpy as np
import shapely
from shapely import STRtree
from shapely.geometry import LineString, Polygon
from shapely.ops import nearest_points

from engine import geometry
from engine.checks.common import (CHECK_PER_CIRCLE, CHECK_SAGITTA_MM, LengthFormat, Thresholds, cutout_name,
                                  nearest_edge, side_word)
from engine.model import Finding
from engine.spec import Piece

__all__ = ["check_cutouts"]


def check_cutouts(piece: Piece, outline: geometry.Outline, poly: Polygon, seams: list[LineString], limits: Thresholds,
                  path: str, fmt: LengthFormat, findings: list[Finding]) -> None:
    """Cutouts inside the piece, clear of edges, seams and each other."""
    boundary = poly.exterior
    cover: Polygon | None = None  # the piece grown by a micrometre, built only for a cutout that touches the edge
    inside: list[tuple[int, Polygon]] = []
    for ci, cutout in enumerate(piece.cutouts):
        if geometry.cutout_missing(cutout):
            continue
        cpath = f"{path}.cutouts[{ci}]"
        name = cutout_name(piece, ci)
        cp = geometry.to_polygon(geometry.cutout_segs(cutout), CHECK_SAGITTA_MM, CHECK_PER_CIRCLE)
        # A farm (apron) sink is notched through the front edge, so it may cross the outline, but not miss it.
        if cutout.type == "farm_sink":
            if not cp.intersects(poly):
                findings.append(Finding("CUTOUT_OUTSIDE_PIECE", cpath, f"{name} lies entirely outside {piece.id}."))
            continue
        # What the piece covers, its grown twin covers too: the buffer is only needed for a cutout on the edge.
        if not poly.covers(cp) and not (cover := cover or poly.buffer(1e-6)).covers(cp):
            coords = np.asarray(cp.exterior.coords)
            dists = shapely.distance(shapely.points(coords), poly)
            far = int(np.argmax(dists))
            edge = nearest_edge(piece, outline, (coords[far][0], coords[far][1]))
            where = f"past the {side_word(piece, edge)} of {piece.id}" if edge is not None else f"outside {piece.id}"
            if cp.intersection(poly).area < 1e-6:
                msg = f"{name} lies entirely outside {piece.id}, up to {fmt(float(dists[far]))} {where}."
            else:
                msg = f"{name} reaches {fmt(float(dists[far]))} {where}."
            findings.append(Finding("CUTOUT_OUTSIDE_PIECE", cpath, msg))
            continue
        inside.append((ci, cp))
        limit = limits.min_hole_to_edge if cutout.type in geometry.HOLE_TYPES else limits.min_cutout_to_edge
        gap = boundary.distance(cp)
        if gap < limit - 1e-6:
            nearest = nearest_points(boundary, cp)[0]
            edge = nearest_edge(piece, outline, (nearest.x, nearest.y))
            side = side_word(piece, edge) if edge is not None else "a rounded corner"
            findings.append(Finding("CUTOUT_TOO_CLOSE_TO_EDGE", cpath,
                                    f"{name} is {fmt(gap)} from the {side} of {piece.id}; keep at least {fmt(limit)} "
                                    "of stone there or it may crack.", "warning"))
        to_seam = limits.cutout_to_seam(cutout.type)
        for seam in seams:
            ds = seam.distance(cp)
            if ds < to_seam - 1e-6:
                findings.append(Finding("CUTOUT_TOO_CLOSE_TO_SEAM", cpath,
                                        f"{name} is {fmt(ds)} from a seam of {piece.id}; keep at least "
                                        f"{fmt(to_seam)}.", "warning"))
                break
    if len(inside) < 2:
        return
    geoms = [cp for _, cp in inside]
    tree = STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=max(limits.min_web_between_cutouts, 1e-6))
    for a, b in sorted({(int(x), int(y)) for x, y in zip(left, right) if x < y}):
        (ia, pa), (ib, pb) = inside[a], inside[b]
        na, nb = cutout_name(piece, ia), cutout_name(piece, ib)
        if pa.intersection(pb).area > 1e-3:
            findings.append(Finding("CUTOUTS_OVERLAP", f"{path}.cutouts[{ib}]", f"{nb} overlaps {na} on {piece.id}."))
            continue
        web = pa.distance(pb)
        if web < limits.min_web_between_cutouts - 1e-6:
            findings.append(Finding("WEB_TOO_NARROW", f"{path}.cutouts[{ib}]",
                                    f"Only {fmt(web)} of stone between {na} and {nb} on {piece.id}; keep at least "
                                    f"{fmt(limits.min_web_between_cutouts)}.", "warning"))
