"""The price catalogue the frontend's pickers read: /api/cad/materials, /finishes, /profiles, /cutouts.

Money is sent as decimal strings ("320.00"), never floats.
"""

from __future__ import annotations

from litestar import Controller, get
from litestar.datastructures import State
from msgspec import Struct

from api.errors import errors
from pipeline import store


class CatalogueMaterial(Struct):
    name: str
    type: str
    density_kg_m3: float
    thicknesses_mm: list[float]
    price_per_m2: str | None
    price_per_slab: str | None


class CatalogueFinish(Struct):
    name: str
    description: str
    surcharge_per_m2: str


class EdgeProfile(Struct):
    name: str
    description: str
    price_per_m: str


class CutoutPrice(Struct):
    type: str
    description: str
    price_each: str


class CatalogueController(Controller):
    path = "/api/cad"
    tags = ["catalogue"]

    @get("/materials", operation_id="listMaterials", responses=errors())
    async def materials(self, state: State) -> list[CatalogueMaterial]:
        """Stone materials with density, thickness options and price per m² or per slab."""
        return [CatalogueMaterial(**r) for r in await store.list_materials(state.pool)]

    @get("/finishes", operation_id="listFinishes", responses=errors())
    async def finishes(self, state: State) -> list[CatalogueFinish]:
        """Surface finishes and their surcharge per m²."""
        return [CatalogueFinish(**r) for r in await store.list_finishes(state.pool)]

    @get("/profiles", operation_id="listEdgeProfiles", responses=errors())
    async def profiles(self, state: State) -> list[EdgeProfile]:
        """Edge profiles and their price per metre."""
        return [EdgeProfile(**r) for r in await store.list_edge_profiles(state.pool)]

    @get("/cutouts", operation_id="listCutoutPrices", responses=errors())
    async def cutouts(self, state: State) -> list[CutoutPrice]:
        """Cutout prices by type."""
        return [CutoutPrice(**r) for r in await store.list_cutout_prices(state.pool)]
