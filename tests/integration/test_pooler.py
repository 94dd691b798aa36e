"""Behind a transaction pooler (pgbouncer's port 6432): no LISTEN, no prepared statements, polling still works.

A TCP forwarder on 6432 stands in for the pooler's address; what is under test is our side of it: the worker
recognises a pooler URL, warns, and polls; with DATABASE_DIRECT_URL it listens on the direct one.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import msgspec
import psycopg
import pytest
import structlog

from pipeline import store
from pipeline.db import open_pool, pool_kwargs
from tests.integration.conftest import spec, wait_until, workers

pytestmark = pytest.mark.anyio
POOLER_PORT = 6432


@contextlib.asynccontextmanager
async def forwarder(target_port: int) -> AsyncIterator[int]:
    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target_port)
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    try:
        server = await asyncio.start_server(handle, "127.0.0.1", POOLER_PORT)
    except OSError:
        pytest.skip(f"port {POOLER_PORT} is taken on this machine")
    async with server:
        yield POOLER_PORT


async def test_worker_polls_behind_a_pooler_and_listens_on_the_direct_url(settings, fault_dir) -> None:  # type: ignore[no-untyped-def]
    info = psycopg.conninfo.conninfo_to_dict(settings.database_url)
    pooled = settings.database_url.replace(f":{info['port']}/", f":{POOLER_PORT}/")
    assert pool_kwargs(pooled)["prepare_threshold"] is None  # prepared statements do not survive a pooler
    async with forwarder(int(info["port"])):
        with structlog.testing.capture_logs() as logs:
            polled = msgspec.structs.replace(settings, database_url=pooled, poll_interval_s=0.3)
            async with open_pool(polled) as pool:
                job_id = (await store.insert_job(pool, spec=spec("POOLED"), job_ref="POOLED")).id
                async with workers(polled):
                    (job,) = await wait_until(pool, [job_id])
        assert job.status == "succeeded"
        events = [e["event"] for e in logs]
        assert "listen_unavailable" in events and "listener_connected" not in events

        with structlog.testing.capture_logs() as logs:
            direct = msgspec.structs.replace(settings, database_url=pooled, database_direct_url=settings.database_url,
                                             poll_interval_s=30)
            async with open_pool(direct) as pool:
                async with workers(direct):
                    deadline = time.monotonic() + 10
                    while not any(e["event"] == "listener_connected" for e in logs):
                        assert time.monotonic() < deadline
                        await asyncio.sleep(0.02)
                    job_id = (await store.insert_job(pool, spec=spec("DIRECT"), job_ref="DIRECT")).id
                    (job,) = await wait_until(pool, [job_id], timeout=10)  # well before the 30 s poll: NOTIFY
        assert job.status == "succeeded"
        assert "listen_unavailable" not in [e["event"] for e in logs]
