"""Reading a templater's DXF into flat 2D paths (lines and bulge arcs), texts and a units guess; pure, no I/O.

Blocks are exploded (INSERT -> `virtual_entities()`, recursively); splines and elliptic arcs are flattened within
a stated tolerance; every entity keeps its handle (exploded ones the handle of the INSERT they came from).
"""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import ezdxf
from ezdxf import recover

from engine.templates.model import MAX_ENTITIES, Problem, TemplateError

Vertex = tuple[float, float, float]  # x, y, bulge of the segment to the next vertex

MAX_INSERT_DEPTH = 8
MAX_CURVE_VERTICES = 200  # one spline or elliptic arc; a piece outline may hold 500 (the job cap)
# $INSUNITS -> (job units family, length of one drawing unit in that family)
INSUNITS: dict[int, tuple[str, float]] = {1: ("in", 1.0), 2: ("in", 12.0), 4: ("mm", 1.0), 5: ("mm", 10.0),
                                          6: ("mm", 1000.0), 14: ("mm", 100.0)}
IGNORED_TYPES = frozenset({"DIMENSION", "HATCH", "POINT", "LEADER", "MLEADER", "MULTILEADER", "VIEWPORT",
                           "ATTDEF", "IMAGE", "WIPEOUT", "XLINE", "RAY", "SOLID", "3DFACE", "MESH", "REGION"})


@dataclass
class Path:
    handle: str
    layer: str
    linetype: str
    verts: list[Vertex]
    closed: bool
    circle: tuple[float, float, float] | None = None  # cx, cy, r
    ellipse: tuple[float, float, float, float, float] | None = None  # cx, cy, a, b, rotation (deg)

    def scaled(self, factor: float) -> Path:
        circle = None if self.circle is None else tuple(value * factor for value in self.circle)
        ellipse = None if self.ellipse is None else (*[value * factor for value in self.ellipse[:4]], self.ellipse[4])
        return Path(self.handle, self.layer, self.linetype,
                    [(x * factor, y * factor, bulge) for x, y, bulge in self.verts],
                    self.closed, circle, ellipse)  # type: ignore[arg-type]

    def extent(self) -> float:
        xs, ys = [vertex[0] for vertex in self.verts], [vertex[1] for vertex in self.verts]
        if self.circle:
            return 2 * self.circle[2]
        return max(max(xs) - min(xs), max(ys) - min(ys))


@dataclass
class Text:
    handle: str
    layer: str
    text: str
    x: float
    y: float


@dataclass
class Drawing:
    paths: list[Path]
    texts: list[Text]
    insunits: int
    problems: list[Problem] = field(default_factory=list)


def sniff(data: bytes) -> None:
    """Refuse what is plainly not a DXF before ezdxf sees it, with a message that says what it is."""
    head = data[:64]
    if not data.strip():
        raise TemplateError("EMPTY_FILE", "the file is empty", "send the DXF the templater exported")
    if head.startswith(b"AC10") or head.startswith(b"AC1."):
        raise TemplateError("NOT_DXF", "this is a DWG file, not a DXF", "export the template as DXF (R2000 or later)")
    if head.startswith(b"AutoCAD Binary DXF"):
        return
    first = data.lstrip()[:4]
    if not (first.startswith(b"0") or first.startswith(b"999")):
        kind = ("a PDF" if head.startswith(b"%PDF") else "a PNG image" if head.startswith(b"\x89PNG")
                else "a ZIP archive" if head.startswith(b"PK") else "not a DXF")
        raise TemplateError("NOT_DXF", f"the file is {kind}: a DXF starts with group code 0 and SECTION",
                            "export the template from the templater's software as DXF")


def load(data: bytes) -> Any:
    """The ezdxf document; `recover` reads ASCII and binary DXF and repairs what it safely can."""
    sniff(data)
    try:
        doc, auditor = recover.read(io.BytesIO(data))
    except (ezdxf.DXFError, ValueError, UnicodeError, EOFError, IndexError, KeyError, TypeError) as exc:
        raise TemplateError("NOT_DXF", f"the file is not a readable DXF: {str(exc)[:200] or type(exc).__name__}",
                            "export the template again as DXF (R2000 or later); a damaged file cannot be read") \
            from None
    if auditor.has_errors:
        raise TemplateError("DAMAGED_DXF", f"the DXF is damaged beyond repair ({len(auditor.errors)} errors)",
                            "export the template again")
    return doc


class _Budget:
    def __init__(self) -> None:
        self.count = 0

    def tick(self) -> None:
        self.count += 1
        if self.count > MAX_ENTITIES:
            raise TemplateError("TOO_MANY_ENTITIES", f"the drawing has more than {MAX_ENTITIES} entities "
                                "(blocks exploded)", "send one job's pieces per file, without hatches or dimensions")


def read(data: bytes, spline_tolerance_mm: float, mm_per_unit: float) -> Drawing:
    """Paths in drawing units. Curves are flattened within `spline_tolerance_mm`; `mm_per_unit` is the size of a
    drawing unit when $INSUNITS does not say (the caller's units, else 25.4: the finer tolerance is the safe one)."""
    doc = load(data)
    insunits = int(doc.header.get("$INSUNITS", 0) or 0)
    if insunits in INSUNITS:
        family, size = INSUNITS[insunits]
        mm_per_unit = size * (25.4 if family == "in" else 1.0)
    spline_tolerance = spline_tolerance_mm / mm_per_unit
    out = Drawing([], [], insunits)
    ignored: dict[str, tuple[str, int]] = {}
    layers = {layer.dxf.name.upper(): layer for layer in doc.layers}
    budget = _Budget()

    def linetype_of(entity: Any, parent_linetype: str) -> str:
        name = (entity.dxf.get("linetype") or "BYLAYER").upper()
        if name == "BYBLOCK":
            return parent_linetype
        if name == "BYLAYER":
            layer = layers.get(entity.dxf.get("layer", "0").upper())
            return (layer.dxf.get("linetype") or "CONTINUOUS").upper() if layer is not None else "CONTINUOUS"
        return name

    def walk(entities: Iterable[Any], insert_handle: str | None, parent_layer: str, parent_linetype: str,
             depth: int) -> Iterator[tuple[Any, str, str, str]]:
        for entity in entities:
            budget.tick()
            layer = entity.dxf.get("layer", "0")
            if insert_handle is not None and layer == "0":
                layer = parent_layer  # entities on layer 0 in a block take the INSERT's layer
            handle = insert_handle or entity.dxf.get("handle", "?")
            if entity.dxftype() == "INSERT":
                if depth >= MAX_INSERT_DEPTH:
                    raise TemplateError("BLOCKS_TOO_DEEP", f"INSERT {handle} nests blocks deeper than "
                                        f"{MAX_INSERT_DEPTH}", "explode the blocks in CAD before exporting")
                yield from walk(entity.virtual_entities(), handle, layer, linetype_of(entity, parent_linetype),
                                depth + 1)
            else:
                yield entity, handle, layer, linetype_of(entity, parent_linetype)

    for entity, handle, layer, linetype in walk(doc.modelspace(), None, "0", "CONTINUOUS", 0):
        kind = entity.dxftype()
        if kind in ("TEXT", "MTEXT"):
            text = entity.plain_text() if kind == "MTEXT" else entity.dxf.get("text", "")
            at = entity.dxf.insert
            if text.strip():
                out.texts.append(Text(handle, layer, text.strip()[:200], at.x, at.y))
            continue
        path = _path(entity, kind, handle, layer, linetype, (spline_tolerance, mm_per_unit), out.problems)
        if path is not None:
            out.paths.append(path)
        elif kind in IGNORED_TYPES or kind not in _HANDLED:
            ignored.setdefault(kind, (handle, 0))
            ignored[kind] = (ignored[kind][0], ignored[kind][1] + 1)
    for kind, (handle, count) in sorted(ignored.items()):
        out.problems.append(Problem("ENTITY_IGNORED", handle, f"{count} {kind} entit{'ies' if count > 1 else 'y'} "
                                    "ignored (not part of an outline)", "nothing, unless it was meant as an outline: "
                                    "then draw it with lines, arcs or polylines"))
    return out


_HANDLED = frozenset({"LINE", "ARC", "CIRCLE", "ELLIPSE", "LWPOLYLINE", "POLYLINE", "SPLINE"})


def _path(entity: Any, kind: str, handle: str, layer: str, linetype: str, tolerance: tuple[float, float],
          problems: list[Problem]) -> Path | None:
    if kind == "LINE":
        start, end = entity.dxf.start, entity.dxf.end
        if math.dist((start.x, start.y), (end.x, end.y)) < 1e-9:
            return None
        return Path(handle, layer, linetype, [(start.x, start.y, 0.0), (end.x, end.y, 0.0)], False)
    if kind == "ARC":
        span = (entity.dxf.end_angle - entity.dxf.start_angle) % 360.0 or 360.0
        sign = 1.0 if entity.dxf.extrusion.z >= 0 else -1.0  # mirrored OCS: the arc runs clockwise in WCS
        start, end = entity.start_point, entity.end_point
        if span >= 359.999:
            return _circle(entity, handle, layer, linetype)
        bulge = sign * math.tan(math.radians(span) / 4)
        return Path(handle, layer, linetype, [(start.x, start.y, bulge), (end.x, end.y, 0.0)], False)
    if kind == "CIRCLE":
        return _circle(entity, handle, layer, linetype)
    if kind == "LWPOLYLINE":
        sign = 1.0 if entity.dxf.extrusion.z >= 0 else -1.0
        ocs = entity.ocs()
        pts = [(*_xy(ocs.to_wcs((x, y, 0))), sign * bulge) for x, y, bulge in entity.get_points("xyb")]
        return _poly(handle, layer, linetype, pts, bool(entity.closed))
    if kind == "POLYLINE":
        if not entity.is_2d_polyline:
            return None
        sign = 1.0 if entity.dxf.extrusion.z >= 0 else -1.0
        ocs = entity.ocs()
        pts = [(*_xy(ocs.to_wcs(vertex.dxf.location)), sign * vertex.dxf.get("bulge", 0.0))
               for vertex in entity.vertices]
        return _poly(handle, layer, linetype, pts, bool(entity.is_closed))
    if kind == "ELLIPSE":
        curve = entity.construction_tool()
        full = abs((entity.dxf.end_param - entity.dxf.start_param) % math.tau) < 1e-9
        if full:
            semi_major, semi_minor = curve.major_axis.magnitude, curve.minor_axis.magnitude
            rotation = math.degrees(math.atan2(curve.major_axis.y, curve.major_axis.x))
            # the vertices serve only for containment: the cutout is made from the exact ellipse
            verts = [(point.x, point.y, 0.0) for point in curve.vertices(curve.params(65))][:-1]
            return Path(handle, layer, linetype, verts, True,
                        ellipse=(curve.center.x, curve.center.y, semi_major, semi_minor, rotation))
        return _curve(curve, handle, layer, linetype, tolerance, "elliptic arc", problems)
    if kind == "SPLINE":
        try:
            tool = entity.construction_tool()
        except (ezdxf.DXFError, ValueError, IndexError) as exc:
            problems.append(Problem("SPLINE_UNREADABLE", handle, f"the spline cannot be evaluated: {exc}",
                                    "redraw the edge as arcs or a polyline"))
            return None
        return _curve(tool, handle, layer, linetype, tolerance, "spline", problems)
    return None


def _xy(vector: Any) -> tuple[float, float]:
    return vector.x, vector.y


def _circle(entity: Any, handle: str, layer: str, linetype: str) -> Path:
    centre = entity.ocs().to_wcs(entity.dxf.center)
    radius = entity.dxf.radius
    return Path(handle, layer, linetype, [(centre.x + radius, centre.y, 1.0), (centre.x - radius, centre.y, 1.0)], True,
                circle=(centre.x, centre.y, radius))


def _poly(handle: str, layer: str, linetype: str, points: list[Vertex], closed: bool) -> Path | None:
    clean: list[Vertex] = []
    for point in points:  # repeated vertices make zero-length edges
        if clean and math.dist(clean[-1][:2], point[:2]) < 1e-9:
            clean[-1] = (clean[-1][0], clean[-1][1], point[2])
            continue
        clean.append(point)
    if closed and len(clean) > 1 and math.dist(clean[0][:2], clean[-1][:2]) < 1e-9:
        clean.pop()
    if len(clean) < 2:
        return None
    return Path(handle, layer, linetype, clean, closed and len(clean) >= 2)


def _flatten(tool: Any, tolerance: float, most: int) -> list[tuple[float, float]]:
    """At most `most` + 1 points: ezdxf's flattening is a generator, so a too-fine tolerance costs no more.
    Splines get one segment per knot span at least, elliptic arcs eight (fewer cannot start: a chord of length 0)."""
    segments = 1 if hasattr(tool, "approximate") else 8
    return [(point.x, point.y) for point in itertools.islice(tool.flattening(tolerance, segments=segments), most + 1)]


def _curve(tool: Any, handle: str, layer: str, linetype: str, tolerance: tuple[float, float], what: str,
           problems: list[Problem]) -> Path | None:
    """A curve as a polyline within the tolerance; coarser when that needs more than MAX_CURVE_VERTICES."""
    requested, mm_per_unit = tolerance
    used = requested
    points = _flatten(tool, used, MAX_CURVE_VERTICES)
    for _ in range(30):  # 2**30 x the tolerance: any curve of a 2 MB file fits long before
        if len(points) <= MAX_CURVE_VERTICES:
            break
        used *= 2
        points = _flatten(tool, used, MAX_CURVE_VERTICES)
    else:  # more knot spans than the cap (flattening puts a point on each): sample evenly instead
        points = ([(point.x, point.y) for point in tool.approximate(MAX_CURVE_VERTICES - 1)]
                  if hasattr(tool, "approximate") else [])
        if not points:
            problems.append(Problem("SPLINE_UNREADABLE", handle, f"the {what} needs more than {MAX_CURVE_VERTICES} "
                                    "vertices", "redraw the edge as arcs or a simpler curve"))
            return None
    if len(points) < 2:
        return None
    closed = math.dist(points[0], points[-1]) < 1e-9
    if closed:
        points = points[:-1]
    coarser = "" if used == requested else (f" (the requested {requested * mm_per_unit:.4g} mm would need more than "
                                            f"{MAX_CURVE_VERTICES} vertices)")
    problems.append(Problem("SPLINE_APPROXIMATED" if what == "spline" else "CURVE_APPROXIMATED", handle,
                            f"{what} approximated by {len(points) - 1} straight segments within "
                            f"{used * mm_per_unit:.4g} mm{coarser}",
                            "check the edge on the draft; redraw it as arcs for an exact outline"))
    return Path(handle, layer, linetype, [(x, y, 0.0) for x, y in points], closed)
