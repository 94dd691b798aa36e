"""The first system's request shape (`{"dims", "material", ...}`, all in mm) and its one-piece v1 job."""

from __future__ import annotations

from msgspec import Struct

from engine.spec.job import (RECT_SIDES, DripGroove, Edge, JobInfo, JobSpec, Length, Material, Name, Offset, Piece,
                             RectShape, RectSide, SlabStock, Text)


class LegacyDims(Struct, frozen=True):
    length: Length
    width: Length
    height: Length = 20.0


class LegacyNamed(Struct, frozen=True):
    name: Text = ""
    radius: Offset | None = None


class LegacyEdges(Struct, frozen=True):
    front: bool = False
    back: bool = False
    left: bool = False
    right: bool = False


class LegacyRequest(Struct, frozen=True):
    """`{"dims", "material", "finish", "profile", "processedEdges", "okapnikEdges"}`, all in mm."""

    dims: LegacyDims
    material: LegacyNamed = LegacyNamed("Granite")
    finish: LegacyNamed | None = None
    profile: LegacyNamed | None = None
    processedEdges: LegacyEdges = LegacyEdges()
    okapnikEdges: LegacyEdges = LegacyEdges()
    id: Name | None = None


def legacy_to_v1(req: LegacyRequest, job_id: str) -> JobSpec:
    """One rectangular element; processed edges become finished, okapnik edges get an 8x5 mm drip groove at 20 mm."""
    profile = req.profile.name if req.profile and req.profile.name else "eased"
    edges: dict[RectSide, Edge] = {}
    for side in RECT_SIDES:
        finished = getattr(req.processedEdges, side)
        groove = DripGroove(offset=20.0, width=8.0, depth=5.0) if getattr(req.okapnikEdges, side) else None
        edges[side] = Edge(kind="finished" if finished else "sawn", profile=profile if finished else None,
                           drip_groove=groove)
    length, depth = req.dims.length, req.dims.width
    margin = 10.0
    return JobSpec(
        spec_version="1.0",
        job=JobInfo(id=req.id or job_id, name=f"{req.material.name or 'Stone'} element {length:g} x {depth:g} mm"),
        units="mm",
        material=Material(
            name=req.material.name or "Stone",
            type="granite",
            thickness=req.dims.height,
            finish=req.finish.name if req.finish else None,
            density_kg_m3=2650.0,
        ),
        slab_stock=[SlabStock(id="STOCK", length=max(3200.0, length + 2 * margin + 1),
                              width=max(1600.0, depth + 2 * margin + 1), qty=None, kind="full")],
        pieces=[Piece(id="P1", type="countertop", shape=RectShape(length=length, depth=depth), edges=edges)],
    )
