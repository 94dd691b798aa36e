"""The slab yard's part of a job: the stock of a job with `"slab_stock": "inventory"` read from the yard before its
CAD stage, and its confirmation (its slabs consumed, its offcuts back in the yard as remnants). The allocation of
the slabs a CAD stage chose commits with that stage's result (pipeline/completion.py)."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import Any

import msgspec
from psycopg_pool import AsyncConnectionPool

from engine.spec import INVENTORY, MAX_STOCK, MM_PER_UNIT
from pipeline import yard_store
from pipeline.rows import SlabRow

REMNANT_CODE_MAX = 64
FULL_SLABS_OFFERED = 20  # of the job's MAX_STOCK slabs; a job that needs more fails as when stock runs out


class _Material(msgspec.Struct):
    name: str
    thickness: float


class _YardFields(msgspec.Struct):
    """What the yard reads of a claimed job's spec (validated on submission): decoding only this skips the rest."""

    material: _Material
    units: str = "mm"


def _fields(spec_json: bytes | str) -> _YardFields:
    return msgspec.json.decode(spec_json, type=_YardFields)


class _Stock(msgspec.Struct):
    slab_stock: msgspec.Raw = msgspec.Raw(b"null")


_INVENTORY_JSON = msgspec.json.encode(INVENTORY)


def from_inventory(spec_json: bytes | str) -> bool:
    """The job is nested on the yard's slabs (`"slab_stock": "inventory"`): read on every CAD stage, so it decodes
    nothing else (and asks nothing else of the spec)."""
    return bytes(msgspec.json.decode(spec_json, type=_Stock).slab_stock) == _INVENTORY_JSON


@dataclass(frozen=True, slots=True)
class Stock:
    """An inventory job with the yard's on-hand slabs as its `slab_stock`, and which slab each code names."""

    spec_json: bytes
    by_code: dict[str, uuid.UUID]

    def chosen(self, summary: Any) -> list[uuid.UUID]:
        """The yard's slabs the CAD stage nested the job on (its summary's layouts name them by code)."""
        layouts = ((summary or {}).get("slabs") or {}).get("layouts") or []
        return [self.by_code[layout["slab_id"]] for layout in layouts]


def _zone_in(zone: dict[str, Any], factor: float) -> dict[str, Any]:
    """A defect zone scaled by `factor` (from the slab's units to the job's)."""
    if zone.get("type") == "polygon":
        return {"type": "polygon", "vertices": [[x * factor, y * factor] for x, y in zone["vertices"]]}
    return {"type": "rect", **{name: zone[name] * factor for name in ("x", "y", "length", "width")}}


async def stock_for(pool: AsyncConnectionPool, job_id: uuid.UUID, spec_json: bytes) -> Stock | str:
    """The job with its owner's on-hand slabs of its material and thickness as stock (each once, remnants first,
    at most 80 remnants and 20 full slabs, in the job's units), or the reason there is none, for a person."""
    fields = _fields(spec_json)
    job_mm = MM_PER_UNIT[fields.units]
    rows = await yard_store.list_stock_slabs(pool, job_id=job_id, material=fields.material.name,
                                             thickness_mm=fields.material.thickness * job_mm,
                                             remnants=MAX_STOCK - FULL_SLABS_OFFERED, full=FULL_SLABS_OFFERED)
    if not rows:
        thickness = f"{fields.material.thickness:g} {fields.units}"
        return (f"The yard holds no slab on hand of {fields.material.name}, {thickness}: add slabs at /api/slabs, "
                "or give the job its own slab_stock.")
    stock = []
    for row in rows:
        to_job = MM_PER_UNIT[row.units] / job_mm  # the slab's units -> the job's
        stock.append({"id": row.code, "length": row.length * to_job, "width": row.width * to_job, "qty": 1,
                      "kind": row.kind, "defects": [_zone_in(zone, to_job) for zone in row.defects]})
    spec = msgspec.json.decode(spec_json)
    spec["slab_stock"] = stock
    return Stock(msgspec.json.encode(spec), {row.code: row.id for row in rows})


# ---- confirmation ---------------------------------------------------------------------------------------------------


class ConfirmRefused(Exception):
    """The job cannot be confirmed: `status` is the HTTP answer (404 or 409), the message says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Confirmed:
    consumed: list[str]  # the codes of the slabs cut
    remnants: list[SlabRow]  # the offcuts now on hand


def _floor(value: float, units: str) -> float:
    """A remnant's size rounded down to what a tape measure reads (0.1 mm, 1/100 in): never larger than it is."""
    step = 0.1 if units == "mm" else 0.01
    return round(math.floor(value / step + 1e-9) * step, 2)


async def confirm_job(pool: AsyncConnectionPool, job_id: uuid.UUID, owner: str | None) -> Confirmed:
    """The shop cut the job: its slabs are consumed and its usable offcuts go on hand as remnants, in one
    transaction. Raises ConfirmRefused: no such job (404); not an inventory job, not succeeded, already
    confirmed, or a slab of it consumed or taken by another job since (409)."""
    async with pool.connection() as conn, conn.transaction():
        job = await yard_store.lock_job_for_confirm(conn, job_id, owner)
        if job is None:
            raise ConfirmRefused(404, f"no job {job_id}")
        if not job.from_inventory:
            raise ConfirmRefused(409, "only a job nested on the yard (\"slab_stock\": \"inventory\") is confirmed")
        if job.status != "succeeded":
            raise ConfirmRefused(409, f"cannot confirm a job that is {job.status}; it must be succeeded")
        if await yard_store.count_consumed_by(conn, job_id):
            raise ConfirmRefused(409, "the job is already confirmed: its slabs are consumed")
        layouts = (job.summary or {}).get("slabs", {}).get("layouts", [])
        codes = [layout["slab_id"] for layout in layouts]
        consumed = await yard_store.consume_slabs(conn, job_id=job_id, owner=job.owner, codes=codes)
        taken = {row.code: row for row in consumed}
        missing = [code for code in codes if code not in taken]
        if missing:
            raise ConfirmRefused(409, f"slab{'s' if len(missing) > 1 else ''} {', '.join(missing)} of this job "
                                      "left the yard or went to another job; submit the job again")
        remnants = []
        for layout in layouts:
            parent = taken[layout["slab_id"]]
            to_slab = 1.0 / MM_PER_UNIT[parent.units]  # mm -> the parent slab's units
            for number, offcut in enumerate(layout.get("remnants", []), start=1):
                code = f"{parent.code[:REMNANT_CODE_MAX - 4]}-R{number}"
                remnants.append({"id": uuid.uuid4(), "parent": parent.id, "code": code,
                                 "length": _floor(offcut["length_mm"] * to_slab, parent.units),
                                 "width": _floor(offcut["width_mm"] * to_slab, parent.units)})
        added = await yard_store.insert_remnants(conn, owner=job.owner, remnants=remnants) if remnants else []
    return Confirmed(consumed=codes, remnants=added)
