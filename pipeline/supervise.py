"""What the worker's tasks share: the database errors they wait out, and the supervisor of its side tasks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
import psycopg_pool
import structlog

log = structlog.get_logger()

DB_ERRORS = (psycopg.OperationalError, psycopg.InterfaceError, psycopg_pool.PoolTimeout)
SIDE_TASK_BACKOFF_S = 0.1  # first restart of a side task that died; doubles up to the cap
SIDE_TASK_MAX_BACKOFF_S = 5.0


async def supervised(name: str, side_task: Callable[[], Awaitable[None]], stop: asyncio.Event) -> None:
    """Run a side task (heartbeat, housekeeping, listener) until `stop`, restarting it with capped backoff when it
    dies of an exception it did not expect: a dead heartbeat would let every lease expire and the running jobs be
    rescued and run twice (procrastinate's worker watches its side tasks the same way)."""
    backoff = SIDE_TASK_BACKOFF_S
    while not stop.is_set():
        started = time.monotonic()
        try:
            await side_task()
        except Exception:  # noqa: BLE001 - the supervisor's one catch-all: logged, then restarted
            if time.monotonic() - started > 60:
                backoff = SIDE_TASK_BACKOFF_S  # it ran fine for a while: this is a new failure, not a loop
            log.exception("side_task_died", task=name, restart_in_s=round(backoff, 2))
            await first_of(stop.wait(), timeout=backoff)
            backoff = min(SIDE_TASK_MAX_BACKOFF_S, backoff * 2)
            continue
        return  # returned by itself: only the listener does, once `stop` is set


async def first_of(*aws: Any, timeout: float) -> None:
    """Wait until any of the awaitables completes or `timeout` passes; cancel the rest."""
    tasks = [asyncio.ensure_future(awaitable) for awaitable in aws]
    try:
        await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
