"""The slab yard's queries (pipeline/yard.py holds its logic, api/slabs.py its routes), one typed function per
named query in queries.sql, run by store.py's runners."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row, scalar_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from pipeline.rows import ConfirmingJob, ConsumedSlab, SlabPhotoRow, SlabRow, StockSlabRow, TakenSlab
from pipeline.store import _all, _one, _rows


async def insert_slab(pool: AsyncConnectionPool, *, code: str, material: str, thickness: float, length: float,
                      width: float, owner: str | None = None, material_type: str | None = None, units: str = "mm",
                      kind: str = "full", defects: Any = (), notes: str | None = None) -> SlabRow | None:
    """A new on-hand slab (`defects`: anything msgspec encodes, e.g. the spec's zone Structs), or None when the
    owner's yard already has a live slab with this code."""
    return await _one(pool, "insert_slab", {
        "code": code, "owner": owner, "material_name": material, "material_type": material_type,
        "thickness": thickness, "length": length, "width": width, "units": units, "kind": kind,
        "defects": Jsonb(list(defects)), "notes": notes}, class_row(SlabRow))


async def list_slabs(pool: AsyncConnectionPool, *, owner: str | None = None, status: str | None = None,
                     kind: str | None = None, material: str | None = None,
                     before: tuple[datetime, uuid.UUID] | None = None, limit: int = 50) -> list[SlabRow]:
    return await _all(pool, "list_slabs", {
        "owner": owner, "status": status, "kind": kind, "material": material, "limit": limit,
        "before_created_at": before[0] if before else None, "before_id": before[1] if before else None},
        class_row(SlabRow))


async def get_slab(pool: AsyncConnectionPool, id: uuid.UUID, owner: str | None = None) -> SlabRow | None:
    return await _one(pool, "get_slab", {"id": id, "owner": owner}, class_row(SlabRow))


SLAB_FIELDS = ("code", "material_name", "material_type", "thickness", "length", "width", "units", "kind", "defects",
               "notes", "status")


async def update_slab(pool: AsyncConnectionPool, id: uuid.UUID, owner: str | None, **changes: Any) -> SlabRow | None:
    """Change an on-hand slab (`SLAB_FIELDS`; None leaves a field as it is); None when it is missing or not on
    hand. Raises psycopg.errors.UniqueViolation for a code another live slab has."""
    params: dict[str, Any] = {name: changes.get(name) for name in SLAB_FIELDS}
    if params["defects"] is not None:
        params["defects"] = Jsonb(params["defects"])
    return await _one(pool, "update_slab", {**params, "id": id, "owner": owner}, class_row(SlabRow))


async def delete_slab(pool: AsyncConnectionPool, id: uuid.UUID, owner: str | None = None) -> bool:
    return await _one(pool, "delete_slab", {"id": id, "owner": owner}, scalar_row) is not None


async def put_slab_photo(pool: AsyncConnectionPool, id: uuid.UUID, owner: str | None, *, content_type: str,
                         data: bytes) -> bool:
    """Store the slab's photo; False when there is no such slab (for this owner)."""
    return await _one(pool, "put_slab_photo", {
        "id": id, "owner": owner, "content_type": content_type, "size_bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(), "data": data}, scalar_row) is not None


async def get_slab_photo(pool: AsyncConnectionPool, id: uuid.UUID, owner: str | None = None) -> SlabPhotoRow | None:
    return await _one(pool, "get_slab_photo", {"id": id, "owner": owner}, class_row(SlabPhotoRow))


async def list_stock_slabs(pool: AsyncConnectionPool, *, job_id: uuid.UUID, material: str, thickness_mm: float,
                           remnants: int, full: int) -> list[StockSlabRow]:
    """The on-hand slabs an inventory job may be nested on, remnants first."""
    return await _all(pool, "list_stock_slabs", {"job_id": job_id, "material": material, "thickness_mm": thickness_mm,
                                                 "remnants": remnants, "full": full}, class_row(StockSlabRow))


async def allocate_slabs(conn: AsyncConnection[Any], *, job_id: uuid.UUID, ids: list[uuid.UUID]) -> list[TakenSlab]:
    """Take these on-hand slabs for the job (SKIP LOCKED); the ones taken, which may be fewer."""
    return await _rows(conn, "allocate_slabs", {"job_id": job_id, "ids": ids}, class_row(TakenSlab))


async def lock_job_for_confirm(conn: AsyncConnection[Any], id: uuid.UUID, owner: str | None) -> ConfirmingJob | None:
    rows = await _rows(conn, "lock_job_for_confirm", {"id": id, "owner": owner}, class_row(ConfirmingJob))
    return rows[0] if rows else None


async def consume_slabs(conn: AsyncConnection[Any], *, job_id: uuid.UUID, owner: str | None,
                        codes: list[str]) -> list[ConsumedSlab]:
    return await _rows(conn, "consume_slabs", {"job_id": job_id, "owner": owner, "codes": codes},
                       class_row(ConsumedSlab))


async def count_consumed_by(conn: AsyncConnection[Any], job_id: uuid.UUID) -> int:
    (slabs,) = await _rows(conn, "count_consumed_by", {"job_id": job_id}, scalar_row)
    return int(slabs)


async def insert_remnants(conn: AsyncConnection[Any], *, owner: str | None,
                          remnants: list[dict[str, Any]]) -> list[SlabRow]:
    """New on-hand remnants: each {id, parent, code, length, width} in its parent slab's units."""
    return await _rows(conn, "insert_remnants", {"owner": owner, "remnants": Jsonb(remnants)}, class_row(SlabRow))
