"""3D model of a job: every piece copy extruded to the material thickness from the outline the DXF cuts, as GLB.

glTF is metres and Y up, whatever the job's units. A piece's plan x runs along +X, its plan y (front edge at
y=0, back towards +y) along -Z, and its thickness along +Y: the stone lies on the floor with its top at
Y = thickness and its front edge facing a viewer on +Z. Cutouts that lie inside a piece go right through it,
as they are cut. The copies are laid out side by side in rows, one named node each (`A`, or `V#1`, `V#2` when a
piece has qty > 1), all sharing the piece's one mesh.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass

import numpy as np
import shapely
import trimesh
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.polygon import orient
from shapely.ops import polylabel
from trimesh.visual.material import PBRMaterial

from engine import geometry
from engine.spec import JobSpec, Piece, to_mm

MODEL_NAME = "model.glb"
MODEL_TYPE = "model/gltf-binary"
PIECE_GAP_MM = 100.0  # between copies in the layout, so each reads as its own piece

# Base colour per material type (lower case, `_` for spaces); `material.color` overrides it.
MATERIAL_COLOURS = {
    "quartz": "#e8e4dc", "quartzite": "#ddd8cf", "granite": "#77716a", "marble": "#f1efea",
    "limestone": "#d9cfb8", "travertine": "#d8c7a6", "onyx": "#e9dcc0", "soapstone": "#4f5452",
    "slate": "#474b4e", "porcelain": "#ececea", "sintered": "#d6d3cf", "ceramic": "#e4e2de",
    "terrazzo": "#d4cfc6", "concrete": "#a8a6a1", "solid_surface": "#f4f2ee",
}
DEFAULT_COLOUR = "#b8b4ac"  # a neutral stone grey for a type the palette does not know
# Polished stone reflects, honed and textured finishes are matte; glTF's roughness is 0 (mirror) .. 1.
FINISH_ROUGHNESS = {"polished": 0.2, "honed": 0.6, "brushed": 0.65, "leathered": 0.75, "flamed": 0.9}
DEFAULT_ROUGHNESS = 0.5
_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")

# Plan (x, y, z up) in mm -> glTF (X, Y up, Z towards the viewer) in m: a -90 degree turn about x, then 1/1000.
_TO_GLTF = np.diag([0.001, 0.001, 0.001, 1.0]) @ trimesh.transformations.rotation_matrix(-math.pi / 2, [1, 0, 0])


def material_rgba(type_name: str, color: str | None = None) -> tuple[float, float, float, float]:
    """The stone's colour as sRGB fractions (as on screen): `color` (`#rrggbb`) when given, else by material type."""
    key = re.sub(r"[\s-]+", "_", type_name.strip().lower())
    hex_colour = color or MATERIAL_COLOURS.get(key) or next(
        (colour for name, colour in MATERIAL_COLOURS.items() if name in key), DEFAULT_COLOUR)
    match = _HEX.match(hex_colour)
    if match is None:
        raise ValueError(f"colour {hex_colour!r} is not #rrggbb")
    digits = match.group(1)
    return (int(digits[0:2], 16) / 255, int(digits[2:4], 16) / 255, int(digits[4:6], 16) / 255, 1.0)


def srgb_to_linear(rgba: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """glTF's baseColorFactor is linear light, not sRGB: without this every stone would show paler than its swatch."""
    red, green, blue = (channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4
                        for channel in rgba[:3])
    return (red, green, blue, rgba[3])


def piece_plan(piece: Piece) -> Polygon | MultiPolygon:
    """One copy's plan (mm): the outline the DXF cuts, less the cutouts lying inside it (as the summary counts)."""
    poly = geometry.outline(piece).polygon()
    if not poly.is_valid:
        raise geometry.GeometryError(f"{piece.id}: the outline is not a simple polygon "
                                     f"({shapely.is_valid_reason(poly)})")
    cover = poly.buffer(1e-6)
    holes = []
    for cutout in piece.cutouts:
        if geometry.cutout_missing(cutout) is None and cover.covers(hole := geometry.cutout_polygon(cutout)):
            holes.append(hole)
    return poly.difference(shapely.union_all(holes)) if holes else poly


def piece_mesh(piece: Piece, thickness_mm: float) -> trimesh.Trimesh:
    """One copy of a piece (of a job in mm) as a closed solid in glTF metres, in the piece's own plan frame."""
    return _extrude(piece_plan(piece), thickness_mm)


def _extrude(plan: Polygon | MultiPolygon, thickness_mm: float) -> trimesh.Trimesh:
    parts = list(plan.geoms) if isinstance(plan, MultiPolygon) else [plan]
    solids = [trimesh.creation.extrude_polygon(orient(part, sign=1.0), thickness_mm, engine="earcut")
              for part in parts if part.area > 0]
    if not solids:
        raise geometry.GeometryError("nothing of the piece is left once its cutouts are cut")
    mesh = solids[0] if len(solids) == 1 else trimesh.util.concatenate(solids)
    assert isinstance(mesh, trimesh.Trimesh)  # concatenate is typed as any Geometry
    mesh.apply_transform(_TO_GLTF)
    return mesh


def _layout(sizes: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Plan positions (mm) of bboxes `(length, depth)`: rows left to right, each row behind the last."""
    gap = PIECE_GAP_MM
    row_limit = max(max(length for length, _ in sizes),
                    2 * math.sqrt(sum((length + gap) * (depth + gap) for length, depth in sizes)))
    out, x, y, row_depth = [], 0.0, 0.0, 0.0
    for length, depth in sizes:
        if x > 0 and x + length > row_limit:
            x, y, row_depth = 0.0, y + row_depth + gap, 0.0
        out.append((x, y))
        x += length + gap
        row_depth = max(row_depth, depth)
    return out


@dataclass(frozen=True)
class PlacedCopy:
    """One piece copy in the scene: its node name, its piece's shared mesh, where it stands, where its label goes."""

    node: str  # "A", or "V#1", "V#2" for a piece with qty 2
    mesh_name: str  # "piece-A"
    mesh: trimesh.Trimesh  # the piece in its own plan frame, glTF metres
    transform: np.ndarray  # 4x4, piece frame -> scene (a translation)
    label_at: tuple[float, float, float]  # a point on the copy's top face, scene metres


def place_copies(job: JobSpec) -> list[PlacedCopy]:
    """Every piece copy of a job, meshed once per piece and laid out side by side, coloured by the material."""
    job_mm = to_mm(job)
    material = job.material
    finish = (material.finish or "").strip().lower()
    colour = srgb_to_linear(material_rgba(material.type, material.color))
    stone = PBRMaterial(name=material.name, baseColorFactor=colour, metallicFactor=0.0,
                        roughnessFactor=FINISH_ROUGHNESS.get(finish, DEFAULT_ROUGHNESS))
    thickness_m = job_mm.material.thickness / 1000
    pending = []  # (node, mesh name, mesh, plan bbox, label point in the piece frame)
    names: set[str] = set()
    for piece in job_mm.pieces:
        plan = piece_plan(piece)
        mesh = _extrude(plan, job_mm.material.thickness)
        mesh.visual = trimesh.visual.TextureVisuals(material=stone)
        name = f"piece-{piece.id}"
        if name in names:  # check() rejects duplicate ids; keep the scene whole all the same
            name = f"{name}-{len(names) + 1}"
        names.add(name)
        box = geometry.bbox(geometry.outline(piece).segs)
        label = polylabel(max(plan.geoms, key=lambda part: part.area) if isinstance(plan, MultiPolygon) else plan,
                          tolerance=max(1.0, (box[2] - box[0] + box[3] - box[1]) / 200))
        for copy in range(1, piece.qty + 1):
            node = piece.id if piece.qty == 1 else f"{piece.id}#{copy}"
            pending.append((node, name, mesh, box, (label.x, label.y)))
    out: list[PlacedCopy] = []
    used: set[str] = set()
    positions = _layout([(box[2] - box[0], box[3] - box[1]) for _, _, _, box, _ in pending])
    for (node, name, mesh, box, (label_x, label_y)), (place_x, place_y) in zip(pending, positions, strict=True):
        minx, miny = box[0], box[1]
        while node in used:
            node += "'"
        used.add(node)
        dx, dy = place_x - minx, place_y - miny  # plan mm
        transform = np.eye(4)
        transform[:3, 3] = (dx / 1000, 0.0, -dy / 1000)
        label_at = ((label_x + dx) / 1000, thickness_m, -(label_y + dy) / 1000)
        out.append(PlacedCopy(node, name, mesh, transform, label_at))
    return out


def job_scene(job: JobSpec) -> trimesh.Scene:
    """Every piece copy of a job as a named node of one scene (glTF metres, Y up)."""
    scene = trimesh.Scene()
    scene.metadata["name"] = job.job.name
    for copy in place_copies(job):
        scene.add_geometry(copy.mesh, node_name=copy.node, geom_name=copy.mesh_name, transform=copy.transform)
    return scene


def model_glb(job: JobSpec) -> bytes:
    """The job's 3D model as binary glTF (GLB): metres, Y up, one node per piece copy, the material's colour."""
    buf = io.BytesIO()
    job_scene(job).export(buf, file_type="glb")
    return buf.getvalue()
