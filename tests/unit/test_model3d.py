"""The 3D model (model.glb) and its PNG views: true size in metres, the DXF's outline, cutouts as holes, colour."""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import subprocess
from pathlib import Path

import msgspec
import numpy as np
import pytest
import shapely
import trimesh

from engine.cad import run_cad
from engine.model3d import (
    DEFAULT_COLOUR,
    MATERIAL_COLOURS,
    MODEL_NAME,
    MODEL_TYPE,
    material_rgba,
    model_glb,
    srgb_to_linear,
)
from engine.render3d import PNG_TYPE, VIEW_NAMES, model_views
from engine.spec import decode_job
from engine.summary import summarize

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
JOBS = sorted(p.name for p in EXAMPLES.glob("*.json") if p.name != "expected.json")
VALIDATOR = Path(__file__).with_name("gltf_validate.cjs")
NODE_MODULES = ROOT / ".node" / "node_modules"


def example(name: str, **changes):
    raw = json.loads((EXAMPLES / name).read_text())
    for key, value in changes.items():  # "material.color" -> raw["material"]["color"]
        *path, last = key.split(".")
        obj = raw
        for part in path:
            obj = obj.setdefault(part, {})
        obj[last] = value
    return decode_job(raw)


def load(glb: bytes) -> trimesh.Scene:
    return trimesh.load(io.BytesIO(glb), file_type="glb")


def gltf_json(glb: bytes) -> dict:
    """The JSON chunk of a GLB: 12-byte header, then chunk length, chunk type, chunk data."""
    magic, version, _ = struct.unpack("<4sII", glb[:12])
    assert (magic, version) == (b"glTF", 2)
    length, kind = struct.unpack("<I4s", glb[12:20])
    assert kind == b"JSON"
    return json.loads(glb[20:20 + length])


def node_meshes(scene: trimesh.Scene) -> dict[str, trimesh.Trimesh]:
    """Each node's mesh, in scene coordinates."""
    out = {}
    for node in scene.graph.nodes_geometry:
        tf, geom = scene.graph[node]
        out[node] = scene.geometry[geom].copy().apply_transform(tf)
    return out


def test_l_kitchen_pieces_are_true_size_in_metres_with_the_nets_volume():
    job = example("l-kitchen.json")
    meshes = node_meshes(load(model_glb(job)))
    assert sorted(meshes) == ["A", "B"]
    summary = summarize(job, None)
    for piece in summary.pieces:
        mesh = meshes[piece.id]
        assert mesh.is_watertight and mesh.is_volume
        # glTF is Y up: x = length, y = thickness, z = depth
        assert mesh.extents == pytest.approx([piece.length_mm / 1000, 0.030, piece.depth_mm / 1000], abs=1e-6)
        assert mesh.volume == pytest.approx(piece.area_net_m2 * 0.030, rel=2e-4)
    assert meshes["A"].extents == pytest.approx([2.9, 0.03, 0.62], abs=1e-6)
    assert meshes["A"].bounds[0][1] == pytest.approx(0.0, abs=1e-9)  # lying on the floor


def cross_section(mesh: trimesh.Trimesh, height_m: float):
    """The mesh cut by the level plane at `height_m`, as a shapely area in plan (x, -z) metres."""
    segs = trimesh.intersections.mesh_plane(mesh, plane_normal=[0, 1, 0], plane_origin=[0, height_m, 0])
    # endpoints of neighbouring segments agree only to float noise; polygonize needs them equal
    return shapely.build_area(shapely.MultiLineString([np.round(s[:, [0, 2]] * [1, -1], 7) for s in segs]))


def test_a_cutout_is_a_through_hole():
    job = example("l-kitchen.json")
    a = node_meshes(load(model_glb(job)))["A"]  # A is laid out first, at its own origin
    sink, faucet, solid = (1.9, 0.29), (1.9, 0.565), (0.5, 0.3)
    for height in (0.001, 0.015, 0.029):  # near the bottom, halfway, near the top
        area = cross_section(a, height)
        assert not area.contains(shapely.Point(sink)) and not area.contains(shapely.Point(faucet))
        assert area.contains(shapely.Point(solid))
        assert len(area.interiors) == 2
    # and the stone removed is the sink's and the faucet hole's area, through the whole thickness
    gross = 2.9 * 0.62 * 0.03
    sink_area = 0.76 * 0.43 - (4 - np.pi) * 0.02**2
    faucet_area = np.pi * 0.0175**2
    assert gross - a.volume == pytest.approx((sink_area + faucet_area) * 0.03, rel=1e-3)


def test_a_job_in_inches_is_still_metres_in_gltf():
    mm = example("l-kitchen.json")
    raw = msgspec.to_builtins(mm)
    raw["units"] = "in"
    raw["material"]["thickness"] = 1.25
    raw["pieces"] = [{"id": "R", "shape": {"type": "rect", "length": 100, "depth": 25.5}}]
    meshes = node_meshes(load(model_glb(decode_job(raw))))
    assert meshes["R"].extents == pytest.approx([2.54, 0.03175, 0.6477], abs=1e-6)


def test_copies_are_named_nodes_side_by_side():
    job = example("waterjet-vanities.json")
    meshes = node_meshes(load(model_glb(job)))
    expected = [p.id if p.qty == 1 else f"{p.id}#{k}" for p in job.pieces for k in range(1, p.qty + 1)]
    assert sorted(meshes) == sorted(expected)
    boxes = [m.bounds for m in meshes.values()]
    for i, (lo, hi) in enumerate(boxes):  # no two copies overlap in plan (x, z)
        for lo2, hi2 in boxes[i + 1:]:
            assert hi[0] <= lo2[0] or hi2[0] <= lo[0] or hi[2] <= lo2[2] or hi2[2] <= lo[2]
    glb = gltf_json(model_glb(job))
    assert len(glb["nodes"]) == len(expected) and glb["asset"]["version"] == "2.0"


def test_colour_by_material_type_or_given():
    def base_colour(job) -> list[float]:
        (material,) = gltf_json(model_glb(job))["materials"]
        return material["pbrMetallicRoughness"]["baseColorFactor"]

    byte = 1 / 255 + 1e-9  # trimesh keeps material colours as 8-bit values
    def rgba(hex_colour: str) -> list[float]:  # glTF wants linear light: the sRGB transfer curve undone
        srgb = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        return [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in srgb] + [1.0]

    assert base_colour(example("l-kitchen.json")) == pytest.approx(rgba(MATERIAL_COLOURS["quartz"]), abs=byte)
    assert base_colour(example("l-kitchen.json", **{"material.color": "#D2B48C"})) == pytest.approx(rgba("#D2B48C"), abs=byte)
    assert base_colour(example("l-kitchen.json", **{"material.type": "unobtainium"})) == pytest.approx(
        rgba(DEFAULT_COLOUR), abs=byte)
    assert material_rgba("Engineered Quartz") == material_rgba("quartz")
    assert srgb_to_linear((0.5, 0.5, 0.5, 1.0)) == pytest.approx((0.2140, 0.2140, 0.2140, 1.0), abs=1e-4)
    with pytest.raises(msgspec.ValidationError, match=r"\$\.material\.color"):
        example("l-kitchen.json", **{"material.color": "tan"})


def test_run_cad_adds_the_model_by_default_and_renders_when_asked():
    names = {a.name: a for a in run_cad(example("island.json")).artifacts}
    assert names[MODEL_NAME].content_type == MODEL_TYPE and not set(VIEW_NAMES.values()) & set(names)
    off = run_cad(example("island.json", **{"options.outputs.glb": False}))
    assert MODEL_NAME not in {a.name for a in off.artifacts}
    on = {a.name: a for a in run_cad(example("island.json", **{"options.outputs.renders": True})).artifacts}
    for name in VIEW_NAMES.values():
        assert on[name].content_type == PNG_TYPE


@pytest.mark.parametrize("view", sorted(VIEW_NAMES))
def test_views_are_800_by_600_and_show_the_stone(view):
    from matplotlib.image import imread

    job = example("l-kitchen.json")
    png = model_views(job)[view]
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", png[16:24]) == (800, 600)
    pixels = imread(io.BytesIO(png))[..., :3]
    stone = np.array(material_rgba(job.material.type)[:3])
    near = np.abs(pixels - stone).max(axis=-1) < 0.12  # lit faces: the stone's colour, a little shaded
    share = near.mean()
    # the top view is mostly stone; the front view of 30 mm slabs is a thin strip, but not nothing
    assert share > {"top": 0.15, "iso": 0.05, "front": 0.001}[view], share


def test_top_view_shows_the_sink_as_a_hole():
    from matplotlib.image import imread

    job = example("l-kitchen.json")
    pixels = imread(io.BytesIO(model_views(job)["top"]))[:-30, :, :3]  # above the caption
    stone = np.abs(pixels - np.array(material_rgba(job.material.type)[:3])).max(axis=-1) < 0.05
    white = (pixels > 0.97).all(axis=-1)
    rows = np.where(stone.any(axis=1))[0]
    # Piece A is the front row (the lower half of the stone); its sink spans plan y 75..505 of 620.
    a_row = rows.max() - (rows.max() - rows.min()) // 8
    cols = np.where(stone[a_row])[0]
    assert white[a_row, cols.min():cols.max()].sum() > 50, "no hole inside piece A"
    b_row = rows.min() + 2  # piece B's back edge: stone all along
    cols = np.where(stone[b_row])[0]
    assert white[b_row, cols.min():cols.max()].sum() < 3


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_every_example_passes_the_khronos_gltf_validator(tmp_path):
    assert (NODE_MODULES / "gltf-validator").is_dir(), (
        "the glTF validator is missing: npm install --prefix .node gltf-validator (.ci/run does)")
    files = []
    for name in JOBS:
        f = tmp_path / f"{Path(name).stem}.glb"
        f.write_bytes(model_glb(example(name)))
        files.append(str(f))
    out = subprocess.run(["node", str(VALIDATOR), *files], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "NODE_PATH": str(NODE_MODULES)}, check=True)
    reports = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(reports) == len(files)
    for r in reports:
        assert (r["numErrors"], r["numWarnings"]) == (0, 0), (r["file"], r["messages"])
        assert r["info"]["totalTriangleCount"] > 0
