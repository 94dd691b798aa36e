"""GroupCommit's batching and failure rules, with plain writer functions (the database side is covered in
tests/integration/test_store.py and test_worker.py)."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from pipeline.db import GroupCommit

pytestmark = pytest.mark.anyio


async def test_items_that_arrive_together_share_one_write_and_each_gets_its_result() -> None:
    calls: list[list[int]] = []

    async def write(items: list[int]) -> list[int | BaseException]:
        calls.append(items)
        await asyncio.sleep(0)
        return [ValueError(i) if i == 3 else i * 10 for i in items]

    group: GroupCommit[int, int] = GroupCommit(write)
    results = await asyncio.gather(*(group.submit(i) for i in range(6)), return_exceptions=True)
    assert calls == [[0, 1, 2, 3, 4, 5]]
    assert results[:3] == [0, 10, 20] and isinstance(results[3], ValueError) and results[4:] == [40, 50]
    assert await group.submit(7) == 70 and calls[-1] == [7]  # alone: written at once


@pytest.mark.parametrize("error, writes", [
    (psycopg.errors.CheckViolation("bad row"), 1 + 4),  # the database refused an item: find it, the rest commit
    (psycopg.OperationalError("connection refused"), 1),  # the database is away: everyone hears it once
])
async def test_only_a_refused_item_is_looked_for_one_by_one(error: Exception, writes: int) -> None:
    calls: list[list[str]] = []

    async def write(items: list[str]) -> list[str | BaseException]:
        calls.append(items)
        if "bad" in items or isinstance(error, psycopg.OperationalError):
            raise error
        return [f"ok {i}" for i in items]

    group: GroupCommit[str, str] = GroupCommit(write)
    results = await asyncio.gather(*(group.submit(i) for i in ("a", "bad", "c", "d")), return_exceptions=True)
    assert len(calls) == writes
    if isinstance(error, psycopg.OperationalError):
        assert all(r is error for r in results)
    else:
        assert results[0] == "ok a" and results[1] is error and results[2:] == ["ok c", "ok d"]


async def test_a_burst_goes_out_in_statements_of_at_most_max_batch_items() -> None:
    calls: list[list[int]] = []

    async def write(items: list[int]) -> list[int | BaseException]:
        calls.append(items)
        return items

    group: GroupCommit[int, int] = GroupCommit(write, max_batch=3)
    assert await asyncio.gather(*(group.submit(i) for i in range(7))) == list(range(7))
    assert calls == [[0, 1, 2], [3, 4, 5], [6]]
