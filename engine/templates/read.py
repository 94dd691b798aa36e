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

V = tuple[float, float, float]  # x, y, bulge of the segment to the next vertex

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
    verts: list[V]
    closed: bool
    circle: tuple[float, float, float] | None = None  # cx, cy, r
    ellipse: tuple[float, float, float, float, float] | None = None  # cx, cy, a, b, rotation (deg)

    def scaled(self, k: float) -> Path:
        s = lambda t: None if t is None else tuple(v * k for v in t)  # noqa: E731
        ell = None if self.ellipse is None else (*[v * k for v in self.ellipse[:4]], self.ellipse[4])
        return Path(self.handle, self.layer, self.linetype, [(x * k, y * k, b) for x, y, b in self.verts],
                    self.closed, s(self.circle), ell)  # type: ignore[arg-type]

    def extent(self) -> float:
        xs, ys = [v[0] for v in self.verts], [v[1] for v in self.verts]
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
        self.n = 0

    def tick(self) -> None:
        self.n += 1
        if self.n > MAX_ENTITIES:
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

    def linetype(e: Any, parent_lt: str) -> str:
        lt = (e.dxf.get("linetype") or "BYLAYER").upper()
        if lt == "BYBLOCK":
            return parent_lt
        if lt == "BYLAYER":
            layer = layers.get(e.dxf.get("layer", "0").upper())
            return (layer.dxf.get("linetype") or "CONTINUOUS").upper() if layer is not None else "CONTINUOUS"
        return lt

    def walk(entities: Iterable[Any], handle: str | None, parent_layer: str, parent_lt: str,
             depth: int) -> Iterator[tuple[Any, str, str, str]]:
        for e in entities:
            budget.tick()
            layer = e.dxf.get("layer", "0")
            if handle is not None and layer == "0":
                layer = parent_layer  # entities on layer 0 in a block take the INSERT's layer
            h = handle or e.dxf.get("handle", "?")
            if e.dxftype() == "INSERT":
                if depth >= MAX_INSERT_DEPTH:
                    raise TemplateError("BLOCKS_TOO_DEEP", f"INSERT {h} nests blocks deeper than {MAX_INSERT_DEPTH}",
                                        "explode the blocks in CAD before exporting")
                yield from walk(e.virtual_entities(), h, layer, linetype(e, parent_lt), depth + 1)
            else:
                yield e, h, layer, linetype(e, parent_lt)

    for e, h, layer, lt in walk(doc.modelspace(), None, "0", "CONTINUOUS", 0):
        t = e.dxftype()
        if t in ("TEXT", "MTEXT"):
            text = e.plain_text() if t == "MTEXT" else e.dxf.get("text", "")
            p = e.dxf.insert
            if text.strip():
                out.texts.append(Text(h, layer, text.strip()[:200], p.x, p.y))
            continue
        path = _path(e, t, h, layer, lt, (spline_tolerance, mm_per_unit), out.problems)
        if path is not None:
            out.paths.append(path)
        elif t in IGNORED_TYPES or t not in _HANDLED:
            ignored.setdefault(t, (h, 0))
            ignored[t] = (ignored[t][0], ignored[t][1] + 1)
    for t, (h, n) in sorted(ignored.items()):
        out.problems.append(Problem("ENTITY_IGNORED", h, f"{n} {t} entit{'ies' if n > 1 else 'y'} ignored "
                                    f"(not part of an outline)", "nothing, unless it was meant as an outline: "
                                    "then draw it with lines, arcs or polylines"))
    return out


_HANDLED = frozenset({"LINE", "ARC", "CIRCLE", "ELLIPSE", "LWPOLYLINE", "POLYLINE", "SPLINE"})


def _path(e: Any, t: str, h: str, layer: str, lt: str, tolerance: tuple[float, float],
          problems: list[Problem]) -> Path | None:
    if t == "LINE":
        s, en = e.dxf.start, e.dxf.end
        if math.dist((s.x, s.y), (en.x, en.y)) < 1e-9:
            return None
        return Path(h, layer, lt, [(s.x, s.y, 0.0), (en.x, en.y, 0.0)], False)
    if t == "ARC":
        span = (e.dxf.end_angle - e.dxf.start_angle) % 360.0 or 360.0
        sign = 1.0 if e.dxf.extrusion.z >= 0 else -1.0  # mirrored OCS: the arc runs clockwise in WCS
        s, en = e.start_point, e.end_point
        if span >= 359.999:
            return _circle(e, h, layer, lt)
        return Path(h, layer, lt, [(s.x, s.y, sign * math.tan(math.radians(span) / 4)), (en.x, en.y, 0.0)], False)
    if t == "CIRCLE":
        return _circle(e, h, layer, lt)
    if t == "LWPOLYLINE":
        sign = 1.0 if e.dxf.extrusion.z >= 0 else -1.0
        ocs = e.ocs()
        pts = [(*_xy(ocs.to_wcs((x, y, 0))), sign * b) for x, y, b in e.get_points("xyb")]
        return _poly(h, layer, lt, pts, bool(e.closed))
    if t == "POLYLINE":
        if not e.is_2d_polyline:
            return None
        sign = 1.0 if e.dxf.extrusion.z >= 0 else -1.0
        ocs = e.ocs()
        pts = [(*_xy(ocs.to_wcs(v.dxf.location)), sign * v.dxf.get("bulge", 0.0)) for v in e.vertices]
        return _poly(h, layer, lt, pts, bool(e.is_closed))
    if t == "ELLIPSE":
        ce = e.construction_tool()
        full = abs((e.dxf.end_param - e.dxf.start_param) % math.tau) < 1e-9
        if full:
            a, b = ce.major_axis.magnitude, ce.minor_axis.magnitude
            rot = math.degrees(math.atan2(ce.major_axis.y, ce.major_axis.x))
            pts = [(p.x, p.y) for p in ce.vertices(ce.params(65))][:-1]  # only for containment: the cutout is exact
            return Path(h, layer, lt, [(p[0], p[1], 0.0) for p in pts], True,
                        ellipse=(ce.center.x, ce.center.y, a, b, rot))
        return _curve(ce, h, layer, lt, tolerance, "elliptic arc", problems)
    if t == "SPLINE":
        try:
            tool = e.construction_tool()
        except (ezdxf.DXFError, ValueError, IndexError) as exc:
            problems.append(Problem("SPLINE_UNREADABLE", h, f"the spline cannot be evaluated: {exc}",
                                    "redraw the edge as arcs or a polyline"))
            return None
        return _curve(tool, h, layer, lt, tolerance, "spline", problems)
    return None


def _xy(v: Any) -> tuple[float, float]:
    return v.x, v.y


def _circle(e: Any, h: str, layer: str, lt: str) -> Path:
    c = e.ocs().to_wcs(e.dxf.center)
    r = e.dxf.radius
    return Path(h, layer, lt, [(c.x + r, c.y, 1.0), (c.x - r, c.y, 1.0)], True, circle=(c.x, c.y, r))


def _poly(h: str, layer: str, lt: str, pts: list[V], closed: bool) -> Path | None:
    clean: list[V] = []
    for p in pts:  # repeated vertices make zero-length edges
        if clean and math.dist(clean[-1][:2], p[:2]) < 1e-9:
            clean[-1] = (clean[-1][0], clean[-1][1], p[2])
            continue
        clean.append(p)
    if closed and len(clean) > 1 and math.dist(clean[0][:2], clean[-1][:2]) < 1e-9:
        clean.pop()
    if len(clean) < 2:
        return None
    return Path(h, layer, lt, clean, closed and len(clean) >= 2)


def _flatten(tool: Any, tol: float, most: int) -> list[tuple[float, float]]:
    """At most `most` + 1 points: ezdxf's flattening is a generator, so a too-fine tolerance costs no more.
    Splines get one segment per knot span at least, elliptic arcs eight (fewer cannot start: a chord of length 0)."""
    segments = 1 if hasattr(tool, "approximate") else 8
    return [(p.x, p.y) for p in itertools.islice(tool.flattening(tol, segments=segments), most + 1)]


def _curve(tool: Any, h: str, layer: str, lt: str, tolerance: tuple[float, float], what: str,
           problems: list[Problem]) -> Path | None:
    """A curve as a polyline within the tolerance; coarser when that needs more than MAX_CURVE_VERTICES."""
    tol, mm = tolerance
    used = tol
    pts = _flatten(tool, used, MAX_CURVE_VERTICES)
    for _ in range(30):  # 2**30 x the tolerance: any curve of a 2 MB file fits long before
        if len(pts) <= MAX_CURVE_VERTICES:
            break
        used *= 2
        pts = _flatten(tool, used, MAX_CURVE_VERTICES)
    else:  # more knot spans than the cap (flattening puts a point on each): sample evenly instead
        pts = [(p.x, p.y) for p in tool.approximate(MAX_CURVE_VERTICES - 1)] if hasattr(tool, "approximate") else []
        if not pts:
            problems.append(Problem("SPLINE_UNREADABLE", h, f"the {what} needs more than {MAX_CURVE_VERTICES} "
                                    "vertices", "redraw the edge as arcs or a simpler curve"))
            return None
    if len(pts) < 2:
        return None
    closed = math.dist(pts[0], pts[-1]) < 1e-9
    if closed:
        pts = pts[:-1]
    problems.append(Problem("SPLINE_APPROXIMATED" if what == "spline" else "CURVE_APPROXIMATED", h,
                            f"{what} approximated by {len(pts) - 1} straight segments within {used * mm:.4g} mm"
                            + ("" if used == tol else f" (the requested {tol * mm:.4g} mm would need more than "
                                                      f"{MAX_CURVE_VERTICES} vertices)"),
                            "check the edge on the draft; redraw it as arcs for an exact outline"))
    return Path(h, layer, lt, [(x, y, 0.0) for x, y in pts], closed)
