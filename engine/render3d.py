"""PNG views of a job's 3D model (top, front, isometric), drawn on the CPU with matplotlib's mplot3d and Agg.

The same scene as model.glb, viewed with an orthographic camera so that every view is to scale. mplot3d sorts
faces back to front (a painter's algorithm, no depth buffer), so faces turned away from the camera are culled
first; on closed slabs with through-holes that leaves little for the sort to get wrong. Sharp edges are drawn
as thin dark lines so outlines and cutouts read in the top view, where every top face has the same shade.
"""

from __future__ import annotations

import io
import math

import numpy as np
import trimesh
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LightSource
from matplotlib.figure import Figure
from mpl_toolkits.mplot3d import Axes3D, proj3d
from mpl_toolkits.mplot3d.art3d import Line3DCollection, Poly3DCollection

from engine.drawing.units import Lengths
from engine.model3d import material_rgba, place_copies
from engine.spec import JobSpec, to_mm

PNG_TYPE = "image/png"
# mplot3d camera (elevation, azimuth) in degrees per view; the isometric elevation is atan(1/sqrt(2)).
VIEWS: dict[str, tuple[float, float]] = {"top": (90.0, -90.0), "front": (0.0, -90.0),
                                         "iso": (math.degrees(math.atan(1 / math.sqrt(2))), -45.0)}
VIEW_NAMES = {view: f"view-{view}.png" for view in VIEWS}
SIZE_PX = (800, 600)
DPI = 100
CREASE_DEG = 20.0  # adjacent faces bent more than this draw an edge line (arc chords bend ~3 degrees)
EDGE_INK = "#2b2b2b"
MAX_LABELS = 40  # more piece names than this only cover the stone
_LIGHT = LightSource(azdeg=225, altdeg=50)


def _plan_mesh(job: JobSpec) -> tuple[trimesh.Trimesh, list[tuple[str, np.ndarray]]]:
    """The whole scene as one mesh in plan axes (x right, y back, z up; metres), and each copy's label point."""
    to_plan = np.array([[1, 0, 0, 0], [0, 0, -1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=float)  # glTF -> z up
    parts, labels = [], []
    for copy in place_copies(job):
        mesh = copy.mesh.copy()
        mesh.apply_transform(to_plan @ copy.transform)
        parts.append(mesh)
        labels.append((copy.node, (to_plan @ np.array([*copy.label_at, 1.0]))[:3]))
    whole = trimesh.util.concatenate(parts)
    assert isinstance(whole, trimesh.Trimesh)  # concatenate is typed as any Geometry
    return whole, labels


def _view_direction(elev_deg: float, azim_deg: float) -> np.ndarray:
    """Unit vector from the scene towards an mplot3d camera."""
    elevation, azimuth = math.radians(elev_deg), math.radians(azim_deg)
    return np.array([math.cos(elevation) * math.cos(azimuth), math.cos(elevation) * math.sin(azimuth),
                     math.sin(elevation)])


def _fit_zoom(ax: Axes3D, lo: np.ndarray, hi: np.ndarray, size_px: tuple[int, int]) -> float:
    """The zoom that fills the figure with the scene's box (mplot3d's default leaves a wide margin)."""
    ax.figure.canvas.draw()  # the axes are still empty: cheap, and it settles the projection measured below
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
    xs, ys, _ = proj3d.proj_transform(*corners.T, ax.get_proj())
    pixels = ax.transData.transform(np.column_stack([xs, ys]))
    width_px, height_px = np.ptp(pixels[:, 0]), np.ptp(pixels[:, 1])
    return float(min(size_px[0] * 0.94 / max(width_px, 1.0), size_px[1] * 0.86 / max(height_px, 1.0)))


def _render(mesh: trimesh.Trimesh, labels: list[tuple[str, np.ndarray]], rgba: tuple[float, ...],
            view: str, caption: str, size_px: tuple[int, int]) -> bytes:
    elev, azim = VIEWS[view]
    eye = _view_direction(elev, azim)
    facing = mesh.face_normals @ eye > 1e-9
    fig = Figure(figsize=(size_px[0] / DPI, size_px[1] / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    fig.subplots_adjust(0, 0, 1, 1)
    ax = fig.add_subplot(projection="3d", computed_zorder=False)
    ax.set_proj_type("ortho")
    ax.view_init(elev=elev, azim=azim, roll=0)
    ax.set_axis_off()
    lo, hi = mesh.bounds
    ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]), zlim=(lo[2], hi[2]))
    aspect = np.maximum(hi - lo, 1e-6)
    ax.set_box_aspect(aspect, zoom=1.0)
    ax.set_box_aspect(aspect, zoom=_fit_zoom(ax, lo, hi, size_px))
    # Lambert shading with an ambient floor; a face turned to the light shows the stone's own colour.
    light = _LIGHT.direction / _LIGHT.direction[2]  # scaled so that a level top face gets exactly 1
    shade = 0.45 + 0.55 * np.clip(mesh.face_normals[facing] @ light, 0, 1)
    colours = np.clip(np.outer(shade, rgba[:3]), 0, 1)
    # Antialiasing off: otherwise the seams between coplanar triangles show; the edge lines smooth the outline.
    faces = Poly3DCollection(mesh.triangles[facing], facecolors=colours, edgecolors=colours, linewidths=0.3,
                             antialiased=False, zsort="average", clip_on=False)
    ax.add_collection3d(faces)
    # Sharp edges of a visible face: outlines, cutout rims, the slab's arrises.
    angles = mesh.face_adjacency_angles
    pairs = mesh.face_adjacency
    crease = (angles > math.radians(CREASE_DEG)) & (facing[pairs[:, 0]] | facing[pairs[:, 1]])
    edges = mesh.vertices[mesh.face_adjacency_edges[crease]]
    # clip_on=False: mplot3d keeps its axes square, and a long scene fits the figure's width, not the square's
    ax.add_collection3d(Line3DCollection(edges, colors=EDGE_INK, linewidths=0.7, clip_on=False))
    if view != "front" and len(labels) <= MAX_LABELS:
        for name, at in labels:
            ax.text(*at, name, ha="center", va="center", fontsize=9, color=EDGE_INK, zorder=10, clip_on=False)
    fig.text(0.01, 0.01, caption, fontsize=8, color="#555555")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white")
    return buf.getvalue()


def model_views(job: JobSpec, size_px: tuple[int, int] = SIZE_PX) -> dict[str, bytes]:
    """PNGs of the 3D model, keyed "top", "front", "iso": orthographic, to scale, `size_px` (width, height)."""
    mesh, labels = _plan_mesh(job)
    material = job.material
    rgba = material_rgba(material.type, material.color)
    thickness = Lengths(job.units).thickness(to_mm(job).material.thickness)
    out = {}
    for view in VIEWS:
        caption = f"{job.job.name} - {view} view - {material.name}, {thickness}"
        out[view] = _render(mesh, labels, rgba, view, caption, size_px)
    return out
