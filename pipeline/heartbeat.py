"""The heartbeat: extends the leases of the jobs a worker holds, and notices the ones another worker took over."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from typing import Any

import psycopg_pool
import structlog

from ops.config.settings import Settings
from pipeline import store
from pipeline.supervise import DB_ERRORS

log = structlog.get_logger()


async def heartbeat(pool: psycopg_pool.AsyncConnectionPool, settings: Settings, inflight: Mapping[uuid.UUID, Any],
                    lost: set[uuid.UUID]) -> None:
    """Forever: every HEARTBEAT_S, extend the lease of each job in `inflight`; add the ones no longer held to `lost`
    (their results are dropped). A database error skips one beat; the lease outlasts several."""
    while True:
        await asyncio.sleep(settings.heartbeat_s)
        ids = list(inflight)
        if not ids:
            continue
        try:
            rows = await store.extend_leases(pool, worker_id=settings.worker_id, ids=ids, lease_s=settings.lease_s)
        except DB_ERRORS as exc:
            log.warning("heartbeat_failed", error=str(exc).strip()[:300], jobs=len(ids))
            continue
        held = {row.id for row in rows}
        for job_id in ids:
            if job_id not in held and job_id in inflight:
                lost.add(job_id)
                log.warning("lease_lost", job_id=str(job_id), detail="heartbeat found the job taken over")
