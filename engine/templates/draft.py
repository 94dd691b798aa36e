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
from engine.templates.read import Text, V

FAUCET_MAX_MM = 60.0  # a round hole up to this diameter is a faucet/tap hole
OUTLET_MAX_MM = 150.0  # a sharp rectangle up to this side is an outlet
SINK_MIN_RADIUS_MM = 5.0  # a rectangle with rounder corners than this is a sink, sharper a cooktop
FIT = 0.005  # a loop is a rect/oval/circle when it differs from one by under 0.5 % of its area
EDGE_KIND = {"wall": "wall", "finished": "finished", "sawn": "sawn", "seam": "seam", "appliance": "appliance",
             "splash_base": "splash_base"}
CUTOUT_TYPE = {"sink": "undermount_sink", "cooktop": "cooktop", "faucet": "faucet_hole"}


def segs_of(verts: list[V]) -> list[Seg]:
    return [Seg(v[:2], w[:2], v[2]) for v, w in zip(verts, verts[1:] + verts[:1])]


def reverse_closed(loop: Loop) -> Loop:
    n = len(loop.verts)
    idx = [(n - 2 - j) % n for j in range(n)]
    verts = [(x, y, -loop.verts[i][2]) for (x, y, _), i in zip(loop.verts[::-1], idx)]
    return Loop(verts, [loop.sources[i] for i in idx], loop.entity)


def _r(v: float) -> float:
    return round(float(v), 4) + 0.0  # no -0.0 (nor numpy floats) in the draft


def build(loops: list[Loop], texts: list[Text], units: str, defaults: Defaults, thickness: float,
          problems: list[Problem]) -> dict[str, Any]:
    mm = 25.4 if units == "in" else 1.0  # job units -> mm, for the size rules above
    roles = defaults.layers
    loops = [lp for lp in loops if role_of(lp.sources[0].layer, lp.sources[0].linetype, roles) != "ignore"]
    polys = []
    for lp in loops:
        if len(lp.verts) < 2 or (len(lp.verts) == 2 and all(abs(v[2]) < 1e-9 for v in lp.verts)):
            problems.append(Problem("DEGENERATE_OUTLINE", lp.handle, "a closed outline with no area was left out",
                                    "delete it in CAD"))
            continue
        poly = to_polygon(segs_of(lp.verts), max_sagitta=0.05 / mm)
        if not poly.is_valid:
            problems.append(Problem("SELF_INTERSECTING", lp.handle, "the outline crosses itself; it was left out",
                                    "redraw it so no two edges cross"))
            continue
        if not shapely.is_ccw(poly.exterior):
            lp = reverse_closed(lp)
        polys.append((lp, poly))
    polys.sort(key=lambda t: -t[1].area)
    tree = shapely.STRtree([p for _, p in polys])
    depth: list[int] = []
    parent: list[int | None] = []
    for i, (_, poly) in enumerate(polys):
        inside = [j for j in tree.query(poly.representative_point(), predicate="within").tolist()
                  if j < i and polys[j][1].contains(poly)]
        par = max(inside) if inside else None  # sorted by area: the highest index is the smallest container
        parent.append(par)
        depth.append(0 if par is None else depth[par] + 1)
    piece_of: dict[int, dict[str, Any]] = {}
    pieces: list[dict[str, Any]] = []
    for i, (lp, poly) in enumerate(polys):
        if depth[i] % 2 == 0:
            if len(pieces) >= MAX_PIECES:
                raise TemplateError("TOO_MANY_PIECES", f"the drawing has more than {MAX_PIECES} pieces",
                                    "split the job into several files", problems)
            piece = _piece(lp, poly, len(pieces) + 1, defaults, problems)
            piece_of[i] = piece
            pieces.append(piece)
        else:
            host = piece_of[parent[i]]  # type: ignore[index]
            if len(host["cutouts"]) >= MAX_CUTOUTS:
                raise TemplateError("TOO_MANY_CUTOUTS", f"piece {host['id']} has more than {MAX_CUTOUTS} cutouts",
                                    "check the drawing for stray loops inside the piece", problems)
            cut = _cutout(lp, poly, f"{host['id']}-C{len(host['cutouts']) + 1}", mm, roles, problems)
            if cut is not None:
                ox, oy = host["_o"]
                cut["center"] = [_r(cut["center"][0] - ox), _r(cut["center"][1] - oy)]
                host["cutouts"].append(cut)
    texts = [t for t in texts if role_of(t.layer, "CONTINUOUS", roles) != "ignore"]
    _label(pieces, [p for i, (_, p) in enumerate(polys) if depth[i] % 2 == 0], texts, problems)
    for p in pieces:
        p.pop("_o")
        if not p["cutouts"]:
            del p["cutouts"]
    if not pieces:
        raise TemplateError("NO_PIECES", "no closed outline was found in the drawing",
                            "see the problems: close the outlines and import again", problems)
    slab = (126.0, 63.0) if units == "in" else (3200.0, 1600.0)
    return {"spec_version": "1.0", "job": {"id": defaults.job_id, "name": defaults.job_name}, "units": units,
            "material": {"name": defaults.material, "type": defaults.material_type, "thickness": thickness},
            "slab_stock": [{"id": "JUMBO", "length": slab[0], "width": slab[1], "qty": None, "kind": "full"}],
            "pieces": pieces}


def _piece(lp: Loop, poly: Any, n: int, defaults: Defaults, problems: list[Problem]) -> dict[str, Any]:
    if len(lp.verts) > MAX_VERTICES:
        raise TemplateError("TOO_MANY_VERTICES", f"the outline of {lp.handle} has {len(lp.verts)} vertices, more "
                            f"than the {MAX_VERTICES} a piece may have", "simplify the outline (fewer, longer "
                            "segments; arcs instead of many short lines)", problems)
    x0, y0, _, _ = poly.bounds
    roles = [role_of(s.layer, s.linetype, defaults.layers) for s in lp.sources]
    edges = []
    for role in roles:
        kind = EDGE_KIND.get(role, defaults.edge_default)
        edges.append({"kind": kind, "profile": defaults.edge_profile} if kind == "finished" else {"kind": kind})
    splash = sum(r == "backsplash" for r in roles) * 2 >= len(roles)
    return {"id": f"P{n}", "type": "backsplash" if splash else "countertop",
            "shape": {"type": "polygon", "vertices": [[_r(x - x0), _r(y - y0)] + ([_r(b)] if abs(b) > 1e-9 else [])
                                                      for x, y, b in lp.verts]},
            "edges": edges, "cutouts": [], "_o": (x0, y0)}


def _envelope(poly: Any) -> tuple[float, float, float, float, float]:
    """Centre, long side, short side and the long side's angle (degrees in (-90, 90]) of the oriented envelope."""
    env = shapely.oriented_envelope(poly)
    (ax, ay), (bx, by), (cx, cy) = list(env.exterior.coords)[:3]
    s1, s2 = math.dist((ax, ay), (bx, by)), math.dist((bx, by), (cx, cy))
    if s1 >= s2:
        length, width, ang = s1, s2, math.degrees(math.atan2(by - ay, bx - ax))
    else:
        length, width, ang = s2, s1, math.degrees(math.atan2(cy - by, cx - bx))
    ang = (ang + 90.0) % 180.0 - 90.0
    if ang <= -90.0 + 1e-9:
        ang += 180.0
    c = env.centroid
    return c.x, c.y, length, width, ang


def _cutout(lp: Loop, poly: Any, cid: str, mm: float, roles: dict[str, str],
            problems: list[Problem]) -> dict[str, Any] | None:
    role = role_of(lp.sources[0].layer, lp.sources[0].linetype, roles)
    e = lp.entity
    cx, cy, length, width, rot = _envelope(poly)
    candidates: list[dict[str, Any]] = []
    if e is not None and e.circle:
        candidates = [{"shape": "circle", "center": list(e.circle[:2]), "diameter": 2 * e.circle[2]}]
    elif e is not None and e.ellipse:
        ex, ey, a, b, erot = e.ellipse
        erot = (erot + 90.0) % 180.0 - 90.0
        candidates = [{"shape": "oval", "center": [ex, ey], "length": 2 * a, "width": 2 * b, "rotation": erot}]
    else:
        quarter = [s for s in segs_of(lp.verts) if abs(abs(s.bulge) - math.tan(math.pi / 8)) < 0.01]
        radius = sum(s.chord for s in quarter) / len(quarter) / math.sqrt(2) if quarter else 0.0
        candidates = [{"shape": "circle", "center": [cx, cy], "diameter": (length + width) / 2},
                      {"shape": "rect", "center": [cx, cy], "length": length, "width": width,
                       "corner_radius": min(radius, width / 2), "rotation": rot},
                      {"shape": "oval", "center": [cx, cy], "length": length, "width": width, "rotation": rot}]
    # a CIRCLE or ELLIPSE entity is its shape exactly: only drawn loops are fitted (a shapely overlay each)
    best = (0.0, candidates[0]) if e is not None and (e.circle or e.ellipse) else None
    for cand in candidates if best is None else []:
        shape = Cutout(id="x", type="custom", **cand)
        miss = cutout_polygon(shape).symmetric_difference(poly).area / poly.area
        if miss < FIT and (best is None or miss < best[0]):
            best = (miss, cand)
    if best is None:
        problems.append(Problem("CUTOUT_UNSUPPORTED", lp.handle, f"the loop {lp.handle} inside a piece is not a "
                                "rectangle, rounded rectangle, oval or circle, which is all a v1 cutout can be; "
                                "it was left out", "add it by hand after import, or redraw it as one of those shapes"))
        return None
    cand = best[1]
    ctype = CUTOUT_TYPE.get(role)
    if ctype is None:
        size = cand.get("diameter") or max(cand["length"], cand["width"])
        if cand["shape"] == "circle":
            ctype = "faucet_hole" if size * mm <= FAUCET_MAX_MM else "custom"
        else:
            if cand["shape"] == "oval" or cand.get("corner_radius", 0) * mm >= SINK_MIN_RADIUS_MM:
                ctype = "undermount_sink"
            else:
                ctype = "outlet" if size * mm <= OUTLET_MAX_MM else "cooktop"
            problems.append(Problem("CUTOUT_GUESSED", lp.handle, f"cutout {cid} taken as {ctype} from its shape "
                                    f"({cand['shape']}, {_r(cand['length'])} x {_r(cand['width'])})",
                                    "check its type in the draft, or draw it on a SINK or COOKTOP layer"))
    out: dict[str, Any] = {"id": cid, "type": ctype}
    for k, v in cand.items():
        if k == "center" or isinstance(v, str):
            out[k] = v
        elif k == "rotation":
            if abs(v) > 1e-6:
                out[k] = round(v, 4)
        elif k != "corner_radius" or v > 1e-6:
            out[k] = _r(v)
    return out


def _label(pieces: list[dict[str, Any]], polys: list[Any], texts: list[Text], problems: list[Problem]) -> None:
    for t in texts:
        pt = shapely.Point(t.x, t.y)
        for piece, poly in zip(pieces, polys):
            if poly.contains(pt):
                used = "label" not in piece
                if used:
                    piece["label"] = t.text
                problems.append(Problem("TEXT_IN_PIECE", t.handle, f"text {t.text!r} inside piece {piece['id']}"
                                        + (" was used as its label" if used else " was ignored (it has a label)"),
                                        "check the label; put notes outside the outlines or on a TEXT layer"))
                break


__all__ = ["build", "area", "segs_of"]
