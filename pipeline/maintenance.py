"""Housekeeping every worker runs: rescue jobs whose worker stopped heartbeating, keep the queue's planner
statistics up with a burst, prune old finished jobs."""

from __future__ import annotations

import asyncio
import time

import psycopg_pool
import structlog

from ops.config.settings import Settings
from pipeline import store
from pipeline.supervise import DB_ERRORS

log = structlog.get_logger()

PRUNE_EVERY_S = 3600.0


async def housekeeping(pool: psycopg_pool.AsyncConnectionPool, settings: Settings) -> None:
    """Forever: rescue expired leases and analyze a queue that outgrew its statistics every POLL_INTERVAL_S,
    prune past JOB_RETENTION_DAYS once an hour."""
    last_prune = 0.0
    while True:
        try:
            for row in await store.rescue_jobs(pool):
                log.warning("job_rescued", job_id=str(row.id), stage=row.stage, status=row.status,
                            previous_worker=row.locked_by)
            if await store.queue_statistics_stale(pool):
                await store.analyze_queue(pool)
                log.info("queue_analyzed", reason="the queue outgrew its planner statistics")
            if settings.job_retention_days > 0 and time.monotonic() - last_prune > PRUNE_EVERY_S:
                pruned = await store.prune_jobs(pool, days=settings.job_retention_days)
                last_prune = time.monotonic()
                if pruned:
                    log.info("jobs_pruned", jobs=pruned, retention_days=settings.job_retention_days)
        except DB_ERRORS as exc:
            log.warning("housekeeping_failed", error=str(exc).strip()[:300])
        await asyncio.sleep(settings.poll_interval_s)
