"""The CAD and PDF stages, run in child processes so CPU work never blocks the worker's event loop,
a stage that runs too long can be killed, and a leak or a crash in a native library stays in the child.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import pickle
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

import msgspec

NEXT_STAGE: dict[str, str | None] = {"cad": "pdf", "pdf": None}
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class StageOutput(msgspec.Struct, frozen=True):
    summary: Any = None  # JSON-ready summary (CAD stage)
    artifacts: list[tuple[str, str, bytes]] = []  # (name, content_type, data)
    engine_error: str | None = None  # a permanent failure, in words for a person
    findings: list[Any] = []


class StageTimeout(Exception):
    """The stage ran past STAGE_TIMEOUT_S and its process was stopped."""


class StageOutOfMemory(Exception):
    """The stage hit its process's memory limit (STAGE_MEMORY_MB): the job, not the machine, is at fault."""


class StageCrashed(Exception):
    """The stage's process died (killed, out of memory, a crash in native code)."""


class _Outputs(msgspec.Struct, frozen=True):
    pdf: dict[str, Any] | None = {}  # absent: JobSpec's default (a PDF); null: no PDF


class _Options(msgspec.Struct, frozen=True):
    outputs: _Outputs = _Outputs()


class _Wants(msgspec.Struct, frozen=True):
    """The one thing the worker reads from a spec: whether a PDF follows the CAD stage. The spec was validated on
    submission; decoding just this from the claimed JSON skips building the whole JobSpec."""

    options: _Options = _Options()


def next_stage(stage: str, spec_json: bytes | str) -> str | None:
    """The stage after `stage`, or None when the job is done (no PDF asked for)."""
    nxt = NEXT_STAGE[stage]
    if nxt == "pdf" and msgspec.json.decode(spec_json, type=_Wants).options.outputs.pdf is None:
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
                               artifacts=[(artifact.name, artifact.content_type, artifact.data)
                                          for artifact in result.artifacts])
        if stage == "pdf":
            from engine.pdf import render_pdf

            summary = msgspec.json.decode(summary_json or b"null", type=Summary)
            svgs = {name: data for name, ctype, data in files if ctype == "image/svg+xml"}
            return StageOutput(artifacts=[("shop-drawing.pdf", "application/pdf", render_pdf(spec, summary, svgs))])
        raise ValueError(f"unknown stage {stage!r}")
    except EngineError as exc:
        return StageOutput(engine_error=str(exc), findings=[to_builtins(finding) for finding in exc.findings])


def _die_with_parent() -> None:
    """In the child: be killed when the worker dies (kill -9, OOM), rather than finish a stage nobody awaits."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):
        pass  # not Linux: the lease still covers the job; the orphan finishes its stage and exits


def _ignore_stop_signals() -> None:
    """In the child: SIGINT and SIGTERM sent to the whole process group (Ctrl+C, systemd's KillMode=control-group)
    must not kill a stage mid-run; the worker alone decides when its children stop, and kills them past its
    grace period (or they die with it, above)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _limit_memory(memory_mb: int | None) -> None:
    """In the child: cap its address space, so a runaway stage raises MemoryError in the child instead of
    taking the machine's memory (the worker then fails the job with a readable error)."""
    if memory_mb:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _warm() -> None:
    """Import the engine in the child ahead of the first job (WeasyPrint and ezdxf take a second)."""
    import engine.cad  # noqa: F401
    import engine.pdf

    engine.pdf.warm()  # fontconfig and the compiled CSS: most of a first render's extra cost


def _resident_mb() -> float:
    """In the child: its resident memory now, in MB (0 where /proc is missing: the task count alone recycles)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


class _RemoteTraceback(Exception):
    """The stage's traceback in the child, chained to the exception re-raised in the worker for the logs."""

    def __str__(self) -> str:
        return str(self.args[0])


def _serve(conn: Connection, target: Callable[..., StageOutput], warm: bool, parent_pid: int,
           memory_mb: int | None = None) -> None:
    """The child: run one call per message until the worker closes its end of the pipe (or dies)."""
    _ignore_stop_signals()
    _die_with_parent()
    _limit_memory(memory_mb)
    if os.getppid() != parent_pid:  # the worker died before prctl: nobody will ever send us a job
        return
    if warm:
        with contextlib.suppress(Exception):  # a broken engine import shows up, with its error, in the first job
            _warm()
    conn.send_bytes(b"")  # ready: from now on we always sit in recv, so the parent's sends never block for long
    while True:
        try:
            args = pickle.loads(conn.recv_bytes())
        except EOFError:
            return  # recycled or closed: exit quietly
        try:
            result = target(*args)
            reply = pickle.dumps((_resident_mb(), True, result, None), pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - raised by the stage (or an unpicklable result): the worker retries it
            tb = traceback.format_exc()
            try:
                reply = pickle.dumps((_resident_mb(), False, exc, tb), pickle.HIGHEST_PROTOCOL)
            except Exception:  # noqa: BLE001 - an exception that will not pickle still has to reach the worker
                reply = pickle.dumps((_resident_mb(), False, RuntimeError(f"{type(exc).__name__}: {exc}"), tb))
        # SystemExit / KeyboardInterrupt are not caught: the child exits and the worker sees StageCrashed.
        conn.send_bytes(reply)  # one message, written whole, which the parent reads in one callback


class _Child:
    """One long-lived stage process and the worker's end of its pipe."""

    def __init__(self, ctx: Any, target: Callable[..., StageOutput], memory_mb: int | None = None) -> None:
        self.conn, child_conn = ctx.Pipe(duplex=True)
        # Started from the event loop's thread: PR_SET_PDEATHSIG fires when the *thread* that forked the child
        # exits, which is one more reason not to involve helper threads.
        self.proc = ctx.Process(target=_serve, args=(child_conn, target, target is run_stage, os.getpid(), memory_mb),
                                name="studio-stage", daemon=True)  # daemon: never outlives an interpreter exit
        self.proc.start()
        child_conn.close()  # only the child holds its end now, so its death reads as EOF here
        self.ready = False
        self.tasks = 0
        self.resident_mb = 0.0  # as the child reported after its last stage

    async def recv(self) -> bytes:
        """The next whole message from the child, waiting on the pipe with the event loop (no threads).

        The reader fires on the first byte; `recv_bytes` then blocks until the message is complete. That is
        bounded: the child only writes a message with one `send_bytes` call once it is fully pickled, so the
        rest of even a multi-MB result streams through the pipe as fast as we read it (or ends in EOF if the
        child is killed mid-write). A framing of our own on a non-blocking socket would avoid even that, for
        more code and no measurable gain.
        """
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[bytes] = loop.create_future()
        fd = self.conn.fileno()

        def readable() -> None:
            loop.remove_reader(fd)
            if fut.done():
                return
            try:
                fut.set_result(self.conn.recv_bytes())
            except (EOFError, OSError):
                fut.set_exception(StageCrashed("the stage's process died (killed or out of memory)"))

        loop.add_reader(fd, readable)
        try:
            return await fut
        finally:
            loop.remove_reader(fd)  # on timeout or cancellation too: the fd must not stay registered

    async def call(self, args: tuple[Any, ...]) -> StageOutput:
        if not self.ready:  # a fresh child is importing (the engine takes a second): wait without blocking
            await self.recv()
            self.ready = True
        payload = pickle.dumps(args, pickle.HIGHEST_PROTOCOL)  # an unpicklable argument raises here: child intact
        try:
            # Blocking write, but the child is sitting in recv_bytes, so it drains as fast as we write.
            self.conn.send_bytes(payload)
        except OSError:  # EPIPE: the child died while idle
            raise StageCrashed("the stage's process died (killed or out of memory)") from None
        reply = await self.recv()
        self.tasks += 1
        try:
            self.resident_mb, ok, value, tb = pickle.loads(reply)
        except Exception as exc:  # noqa: BLE001 - an exception class that pickles but will not unpickle here
            raise RuntimeError(f"the stage's result could not be read: {type(exc).__name__}: {exc}") from None
        if ok:
            return value  # type: ignore[no-any-return]
        value.__cause__ = _RemoteTraceback(tb)
        if isinstance(value, MemoryError):
            raise StageOutOfMemory(str(value)) from value
        raise value

    def stop(self) -> None:
        """Kill the child (it may be mid-stage); multiprocessing reaps it when the next child starts."""
        self.conn.close()
        if self.proc.is_alive():
            self.proc.kill()


class StageRunner:
    """One long-lived child process per slot, reached over a pipe the event loop watches (`add_reader`):
    one hop each way, where a ProcessPoolExecutor added a manager, a feeder and a result thread. A slot whose
    stage times out, crashes or is cancelled gets a new child. A child is also replaced once its resident memory
    passes `recycle_mb` (what a leak in a native library, or a large job's freed-but-kept heap, has grown it to),
    and after `tasks_per_child` stages whatever its memory. A new engine child costs about 2 s of CPU (a Python
    start, the engine's imports, WeasyPrint's fonts), so a count alone, set low enough to catch a leak, spends
    that on children that never grew (docs/BENCHMARKS.md, "Queue").

    `target` is the function run in the child, `run_stage` unless a test wants a stage that fails on purpose.
    `memory_mb` caps each child's address space (RLIMIT_AS); None leaves it unlimited. `recycle_mb` defaults to
    half of that cap (a leak is recycled long before it fails a job), or 1,024 MB without one.
    """

    def __init__(self, slots: int, *, tasks_per_child: int = 2000, recycle_mb: float | None = None,
                 target: Callable[..., StageOutput] = run_stage, memory_mb: int | None = None) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self.memory_mb = memory_mb
        self.recycle_mb = recycle_mb if recycle_mb is not None else (memory_mb / 2 if memory_mb else 1024.0)
        self._tasks_per_child = tasks_per_child
        self._target = target
        self._closed = False
        self._free: asyncio.Queue[_Child] = asyncio.Queue()
        for _ in range(slots):
            self._free.put_nowait(_Child(self._ctx, target, memory_mb))

    async def run(self, timeout_s: float, *args: Any) -> StageOutput:
        child = await self._free.get()
        healthy = True
        try:
            try:  # the timeout covers a fresh child's start-up too, as the executor's did
                async with asyncio.timeout(timeout_s):  # no extra task, unlike wait_for
                    return await child.call(args)
            except TimeoutError:
                healthy = False
                raise StageTimeout(f"the stage ran longer than {timeout_s:g} s and was stopped") from None
            except (StageCrashed, StageOutOfMemory, asyncio.CancelledError):  # the stage's own exceptions leave
                # the child healthy; one that ran out of memory may have left it half-broken: replace it
                healthy = False
                raise
        finally:
            if self._closed:
                child.stop()
            else:
                if not healthy or child.tasks >= self._tasks_per_child or child.resident_mb >= self.recycle_mb:
                    child.stop()
                    child = _Child(self._ctx, self._target, self.memory_mb)
                self._free.put_nowait(child)

    def close(self) -> None:
        self._closed = True  # stages still running are stopped when their run() returns
        while not self._free.empty():
            self._free.get_nowait().stop()
