"""Helpers for tests that run real Worker loops in this process (their stages in real child processes)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest

from ops.config.settings import Settings
from pipeline import store
from pipeline.db import open_pool
from pipeline.stages import StageRunner
from pipeline.worker import Worker
from tests.conftest import EXAMPLES
from tests.stage_faults import faulty_stage


def spec(job_id: str, action: str = "ok") -> dict:  # type: ignore[type-arg]
    raw = json.loads((EXAMPLES / "island.json").read_text())
    raw["job"] = {"id": job_id, "name": action}
    return raw


@pytest.fixture
def fault_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STUDIO_TEST_FAULT_DIR", str(tmp_path))
    return tmp_path


@contextlib.asynccontextmanager
async def workers(settings: Settings, n: int = 1, **overrides: object) -> AsyncIterator[list[Worker]]:
    stop = asyncio.Event()
    async with contextlib.AsyncExitStack() as stack:
        ws = []
        for i in range(n):
            s = msgspec.structs.replace(settings, worker_id=f"w{i}", **overrides)
            pool = await stack.enter_async_context(open_pool(s, min_size=1, max_size=s.worker_concurrency + 3))
            ws.append(Worker(s, pool, stop, runner=StageRunner(s.worker_concurrency, target=faulty_stage,
                                                                  memory_mb=s.stage_memory_mb or None)))
        tasks = [asyncio.create_task(w.run()) for w in ws]
        try:
            yield ws
        finally:
            stop.set()
            done, pending = await asyncio.wait(tasks, timeout=60)
            if pending:  # say where shutdown is stuck rather than just timing out
                stacks = "\n".join(f"{t.get_name()}: {t.get_stack(limit=5)}" for t in asyncio.all_tasks())
                raise AssertionError(f"workers did not stop within 60 s; tasks:\n{stacks}")
            for t in done:
                t.result()


async def wait_until(pool, job_ids, statuses=("succeeded", "failed", "cancelled"), timeout=60.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        jobs = [await store.get_job(pool, j) for j in job_ids]
        if all(j.status in statuses for j in jobs):
            return jobs
        assert time.monotonic() < deadline, f"jobs still {[j.status for j in jobs]}"
        await asyncio.sleep(0.05)


def roll_back(db_url: str, migration_id: str) -> None:
    """Roll one migration back, as `yoyo rollback` would."""
    from yoyo import get_backend, read_migrations

    from ops.config.dsn import yoyo_url
    from ops.migrate import MIGRATIONS_DIR

    backend = get_backend(yoyo_url(db_url))
    try:
        migrations = read_migrations(str(MIGRATIONS_DIR))
        with backend.lock():
            backend.rollback_migrations(backend.to_rollback(migrations.filter(lambda m: m.id == migration_id)))
    finally:
        backend.connection.close()
