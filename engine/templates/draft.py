"""Closed loops -> a v1 job draft: outer loops are pieces, loops inside them cutouts (sized as the spec's
rect / oval / circle), edges marked by their layer or linetype, texts inside a piece used as its label."""

from __future__ import annotations

import math
from typing import Any

import shapely

from engine.geometry import Seg, area, cutout_polygon, to_polygon
from engine.spec import Cutout
from engine.templates.chain import Loop
from engine.templates.model import MAX_CUTOUTS, MAX_PIECES, MAX_VERTICES, Defaults, Problem, TemplateError, role_of
from engine.templates.read import Text, Vertex

FAUCET_MAX_MM = 60.0  # a round hole up to this diameter is a faucet/tap hole
OUTLET_MAX_MM = 150.0  # a sharp rectangle up to this side is an outlet
SINK_MIN_RADIUS_MM = 5.0  # a rectangle with rounder corners than this is a sink, sharper a cooktop
FIT = 0.005  # a loop is a rect/oval/circle when it differs from one by under 0.5 % of its area
EDGE_KIND = {"wall": "wall", "finished": "finished", "sawn": "sawn", "seam": "seam", "appliance": "appliance",
             "splash_base": "splash_base"}
CUTOUT_TYPE = {"sink": "undermount_sink", "cooktop": "cooktop", "faucet": "faucet_hole"}


def segs_of(verts: list[Vertex]) -> list[Seg]:
    return [Seg(vert[:2], next_vert[:2], vert[2]) for vert, next_vert in zip(verts, verts[1:] + verts[:1])]


def reverse_closed(loop: Loop) -> Loop:
    count = len(loop.verts)
    order = [(count - 2 - step) % count for step in range(count)]
    verts = [(x, y, -loop.verts[index][2]) for (x, y, _), index in zip(loop.verts[::-1], order)]
    return Loop(verts, [loop.sources[index] for index in order], loop.entity)


def _rounded(value: float) -> float:
    return round(float(value), 4) + 0.0  # no -0.0 (nor numpy floats) in the draft


def build(loops: list[Loop], texts: list[Text], units: str, defaults: Defaults, thickness: float,
          problems: list[Problem]) -> dict[str, Any]:
    mm_per_unit = 25.4 if units == "in" else 1.0  # job units -> mm, for the size rules above
    roles = defaults.layers
    loops = [loop for loop in loops if role_of(loop.sources[0].layer, loop.sources[0].linetype, roles) != "ignore"]
    polys = []
    for loop in loops:
        if len(loop.verts) < 2 or (len(loop.verts) == 2 and all(abs(vert[2]) < 1e-9 for vert in loop.verts)):
            problems.append(Problem("DEGENERATE_OUTLINE", loop.handle, "a closed outline with no area was left out",
                                    "delete it in CAD"))
            continue
        poly = to_polygon(segs_of(loop.verts), max_sagitta=0.05 / mm_per_unit)
        if not poly.is_valid:
            problems.append(Problem("SELF_INTERSECTING", loop.handle, "the outline crosses itself; it was left out",
                                    "redraw it so no two edges cross"))
            continue
        if not shapely.is_ccw(poly.exterior):
            loop = reverse_closed(loop)
        polys.append((loop, poly))
    polys.sort(key=lambda pair: -pair[1].area)
    tree = shapely.STRtree([poly for _, poly in polys])
    depth: list[int] = []
    parent: list[int | None] = []
    for i, (_, poly) in enumerate(polys):
        inside = [j for j in tree.query(poly.representative_point(), predicate="within").tolist()
                  if j < i and polys[j][1].contains(poly)]
        container = max(inside) if inside else None  # sorted by area: the highest index is the smallest container
        parent.append(container)
        depth.append(0 if container is None else depth[container] + 1)
    piece_of: dict[int, dict[str, Any]] = {}
    pieces: list[dict[str, Any]] = []
    for i, (loop, poly) in enumerate(polys):
        if depth[i] % 2 == 0:
            if len(pieces) >= MAX_PIECES:
                raise TemplateError("TOO_MANY_PIECES", f"the drawing has more than {MAX_PIECES} pieces",
                                    "split the job into several files", problems)
            piece = _piece(loop, poly, len(pieces) + 1, defaults, problems)
            piece_of[i] = piece
            pieces.append(piece)
        else:
            host = piece_of[parent[i]]  # type: ignore[index]
            if len(host["cutouts"]) >= MAX_CUTOUTS:
                raise TemplateError("TOO_MANY_CUTOUTS", f"piece {host['id']} has more than {MAX_CUTOUTS} cutouts",
                                    "check the drawing for stray loops inside the piece", problems)
            cutout = _cutout(loop, poly, f"{host['id']}-C{len(host['cutouts']) + 1}", mm_per_unit, roles, problems)
            if cutout is not None:
                origin_x, origin_y = host["_origin"]
                center = cutout["center"]
                cutout["center"] = [_rounded(center[0] - origin_x), _rounded(center[1] - origin_y)]
                host["cutouts"].append(cutout)
    texts = [text for text in texts if role_of(text.layer, "CONTINUOUS", roles) != "ignore"]
    _label(pieces, [poly for i, (_, poly) in enumerate(polys) if depth[i] % 2 == 0], texts, problems)
    for piece in pieces:
        piece.pop("_origin")
        if not piece["cutouts"]:
            del piece["cutouts"]
    if not pieces:
        raise TemplateError("NO_PIECES", "no closed outline was found in the drawing",
                            "see the problems: close the outlines and import again", problems)
    slab = (126.0, 63.0) if units == "in" else (3200.0, 1600.0)
    return {"spec_version": "1.0", "job": {"id": defaults.job_id, "name": defaults.job_name}, "units": units,
            "material": {"name": defaults.material, "type": defaults.material_type, "thickness": thickness},
            "slab_stock": [{"id": "JUMBO", "length": slab[0], "width": slab[1], "qty": None, "kind": "full"}],
            "pieces": pieces}


def _piece(loop: Loop, poly: Any, number: int, defaults: Defaults, problems: list[Problem]) -> dict[str, Any]:
    if len(loop.verts) > MAX_VERTICES:
        raise TemplateError("TOO_MANY_VERTICES", f"the outline of {loop.handle} has {len(loop.verts)} vertices, more "
                            f"than the {MAX_VERTICES} a piece may have", "simplify the outline (fewer, longer "
                            "segments; arcs instead of many short lines)", problems)
    origin_x, origin_y, _, _ = poly.bounds
    roles = [role_of(source.layer, source.linetype, defaults.layers) for source in loop.sources]
    edges = []
    for role in roles:
        kind = EDGE_KIND.get(role, defaults.edge_default)
        edges.append({"kind": kind, "profile": defaults.edge_profile} if kind == "finished" else {"kind": kind})
    splash = sum(role == "backsplash" for role in roles) * 2 >= len(roles)
    return {"id": f"P{number}", "type": "backsplash" if splash else "countertop",
            "shape": {"type": "polygon", "vertices": [
                [_rounded(x - origin_x), _rounded(y - origin_y)] + ([_rounded(bulge)] if abs(bulge) > 1e-9 else [])
                for x, y, bulge in loop.verts]},
            "edges": edges, "cutouts": [], "_origin": (origin_x, origin_y)}


def _envelope(poly: Any) -> tuple[float, float, float, float, float]:
    """Centre, long side, short side and the long side's angle (degrees in (-90, 90]) of the oriented envelope."""
    envelope = shapely.oriented_envelope(poly)
    (ax, ay), (bx, by), (cx, cy) = list(envelope.exterior.coords)[:3]
    side_a, side_b = math.dist((ax, ay), (bx, by)), math.dist((bx, by), (cx, cy))
    if side_a >= side_b:
        length, width, angle = side_a, side_b, math.degrees(math.atan2(by - ay, bx - ax))
    else:
        length, width, angle = side_b, side_a, math.degrees(math.atan2(cy - by, cx - bx))
    angle = (angle + 90.0) % 180.0 - 90.0
    if angle <= -90.0 + 1e-9:
        angle += 180.0
    centre = envelope.centroid
    return centre.x, centre.y, length, width, angle


def _cutout(loop: Loop, poly: Any, cutout_id: str, mm_per_unit: float, roles: dict[str, str],
            problems: list[Problem]) -> dict[str, Any] | None:
    role = role_of(loop.sources[0].layer, loop.sources[0].linetype, roles)
    entity = loop.entity
    centre_x, centre_y, length, width, rotation = _envelope(poly)
    candidates: list[dict[str, Any]] = []
    if entity is not None and entity.circle:
        candidates = [{"shape": "circle", "center": list(entity.circle[:2]), "diameter": 2 * entity.circle[2]}]
    elif entity is not None and entity.ellipse:
        ellipse_x, ellipse_y, semi_major, semi_minor, ellipse_rotation = entity.ellipse
        ellipse_rotation = (ellipse_rotation + 90.0) % 180.0 - 90.0
        candidates = [{"shape": "oval", "center": [ellipse_x, ellipse_y], "length": 2 * semi_major,
                       "width": 2 * semi_minor, "rotation": ellipse_rotation}]
    else:
        quarter = [seg for seg in segs_of(loop.verts) if abs(abs(seg.bulge) - math.tan(math.pi / 8)) < 0.01]
        radius = sum(seg.chord for seg in quarter) / len(quarter) / math.sqrt(2) if quarter else 0.0
        candidates = [{"shape": "circle", "center": [centre_x, centre_y], "diameter": (length + width) / 2},
                      {"shape": "rect", "center": [centre_x, centre_y], "length": length, "width": width,
                       "corner_radius": min(radius, width / 2), "rotation": rotation},
                      {"shape": "oval", "center": [centre_x, centre_y], "length": length, "width": width,
                       "rotation": rotation}]
    # a CIRCLE or ELLIPSE entity is its shape exactly: only drawn loops are fitted (a shapely overlay each)
    best = (0.0, candidates[0]) if entity is not None and (entity.circle or entity.ellipse) else None
    for candidate in candidates if best is None else []:
        shape = Cutout(id="x", type="custom", **candidate)
        miss = cutout_polygon(shape).symmetric_difference(poly).area / poly.area
        if miss < FIT and (best is None or miss < best[0]):
            best = (miss, candidate)
    if best is None:
        problems.append(Problem("CUTOUT_UNSUPPORTED", loop.handle, f"the loop {loop.handle} inside a piece is not a "
                                "rectangle, rounded rectangle, oval or circle, which is all a v1 cutout can be; "
                                "it was left out", "add it by hand after import, or redraw it as one of those shapes"))
        return None
    candidate = best[1]
    cutout_type = CUTOUT_TYPE.get(role)
    if cutout_type is None:
        size = candidate.get("diameter") or max(candidate["length"], candidate["width"])
        if candidate["shape"] == "circle":
            cutout_type = "faucet_hole" if size * mm_per_unit <= FAUCET_MAX_MM else "custom"
        else:
            if candidate["shape"] == "oval" or candidate.get("corner_radius", 0) * mm_per_unit >= SINK_MIN_RADIUS_MM:
                cutout_type = "undermount_sink"
            else:
                cutout_type = "outlet" if size * mm_per_unit <= OUTLET_MAX_MM else "cooktop"
            problems.append(Problem("CUTOUT_GUESSED", loop.handle, f"cutout {cutout_id} taken as {cutout_type} from "
                                    f"its shape ({candidate['shape']}, {_rounded(candidate['length'])} x "
                                    f"{_rounded(candidate['width'])})",
                                    "check its type in the draft, or draw it on a SINK or COOKTOP layer"))
    out: dict[str, Any] = {"id": cutout_id, "type": cutout_type}
    for key, value in candidate.items():
        if key == "center" or isinstance(value, str):
            out[key] = value
        elif key == "rotation":
            if abs(value) > 1e-6:
                out[key] = round(value, 4)
        elif key != "corner_radius" or value > 1e-6:
            out[key] = _rounded(value)
    return out


def _label(pieces: list[dict[str, Any]], polys: list[Any], texts: list[Text], problems: list[Problem]) -> None:
    for text in texts:
        point = shapely.Point(text.x, text.y)
        for piece, poly in zip(pieces, polys):
            if poly.contains(point):
                used = "label" not in piece
                if used:
                    piece["label"] = text.text
                problems.append(Problem("TEXT_IN_PIECE", text.handle, f"text {text.text!r} inside piece {piece['id']}"
                                        + (" was used as its label" if used else " was ignored (it has a label)"),
                                        "check the label; put notes outside the outlines or on a TEXT layer"))
                break


__all__ = ["build", "area", "segs_of"]
