"""DXF for CAM: one file per piece and one per slab, in the job's own units, arcs as true LWPOLYLINE bulges.

Layers separate what the machine does (OUTER_CUT, INNER_CUT, DRILL, POLISH_<PROFILE>, DRIP_GROOVE) from
what it must not cut (SEAM, LABELS, DIMENSIONS, SLAB); `options.outputs.layer_names` renames them for a
shop's CAM templates.
"""

from __future__ import annotations

import io
import math
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import ezdxf
import shapely
from ezdxf.enums import TextEntityAlignment
from ezdxf.layouts import Modelspace
from shapely.geometry import LineString
from shapely.ops import substring

from engine import geometry as g
from engine.drawing.palette import LAYER_COLOURS, POLISH_COLOUR
from engine.model import Placement, SlabLayout
from engine.spec import MM_PER_INCH, JobSpec, Piece, to_mm

# AutoCAD colour index per default layer: cuts stand out, annotations are grey.
_BAD_LAYER_CHARS = re.compile(r'[<>/\\":;?*|=`,\s]+')

Pt = tuple[float, float]
_FIXED_METADATA_LOCK = threading.Lock()


@contextmanager
def _fixed_metadata() -> Iterator[None]:
    """Same job, same bytes: without this ezdxf stamps the time and random GUIDs into every file.

    The switch is process-wide, so it is held under a lock and restored.
    """
    with _FIXED_METADATA_LOCK:
        previous = ezdxf.options.write_fixed_meta_data_for_testing
        ezdxf.options.write_fixed_meta_data_for_testing = True
        try:
            yield
        finally:
            ezdxf.options.write_fixed_meta_data_for_testing = previous


class _Writer:
    """Layer naming, unit scaling and entity helpers shared by piece and slab drawings."""

    def __init__(self, job: JobSpec) -> None:
        self.job = job
        self.k = 1 / MM_PER_INCH if job.units == "in" else 1.0  # mm -> job units
        with _fixed_metadata():
            self.doc = ezdxf.new("R2010", setup=True)
        self.doc.header["$INSUNITS"] = 1 if job.units == "in" else 4
        self.doc.header["$MEASUREMENT"] = 0 if job.units == "in" else 1
        self.msp: Modelspace = self.doc.modelspace()
        self.renames = dict(job.options.outputs.layer_names)

    def layer(self, default: str) -> str:
        """The layer for a default name, renamed if the job asks, created on first use."""
        name = _BAD_LAYER_CHARS.sub("_", self.renames.get(default, default))[:255] or default
        if name not in self.doc.layers:
            colour = POLISH_COLOUR if default.startswith("POLISH_") else LAYER_COLOURS.get(default, 7)
            self.doc.layers.add(name, color=colour)
        return name

    def pt(self, p: Pt) -> Pt:
        return (p[0] * self.k, p[1] * self.k)

    def polyline(self, segs: list[g.Seg], layer: str, closed: bool) -> None:
        """Segments as one LWPOLYLINE; the bulge of vertex i is the arc from vertex i to i+1."""
        pts = [(*self.pt(s.start), s.bulge) for s in segs]
        if not closed:
            pts.append((*self.pt(segs[-1].end), 0.0))
        self.msp.add_lwpolyline(pts, format="xyb", close=closed, dxfattribs={"layer": self.layer(layer)})

    def text(self, s: str, at: Pt, height_mm: float, layer: str = "LABELS", rotation: float = 0.0) -> None:
        t = self.msp.add_text(s, height=height_mm * self.k,
                              dxfattribs={"layer": self.layer(layer), "rotation": rotation})
        t.set_placement(self.pt(at), align=TextEntityAlignment.MIDDLE_CENTER)

    def to_bytes(self) -> bytes:
        buf = io.StringIO()
        with _fixed_metadata():
            self.doc.write(buf)
        return buf.getvalue().encode("utf-8")


def polish_layer(profile: str | None) -> str:
    """Default layer name for a finished edge profile."""
    return "POLISH_" + (profile or "unspecified").upper()


def runs(spans: list[g.Span], key: Callable[[g.Span], object]) -> list[tuple[object, list[g.Span]]]:
    """Consecutive spans with the same key, joining the last run to the first when the outline closes."""
    out: list[tuple[object, list[g.Span]]] = []
    for s in spans:
        k = key(s)
        if out and out[-1][0] == k:
            out[-1][1].append(s)
        else:
            out.append((k, [s]))
    if len(out) > 1 and out[0][0] == out[-1][0]:
        k, last = out.pop()
        out[0] = (k, last + out[0][1])
    return out


def drip_groove_lines(ol: g.Outline) -> list[list[Pt]]:
    """For each edge with a drip groove: a line `offset` inside the edge, stopping `offset` short of each end."""
    inward = 1.0 if g.signed_area_vertices(ol.vertices) >= 0 else -1.0  # shapely offsets positive to the left
    out = []
    for (edge, groove), spans in runs(ol.spans, lambda s: (s.edge, s.groove if s.edge is not None else None)):
        if edge is None or groove is None:
            continue
        line = LineString(g.polyline_points([s.seg for s in spans]))
        off = shapely.offset_curve(line, inward * groove.offset, join_style="mitre")
        if off.geom_type == "MultiLineString":  # GEOS splits offsets of some near-collinear runs
            off = shapely.line_merge(off)
            if off.geom_type == "MultiLineString":
                off = max(off.geoms, key=lambda part: part.length)
        if off.is_empty or off.length <= 2 * groove.offset:
            continue
        off = substring(off, groove.offset, off.length - groove.offset)
        out.append([(float(x), float(y)) for x, y in off.coords])
    return out


def _draw_piece(w: _Writer, piece: Piece, tf: Callable[[Pt], Pt], rot_deg: float, label: str, text_mm: float) -> None:
    """Outline, cutouts, polish/seam spans, drip grooves and labels of one piece, through transform `tf`."""

    def move(segs: list[g.Seg]) -> list[g.Seg]:
        return [g.Seg(tf(s.start), tf(s.end), s.bulge) for s in segs]  # a rotation keeps every bulge

    ol = g.outline(piece)
    w.polyline(move(ol.segs), "OUTER_CUT", closed=True)
    for c in piece.cutouts:
        if c.shape == "circle":
            layer = "DRILL" if c.type in g.HOLE_TYPES else "INNER_CUT"
            w.msp.add_circle(w.pt(tf((c.center[0], c.center[1]))), c.diameter / 2 * w.k,
                             dxfattribs={"layer": w.layer(layer)})
        else:
            w.polyline(move(g.cutout_segs(c)), "INNER_CUT", closed=True)
        w.text(c.id, tf((c.center[0], c.center[1])), text_mm * 0.7, rotation=rot_deg)
    for (kind, profile), spans in runs(ol.spans, lambda s: (s.kind, s.profile)):
        whole = len(spans) == len(ol.spans)  # polished all round: one closed loop, no start/stop mark
        if kind == "finished":
            w.polyline(move([s.seg for s in spans]), polish_layer(profile), closed=whole)
        elif kind == "seam":
            w.polyline(move([s.seg for s in spans]), "SEAM", closed=whole)
    for pts in drip_groove_lines(ol):
        w.msp.add_lwpolyline([w.pt(tf(p)) for p in pts], dxfattribs={"layer": w.layer("DRIP_GROOVE")})
    cx, cy = g.label_point(ol.segs)
    w.text(label, tf((cx, cy + text_mm * 0.8)), text_mm, rotation=rot_deg)


def _text_height_mm(length: float, depth: float) -> float:
    """Readable on screen and on paper: about 1/60 of the drawing, 5..80 mm."""
    return min(80.0, max(5.0, max(length, depth) / 60))


def piece_dxf(job: JobSpec, piece_index: int) -> bytes:
    """A piece in its own frame: cuts, drills, polish spans by profile, seams, drip grooves, labels, dimensions."""
    mm = to_mm(job)
    piece = mm.pieces[piece_index]
    w = _Writer(job)
    ol = g.outline(piece)
    minx, miny, maxx, maxy = g.bbox(ol.segs)
    h = _text_height_mm(maxx - minx, maxy - miny)
    label = piece.id + (f" {piece.label}" if piece.label else "") + (f" x{piece.qty}" if piece.qty > 1 else "")
    _draw_piece(w, piece, lambda p: p, 0.0, label, h)
    thickness = f"{job.material.thickness:g} {job.units}"
    w.text(f"{job.material.name}, {thickness}", ((minx + maxx) / 2, (miny + maxy) / 2 - h * 0.8), h * 0.7)
    dim = {"dimtxt": h * w.k, "dimasz": h * 0.8 * w.k, "dimexe": h * 0.4 * w.k, "dimexo": h * 0.4 * w.k,
           "dimgap": h * 0.3 * w.k, "dimdec": 2 if job.units == "in" else 0}
    attribs = {"layer": w.layer("DIMENSIONS")}
    w.msp.add_linear_dim(base=w.pt((minx, miny - 3 * h)), p1=w.pt((minx, miny)), p2=w.pt((maxx, miny)),
                         dimstyle="EZDXF", override=dim, dxfattribs=attribs).render()
    w.msp.add_linear_dim(base=w.pt((minx - 3 * h, miny)), p1=w.pt((minx, miny)), p2=w.pt((minx, maxy)), angle=90,
                         dimstyle="EZDXF", override=dim, dxfattribs=attribs).render()
    return w.to_bytes()


def placement_transform(p: Placement) -> Callable[[Pt], Pt]:
    """Piece frame -> slab frame (mm): rotate about the piece origin, then translate."""
    a = math.radians(p.rotation_deg)
    ca, sa = math.cos(a), math.sin(a)
    return lambda q: (q[0] * ca - q[1] * sa + p.x_mm, q[0] * sa + q[1] * ca + p.y_mm)


def slab_dxf(job: JobSpec, slab_layout: SlabLayout) -> bytes:
    """One slab in slab coordinates: the slab outline, every placed piece copy cut-ready, labels."""
    mm = to_mm(job)
    pieces = {p.id: p for p in mm.pieces}
    w = _Writer(job)
    L, W = slab_layout.length_mm, slab_layout.width_mm
    rect = [g.Seg((0, 0), (L, 0)), g.Seg((L, 0), (L, W)), g.Seg((L, W), (0, W)), g.Seg((0, W), (0, 0))]
    w.polyline(rect, "SLAB", closed=True)
    for zone in mm.defect_outlines(slab_layout.slab_id):  # on their own layer, which no CAM cuts
        w.polyline([g.Seg(a, b) for a, b in zip(zone, zone[1:] + zone[:1])], "DEFECTS", closed=True)
    h = _text_height_mm(L, W)
    for p in slab_layout.placements:
        piece = pieces[p.piece]
        label = f"{piece.id}" + (f" #{p.copy}" if piece.qty > 1 else "")
        _draw_piece(w, piece, placement_transform(p), p.rotation_deg, label, h)
    w.text(f"Slab {slab_layout.index}: {slab_layout.slab_id}, yield {slab_layout.yield_pct:g}%",
           (L / 2, W + 1.5 * h), h)
    return w.to_bytes()
