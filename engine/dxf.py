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

from engine import geometry
from engine.drawing.palette import LAYER_COLOURS, POLISH_COLOUR
from engine.drawing.units import Lengths
from engine.model import Placement, SlabLayout
from engine.spec import MM_PER_UNIT, JobSpec, Piece, to_mm

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
        self.scale = 1 / MM_PER_UNIT[job.units]  # mm -> job units
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

    def scaled(self, point: Pt) -> Pt:
        return (point[0] * self.scale, point[1] * self.scale)

    def polyline(self, segs: list[geometry.Seg], layer: str, closed: bool) -> None:
        """Segments as one LWPOLYLINE; the bulge of vertex i is the arc from vertex i to i+1."""
        points = [(*self.scaled(seg.start), seg.bulge) for seg in segs]
        if not closed:
            points.append((*self.scaled(segs[-1].end), 0.0))
        self.msp.add_lwpolyline(points, format="xyb", close=closed, dxfattribs={"layer": self.layer(layer)})

    def text(self, content: str, at: Pt, height_mm: float, layer: str = "LABELS", rotation: float = 0.0) -> None:
        entity = self.msp.add_text(content, height=height_mm * self.scale,
                                   dxfattribs={"layer": self.layer(layer), "rotation": rotation})
        entity.set_placement(self.scaled(at), align=TextEntityAlignment.MIDDLE_CENTER)

    def to_bytes(self) -> bytes:
        # ezdxf adds a CLASS for each entity type in use by walking a set, whose order follows the string hash
        # (PYTHONHASHSEED); a class registered once keeps its place, so registering them sorted fixes the order.
        for dxftype in sorted(self.doc.entitydb.dxf_types_in_use()):
            self.doc.classes.add_class(dxftype)
        buf = io.StringIO()
        with _fixed_metadata():
            self.doc.write(buf)
        return buf.getvalue().encode("utf-8")


def polish_layer(profile: str | None) -> str:
    """Default layer name for a finished edge profile."""
    return "POLISH_" + (profile or "unspecified").upper()


def runs(spans: list[geometry.Span],
         key: Callable[[geometry.Span], object]) -> list[tuple[object, list[geometry.Span]]]:
    """Consecutive spans with the same key, joining the last run to the first when the outline closes."""
    out: list[tuple[object, list[geometry.Span]]] = []
    for span in spans:
        run_key = key(span)
        if out and out[-1][0] == run_key:
            out[-1][1].append(span)
        else:
            out.append((run_key, [span]))
    if len(out) > 1 and out[0][0] == out[-1][0]:
        run_key, last = out.pop()
        out[0] = (run_key, last + out[0][1])
    return out


def drip_groove_lines(outline: geometry.Outline) -> list[list[Pt]]:
    """For each edge with a drip groove: a line `offset` inside the edge, stopping `offset` short of each end."""
    # shapely offsets positive to the left
    inward = 1.0 if geometry.signed_area_vertices(outline.vertices) >= 0 else -1.0
    out = []
    for (edge, groove), spans in runs(outline.spans,
                                      lambda span: (span.edge, span.groove if span.edge is not None else None)):
        if edge is None or groove is None:
            continue
        line = LineString(geometry.polyline_points([span.seg for span in spans]))
        offset_line = shapely.offset_curve(line, inward * groove.offset, join_style="mitre")
        if offset_line.geom_type == "MultiLineString":  # GEOS splits offsets of some near-collinear runs
            offset_line = shapely.line_merge(offset_line)
            if offset_line.geom_type == "MultiLineString":
                offset_line = max(offset_line.geoms, key=lambda part: part.length)
        if offset_line.is_empty or offset_line.length <= 2 * groove.offset:
            continue
        offset_line = substring(offset_line, groove.offset, offset_line.length - groove.offset)
        out.append([(float(x), float(y)) for x, y in offset_line.coords])
    return out


def _draw_piece(dxf: _Writer, piece: Piece, transform: Callable[[Pt], Pt], rot_deg: float, label: str,
                text_mm: float) -> None:
    """Outline, cutouts, polish/seam spans, drip grooves and labels of one piece, through `transform`."""

    def move(segs: list[geometry.Seg]) -> list[geometry.Seg]:  # a rotation keeps every bulge
        return [geometry.Seg(transform(seg.start), transform(seg.end), seg.bulge) for seg in segs]

    outline = geometry.outline(piece)
    dxf.polyline(move(outline.segs), "OUTER_CUT", closed=True)
    for cutout in piece.cutouts:
        if cutout.shape == "circle":
            layer = "DRILL" if cutout.type in geometry.HOLE_TYPES else "INNER_CUT"
            dxf.msp.add_circle(dxf.scaled(transform((cutout.center[0], cutout.center[1]))),
                               cutout.diameter / 2 * dxf.scale, dxfattribs={"layer": dxf.layer(layer)})
        else:
            dxf.polyline(move(geometry.cutout_segs(cutout)), "INNER_CUT", closed=True)
        dxf.text(cutout.id, transform((cutout.center[0], cutout.center[1])), text_mm * 0.7, rotation=rot_deg)
    for (kind, profile), spans in runs(outline.spans, lambda span: (span.kind, span.profile)):
        whole = len(spans) == len(outline.spans)  # polished all round: one closed loop, no start/stop mark
        if kind == "finished":
            dxf.polyline(move([span.seg for span in spans]), polish_layer(profile), closed=whole)
        elif kind == "seam":
            dxf.polyline(move([span.seg for span in spans]), "SEAM", closed=whole)
    for line in drip_groove_lines(outline):
        dxf.msp.add_lwpolyline([dxf.scaled(transform(point)) for point in line],
                               dxfattribs={"layer": dxf.layer("DRIP_GROOVE")})
    label_x, label_y = geometry.label_point(outline.segs)
    dxf.text(label, transform((label_x, label_y + text_mm * 0.8)), text_mm, rotation=rot_deg)


def _text_height_mm(length: float, depth: float) -> float:
    """Readable on screen and on paper: about 1/60 of the drawing, 5..80 mm."""
    return min(80.0, max(5.0, max(length, depth) / 60))


def piece_dxf(job: JobSpec, piece_index: int) -> bytes:
    """A piece in its own frame: cuts, drills, polish spans by profile, seams, drip grooves, labels, dimensions."""
    job_mm = to_mm(job)
    piece = job_mm.pieces[piece_index]
    dxf = _Writer(job)
    outline = geometry.outline(piece)
    minx, miny, maxx, maxy = geometry.bbox(outline.segs)
    text_mm = _text_height_mm(maxx - minx, maxy - miny)
    label = piece.id + (f" {piece.label}" if piece.label else "") + (f" x{piece.qty}" if piece.qty > 1 else "")
    _draw_piece(dxf, piece, lambda point: point, 0.0, label, text_mm)
    thickness = Lengths(job.units).thickness(job_mm.material.thickness)
    dxf.text(f"{job.material.name}, {thickness}", ((minx + maxx) / 2, (miny + maxy) / 2 - text_mm * 0.8),
             text_mm * 0.7)
    scale = dxf.scale
    dim = {"dimtxt": text_mm * scale, "dimasz": text_mm * 0.8 * scale, "dimexe": text_mm * 0.4 * scale,
           "dimexo": text_mm * 0.4 * scale, "dimgap": text_mm * 0.3 * scale, "dimdec": 2 if job.units == "in" else 0}
    attribs = {"layer": dxf.layer("DIMENSIONS")}
    dxf.msp.add_linear_dim(base=dxf.scaled((minx, miny - 3 * text_mm)), p1=dxf.scaled((minx, miny)),
                           p2=dxf.scaled((maxx, miny)), dimstyle="EZDXF", override=dim, dxfattribs=attribs).render()
    dxf.msp.add_linear_dim(base=dxf.scaled((minx - 3 * text_mm, miny)), p1=dxf.scaled((minx, miny)),
                           p2=dxf.scaled((minx, maxy)), angle=90, dimstyle="EZDXF", override=dim,
                           dxfattribs=attribs).render()
    return dxf.to_bytes()


def placement_transform(placement: Placement) -> Callable[[Pt], Pt]:
    """Piece frame -> slab frame (mm): rotate about the piece origin, then translate."""
    angle = math.radians(placement.rotation_deg)
    cos_a, sin_a = math.cos(angle), math.sin(angle)
    return lambda point: (point[0] * cos_a - point[1] * sin_a + placement.x_mm,
                          point[0] * sin_a + point[1] * cos_a + placement.y_mm)


def slab_dxf(job: JobSpec, slab_layout: SlabLayout) -> bytes:
    """One slab in slab coordinates: the slab outline, every placed piece copy cut-ready, labels."""
    job_mm = to_mm(job)
    pieces = {piece.id: piece for piece in job_mm.pieces}
    dxf = _Writer(job)
    length, width = slab_layout.length_mm, slab_layout.width_mm
    corners = [(0, 0), (length, 0), (length, width), (0, width)]
    rect = [geometry.Seg(corner, following) for corner, following in zip(corners, corners[1:] + corners[:1])]
    dxf.polyline(rect, "SLAB", closed=True)
    for zone in job_mm.defect_outlines(slab_layout.slab_id):  # on their own layer, which no CAM cuts
        sides = [geometry.Seg(corner, following) for corner, following in zip(zone, zone[1:] + zone[:1])]
        dxf.polyline(sides, "DEFECTS", closed=True)
    text_mm = _text_height_mm(length, width)
    for placement in slab_layout.placements:
        piece = pieces[placement.piece]
        label = f"{piece.id}" + (f" #{placement.copy}" if piece.qty > 1 else "")
        _draw_piece(dxf, piece, placement_transform(placement), placement.rotation_deg, label, text_mm)
    dxf.text(f"Slab {slab_layout.index}: {slab_layout.slab_id}, yield {slab_layout.yield_pct:g}%",
             (length / 2, width + 1.5 * text_mm), text_mm)
    return dxf.to_bytes()
