"""StageRunner on its own: real child processes, the pipe protocol, and what happens when a child misbehaves."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from pipeline.stages import StageCrashed, StageOutput, StageRunner, StageTimeout

pytestmark = pytest.mark.anyio


class PickyError(Exception):
    """Pickles, but cannot be rebuilt from its args (a required keyword argument)."""

    def __init__(self, *, code: int) -> None:
        super().__init__(f"code {code}")


def stage(action: str, payload: Any = None) -> Any:
    """The function run in the child (spawn imports it by name)."""
    if action == "pid":
        return os.getpid()
    if action == "echo":
        return StageOutput(summary={"pid": os.getpid()}, artifacts=payload)
    if action == "raise":
        raise ValueError(f"stage said no to {payload!r}")
    if action == "picky":
        raise PickyError(code=7)
    if action == "sleep":
        Path(payload[0]).write_text(str(os.getpid()))
        time.sleep(payload[1])
        return "woke"
    if action == "crash":
        os._exit(9)
    if action == "grow":  # keeps `payload` MB alive in the child, as a leak would
        _KEPT.append(bytearray(payload * 2**20))
        return os.getpid()
    raise AssertionError(action)


_KEPT: list[bytearray] = []


def _alive(pid: int) -> bool:
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


async def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def test_a_large_payload_goes_both_ways_without_stalling_the_loop() -> None:
    runner = StageRunner(1, target=stage)
    try:
        await runner.run(30, "pid")  # the child is up
        big = [("a.bin", "application/octet-stream", os.urandom(6 * 1024 * 1024)),
               ("b.svg", "image/svg+xml", b"<svg/>" * 200_000)]
        gaps: list[float] = []

        async def tick() -> None:
            last = time.perf_counter()
            while True:
                await asyncio.sleep(0.005)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        ticker = asyncio.create_task(tick())
        try:
            out = await runner.run(30, "echo", big)
        finally:
            ticker.cancel()
        assert out.artifacts == big
        assert max(gaps, default=0) < 1.0  # copies, not waits: the loop kept running
    finally:
        runner.close()


async def test_an_exception_in_the_stage_is_raised_in_the_worker_and_the_child_lives_on() -> None:
    runner = StageRunner(1, target=stage)
    try:
        pid = await runner.run(30, "pid")
        with pytest.raises(ValueError, match="stage said no to 'x'") as info:
            await runner.run(30, "raise", "x")
        assert "in stage" in str(info.value.__cause__)  # the child's traceback, for the logs
        with pytest.raises(RuntimeError, match="PickyError"):  # cannot be rebuilt here: still an error, not a hang
            await runner.run(30, "picky")
        assert await runner.run(30, "pid") == pid
    finally:
        runner.close()


async def test_a_child_is_replaced_after_tasks_per_child_stages() -> None:
    runner = StageRunner(1, tasks_per_child=3, target=stage)
    try:
        pids = [await runner.run(30, "pid") for _ in range(7)]
        assert pids[0] == pids[1] == pids[2] != pids[3] == pids[4] == pids[5] != pids[6]
        assert await _gone_within(pids[0], 5)
    finally:
        runner.close()


async def test_a_child_is_replaced_once_its_memory_passes_recycle_mb() -> None:
    runner = StageRunner(1, tasks_per_child=1000, recycle_mb=150, target=stage)
    try:
        first = await runner.run(30, "pid")
        assert await runner.run(30, "pid") == first  # a child that does not grow is kept
        assert await runner.run(30, "grow", 200) == first  # this stage leaves it past 150 MB resident
        second = await runner.run(30, "pid")
        assert second != first
        assert await _gone_within(first, 5)
        assert await runner.run(30, "pid") == second
    finally:
        runner.close()


async def test_recycle_mb_defaults_to_half_the_memory_cap() -> None:
    for memory_mb, expected in ((2048, 1024.0), (None, 1024.0), (600, 300.0)):
        runner = StageRunner(0, memory_mb=memory_mb)
        assert runner.recycle_mb == expected
        runner.close()


async def test_a_stage_past_its_timeout_is_killed_and_the_slot_gets_a_new_child(tmp_path: Path) -> None:
    runner = StageRunner(1, target=stage)
    try:
        marker = tmp_path / "pid"
        started = time.monotonic()
        with pytest.raises(StageTimeout, match="longer than 1 s"):
            await runner.run(1.0, "sleep", (str(marker), 30))
        assert time.monotonic() - started < 5
        assert await _gone_within(int(marker.read_text()), 1.0)
        assert await runner.run(30, "pid") != int(marker.read_text())
    finally:
        runner.close()


async def test_a_crash_is_stage_crashed_and_the_next_stage_runs() -> None:
    runner = StageRunner(1, target=stage)
    try:
        with pytest.raises(StageCrashed, match="process died"):
            await runner.run(30, "crash")
        idle = await runner.run(30, "pid")
        os.kill(idle, signal.SIGKILL)  # dies while idle: the next call finds out on the pipe
        assert await _gone_within(idle, 5)
        with pytest.raises(StageCrashed):
            await runner.run(30, "pid")
        assert await runner.run(30, "pid") != idle
    finally:
        runner.close()


async def test_cancelling_a_running_stage_kills_its_child(tmp_path: Path) -> None:
    runner = StageRunner(2, target=stage)
    try:
        marker = tmp_path / "pid"
        task = asyncio.create_task(runner.run(30, "sleep", (str(marker), 30)))
        while not marker.exists() or not marker.read_text():
            await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await _gone_within(int(marker.read_text()), 1.0)
        # both slots still serve, concurrently
        assert len(set(await asyncio.gather(*(runner.run(30, "pid") for _ in range(2))))) == 2
    finally:
        runner.close()


async def test_close_stops_every_child() -> None:
    runner = StageRunner(2, target=stage)
    pids = set(await asyncio.gather(*(runner.run(30, "pid") for _ in range(2))))
    runner.close()
    for pid in pids:
        assert await _gone_within(pid, 5)
