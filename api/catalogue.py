"""The price catalogue the frontend's pickers read: /api/cad/materials, /finishes, /profiles, /cutouts.

Money is sent as decimal strings ("320.00"), never floats, in the catalogue's currency (EUR). Every item also
carries the fields the shop's web app reads (FRONTEND_CONTRACT.md §1): a stable integer `id`, and for materials
`density` (g/cm³), `cost_sqm`, `texture` and `color`; `cost_sqm` for finishes; `cost_m` for profiles. Those are
JSON numbers, as the app expects; the decimal strings beside them are the exact figures.
"""

from __future__ import annotations

from litestar import Controller, get
from litestar.datastructures import State

from api.errors import errors
from pipeline import store
from pipeline.rows import CatalogueFinish, CatalogueMaterial, CutoutPrice, EdgeProfile  # sent as the store reads them


class CatalogueController(Controller):
    path = "/api/cad"
    tags = ["catalogue"]

    @get("/materials", operation_id="listMaterials", responses=errors())
    async def materials(self, state: State) -> list[CatalogueMaterial]:
        """Stone materials in id order: density, thickness options, price per m² or per slab (EUR), swatch."""
        return await store.list_catalogue_materials(state.pool)

    @get("/finishes", operation_id="listFinishes", responses=errors())
    async def finishes(self, state: State) -> list[CatalogueFinish]:
        """Surface finishes and their surcharge per m²."""
        return await store.list_catalogue_finishes(state.pool)

    @get("/profiles", operation_id="listEdgeProfiles", responses=errors())
    async def profiles(self, state: State) -> list[EdgeProfile]:
        """Edge profiles and their price per metre."""
        return await store.list_catalogue_edge_profiles(state.pool)

    @get("/cutouts", operation_id="listCutoutPrices", responses=errors())
    async def cutouts(self, state: State) -> list[CutoutPrice]:
        """Cutout prices by type."""
        return await store.list_cutout_prices(state.pool)
