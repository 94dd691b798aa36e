"""Piece and cutout geometry in millimetres: outlines as line/arc segments, edge kinds along them, shapely twins.

- `segments`: a line or arc with its bulge; exact lengths, areas, bboxes, distances; shapely polygons;
- `outlines`: a piece's finished outline (corners applied, edge kinds and profiles along it);
- `cutouts`: sinks, hobs and holes in the piece frame.
"""

from engine.geometry.cutouts import HOLE_TYPES, cutout_missing, cutout_polygon, cutout_segs
from engine.geometry.outlines import (Outline, Span, edge_names, footprint_polygon, label_point, outline,
                                      piece_edges, raw_vertices, self_intersection, span_line, vertex_turns)
from engine.geometry.segments import (EPS, MAX_SAGITTA_MM, GeometryError, Pt, Seg, area, bbox, polyline_points,
                                      signed_area_vertices, to_polygon)

__all__ = ["EPS", "HOLE_TYPES", "MAX_SAGITTA_MM", "GeometryError", "Outline", "Pt", "Seg", "Span", "area", "bbox",
           "cutout_missing", "cutout_polygon", "cutout_segs", "edge_names", "footprint_polygon", "label_point",
           "outline", "piece_edges", "polyline_points", "raw_vertices", "self_intersection",
           "signed_area_vertices", "span_line", "to_polygon", "vertex_turns"]
