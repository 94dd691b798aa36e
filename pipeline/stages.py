"""The CAD and PDF stages, run in child processes so CPU work never blocks the worker's event loop,
a stage that runs too long can be killed, and a leak or a crash in a native library stays in the child.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import msgspec

NEXT_STAGE: dict[str, str | None] = {"cad": "pdf", "pdf": None}


class StageOutput(msgspec.Struct, frozen=True):
    summary: Any = None  # JSON-ready summary (CAD stage)
    artifacts: list[tuple[str, str, bytes]] = []  # (name, content_type, data)
    engine_error: str | None = None  # a permanent failure, in words for a person
    findings: list[Any] = []


class StageTimeout(Exception):
    """The stage ran past STAGE_TIMEOUT_S and its process was stopped."""


class StageCrashed(Exception):
    """The stage's process died (killed, out of memory, a crash in native code)."""


def next_stage(stage: str, spec: Any) -> str | None:
    """The stage after `stage`, or None when the job is done (no PDF asked for)."""
    nxt = NEXT_STAGE[stage]
    if nxt == "pdf" and spec.options.outputs.pdf is None:
        return None
    return nxt


def run_stage(stage: str, spec_json: bytes, summary_json: bytes | None,
              files: Sequence[tuple[str, str, bytes]], catalogue_json: bytes | None = None) -> StageOutput:
    """Run one stage on a job (in the child process); engine errors come back as data, not exceptions."""
    from engine.model import CadResult, EngineError, Summary, to_builtins
    from engine.spec import JobSpec

    spec = msgspec.json.decode(spec_json, type=JobSpec)
    try:
        if stage == "cad":
            from engine.cad import run_cad
            from engine.pricing import Catalogue

            catalogue = msgspec.json.decode(catalogue_json, type=Catalogue) if catalogue_json else None
            result: CadResult = run_cad(spec, catalogue)
            return StageOutput(summary=to_builtins(result.summary),
                               artifacts=[(a.name, a.content_type, a.data) for a in result.artifacts])
        if stage == "pdf":
            from engine.pdf import render_pdf

            summary = msgspec.json.decode(summary_json or b"null", type=Summary)
            svgs = {name: data for name, ctype, data in files if ctype == "image/svg+xml"}
            return StageOutput(artifacts=[("shop-drawing.pdf", "application/pdf", render_pdf(spec, summary, svgs))])
        raise ValueError(f"unknown stage {stage!r}")
    except EngineError as exc:
        return StageOutput(engine_error=str(exc), findings=[to_builtins(f) for f in exc.findings])


def _die_with_parent() -> None:
    """In the child: be killed when the worker dies (kill -9, OOM), rather than finish a stage nobody awaits."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):
        pass  # not Linux: the lease still covers the job; the orphan finishes its stage and exits


def _warm() -> None:
    """Import the engine in the child ahead of the first job (WeasyPrint and ezdxf take a second)."""
    import engine.cad  # noqa: F401
    import engine.pdf  # noqa: F401


class StageRunner:
    """One single-process executor per slot; a slot whose stage times out or crashes is replaced.

    `target` is the function run in the child, `run_stage` unless a test wants a stage that fails on purpose.
    """

    def __init__(self, slots: int, *, tasks_per_child: int = 200,
                 target: Callable[..., StageOutput] = run_stage) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self._tasks_per_child = tasks_per_child
        self._target = target
        self._free: asyncio.Queue[concurrent.futures.ProcessPoolExecutor] = asyncio.Queue()
        for _ in range(slots):
            self._free.put_nowait(self._new_executor())

    def _new_executor(self) -> concurrent.futures.ProcessPoolExecutor:
        ex = concurrent.futures.ProcessPoolExecutor(1, mp_context=self._ctx, max_tasks_per_child=self._tasks_per_child,
                                                    initializer=_die_with_parent)
        if self._target is run_stage:
            ex.submit(_warm)
        return ex

    async def run(self, timeout_s: float, *args: Any) -> StageOutput:
        executor = await self._free.get()
        healthy = True
        try:
            fut = asyncio.get_running_loop().run_in_executor(executor, self._target, *args)
            try:
                return await asyncio.wait_for(fut, timeout_s)
            except TimeoutError:
                healthy = False
                raise StageTimeout(f"the stage ran longer than {timeout_s:g} s and was stopped") from None
            except BrokenProcessPool:
                healthy = False
                raise StageCrashed("the stage's process died (killed or out of memory)") from None
            except asyncio.CancelledError:
                healthy = False
                raise
        finally:
            if not healthy:
                _kill(executor)
                executor = self._new_executor()
            self._free.put_nowait(executor)

    def close(self) -> None:
        while not self._free.empty():
            _kill(self._free.get_nowait())


def _kill(executor: concurrent.futures.ProcessPoolExecutor) -> None:
    # ProcessPoolExecutor has no public way to stop a running task; killing its process is the only one.
    for proc in list(getattr(executor, "_processes", {}).values()):
        proc.kill()
    executor.shutdown(wait=False, cancel_futures=True)
