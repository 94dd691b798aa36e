"""What each query of queries.sql returns: one Struct per result shape, its fields the query's columns in order
(psycopg's `class_row` builds them by column name). Rows the API sends on as they are keep the API's names,
since they are its OpenAPI components: `AttemptInfo` and the catalogue's items."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from msgspec import Struct

Status = Literal["queued", "running", "succeeded", "failed", "cancelled"]
Stage = Literal["cad", "pdf"]
Outcome = Literal["succeeded", "retry", "failed", "released", "lost", "cancelled"]


class InsertedRow(Struct, frozen=True):
    """insert_jobs: a job the statement inserted (a reused Idempotency-Key inserts none)."""

    id: uuid.UUID
    status: Status


class IdempotentJobRow(Struct, frozen=True):
    """get_job_by_idempotency_key: the job a retried submission already created."""

    id: uuid.UUID
    status: Status
    stage: Stage
    created_at: dt.datetime
    request_sha256: str | None


class ClaimedJob(Struct, frozen=True):
    """claim_jobs: a job this worker now holds under lease; spec and summary as the JSON text stored."""

    id: uuid.UUID
    stage: Stage
    attempts: int
    max_attempts: int
    spec_json: str
    summary_json: str | None
    cancel_requested: bool


class LeaseRow(Struct, frozen=True):
    """extend_leases: a lease still held, and whether the job's cancel was asked for."""

    id: uuid.UUID
    cancel_requested: bool


class StageFile(Struct, frozen=True):
    """list_stage_files: an artifact an earlier stage stored."""

    name: str
    content_type: str
    data: bytes


class RescuedJob(Struct, frozen=True):
    """rescue_jobs: a job whose lease expired, requeued or failed, and the worker that lost it."""

    id: uuid.UUID
    status: Status
    stage: Stage
    locked_by: str | None


class JobRow(Struct, frozen=True):
    """get_job: one job as the API shows it."""

    id: uuid.UUID
    status: Status
    stage: Stage
    job_ref: str
    spec: Any
    priority: int
    run_after: dt.datetime
    attempts: int
    max_attempts: int
    summary: dict[str, Any] | None
    warnings: list[Any]
    last_error: str | None
    cancel_requested: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class AttemptInfo(Struct, frozen=True):
    """list_job_attempts: one attempt at a stage; `finished_at` and `outcome` are None while it runs."""

    stage: str
    attempt: int
    worker_id: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    outcome: str | None
    error: str | None


class ArtifactInfoRow(Struct, frozen=True):
    """list_artifacts: an artifact without its bytes."""

    name: str
    stage: Stage
    content_type: str
    size_bytes: int
    sha256: str
    created_at: dt.datetime


class ArtifactRow(Struct, frozen=True):
    """get_artifact: an artifact with its bytes."""

    name: str
    content_type: str
    size_bytes: int
    sha256: str
    data: bytes


class JobListRow(Struct, frozen=True):
    """list_jobs: a job in the newest-first list."""

    id: uuid.UUID
    status: Status
    stage: Stage
    job_ref: str
    attempts: int
    last_error: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    finished_at: dt.datetime | None


class JobStateRow(Struct, frozen=True):
    """cancel_job, retry_job: where the job stands after the change."""

    id: uuid.UUID
    status: Status
    stage: Stage


class QueueStatsRow(Struct, frozen=True):
    """queue_stats: jobs of one status and stage, and the age of the oldest runnable one."""

    status: Status
    stage: Stage
    jobs: int
    oldest_s: float | None


class DurationBucketRow(Struct, frozen=True):
    """stage_duration_buckets: finished attempts of one stage and outcome in one histogram bucket."""

    stage: Stage
    outcome: Outcome
    bucket: int
    n: int
    total_s: float | None


class StatusCountRow(Struct, frozen=True):
    """throughput: jobs finished with one status."""

    status: Status
    jobs: int


class CatalogueNames(Struct, frozen=True):
    """catalogue_names_by_id: the names behind the ids a client sent, None where an id is unknown."""

    material: str | None
    finish: str | None
    profile: str | None


# ---- the catalogue's items, as GET /api/cad/... sends them --------------------------------------


class CatalogueMaterial(Struct, frozen=True):
    id: int
    name: str
    type: str
    density_kg_m3: float
    thicknesses_mm: list[float]
    price_per_m2: str | None
    price_per_slab: str | None
    density: float  # g/cm³, the web app's unit
    cost_sqm: float  # price per m² (0 for a material sold by the slab only)
    texture: str | None
    color: str | None


class CatalogueFinish(Struct, frozen=True):
    id: int
    name: str
    description: str
    surcharge_per_m2: str
    cost_sqm: float


class EdgeProfile(Struct, frozen=True):
    id: int
    name: str
    description: str
    price_per_m: str
    cost_m: float


class CutoutPrice(Struct, frozen=True):
    type: str
    description: str
    price_each: str


# ---- the slab yard ----------------------------------------------------------------------------------------------

SlabStatus = Literal["on_hand", "allocated", "consumed"]


class SlabRow(Struct, frozen=True):
    """insert_slab, list_slabs, get_slab, update_slab, insert_remnants: a slab of the yard as stored, sizes and
    defect zones in its own `units`."""

    id: uuid.UUID
    code: str
    owner: str | None
    material_name: str
    material_type: str | None
    thickness: float
    length: float
    width: float
    units: Literal["mm", "in"]
    kind: Literal["full", "remnant"]
    status: SlabStatus
    defects: list[Any]
    allocated_to: uuid.UUID | None
    parent_id: uuid.UUID | None
    notes: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    has_photo: bool


class SlabPhotoRow(Struct, frozen=True):
    """get_slab_photo: the photo's bytes."""

    content_type: str
    size_bytes: int
    sha256: str
    data: bytes


class StockSlabRow(Struct, frozen=True):
    """list_stock_slabs: an on-hand slab an inventory job may be nested on."""

    id: uuid.UUID
    code: str
    length: float
    width: float
    units: Literal["mm", "in"]
    kind: Literal["full", "remnant"]
    defects: list[Any]


class TakenSlab(Struct, frozen=True):
    """allocate_slabs: a slab this job now holds."""

    id: uuid.UUID
    code: str


class ConfirmingJob(Struct, frozen=True):
    """lock_job_for_confirm: the job being confirmed, locked."""

    id: uuid.UUID
    status: Status
    owner: str | None
    summary: dict[str, Any] | None
    from_inventory: bool


class ConsumedSlab(Struct, frozen=True):
    """consume_slabs: a slab a confirmed job cut, with what its offcuts inherit."""

    id: uuid.UUID
    code: str
    units: Literal["mm", "in"]
