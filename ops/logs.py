"""structlog configuration, in one place: JSON lines on stdout, or console output on a TTY / LOG_FORMAT=console."""

from __future__ import annotations

import asyncio
import atexit
import functools
import json
import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import msgspec
import structlog

from ops.dsn import mask_dsn

_SECRET_KEYS = ("password", "secret", "token", "authorization")


@functools.lru_cache(maxsize=1024)
def _is_secret(key: str) -> bool:
    return any(s in key.lower() for s in _SECRET_KEYS)  # field names are a small fixed set: decide once per name


def _fallback(obj: Any) -> Any:
    """What JSON cannot hold is written as structlog's JSONRenderer writes it: `__structlog__()`, else repr()."""
    to_log = getattr(obj, "__structlog__", None)
    return to_log() if callable(to_log) else repr(obj)


_ENCODER = msgspec.json.Encoder(enc_hook=_fallback)


def _json_line(_: Any, __: str, event: dict[str, Any]) -> str:
    """The JSON renderer: msgspec writes a line in about a tenth of json.dumps' time (one line per request: it shows)."""
    try:
        return _ENCODER.encode(event).decode()
    except (TypeError, ValueError, msgspec.EncodeError):  # e.g. a dict with tuple keys: the stdlib's way, as before
        return json.dumps(event, default=_fallback)


def _mask_secrets(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """Never let a DSN password or a token reach a log line, whichever field carries it."""
    for key, value in event.items():
        if isinstance(value, str):
            if _is_secret(key):
                event[key] = "***"
            elif "://" in value and "@" in value:
                event[key] = mask_dsn(value)
    return event


class TickBuffer:
    """The stream every log line goes through: `write` keeps a line, `flush` writes what is kept in one call.

    structlog and the stdlib handler flush after each line, so their lines go out at once, after any line kept
    before them: the order is the order of the calls. The per-request line only writes, and its lines go out in
    one write() at the end of the event-loop tick that produced them (at once outside an event loop). Under load
    one system call carries many lines, which matters because stdout is unbuffered here (PYTHONUNBUFFERED=1, as
    the Dockerfile sets). A process killed with SIGKILL loses at most the lines of the tick it was in.
    """

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self._lines: list[str] = []
        self._lock = threading.Lock()  # structlog and the stdlib may log from other threads
        self._scheduled = False

    def write(self, text: str) -> int:
        with self._lock:
            self._lines.append(text)
            if self._scheduled:
                return len(text)
            self._scheduled = True
        try:
            asyncio.get_running_loop().call_soon(self.flush)
        except RuntimeError:  # no event loop in this thread
            self.flush()
        return len(text)

    def flush(self) -> None:
        with self._lock:
            text, self._lines, self._scheduled = "".join(self._lines), [], False
        if text:
            self.stream.write(text)
            self.stream.flush()


_json_stream: TickBuffer | None = None  # where JSON lines go, once configure_logging chose JSON and info is enabled


@functools.lru_cache(maxsize=4)
def _second(epoch_s: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_s))


def _utc_iso() -> str:
    """TimeStamper(fmt="iso", utc=True)'s format (2026-11-25T11:54:35.484264Z) from a per-second cache."""
    ns = time.time_ns()
    return f"{_second(ns // 1_000_000_000)}.{ns // 1000 % 1_000_000:06d}Z"


def hot_logger(event: str) -> Callable[[dict[str, Any]], None]:
    """An info logger for the one event written on every request (`http_request`).

    It writes the line structlog's chain would write (the fields, `event`, the bound context variables, level,
    timestamp, secrets masked, the same encoder) without the per-call machinery, into the TickBuffer without
    flushing it. Console output, levels above info and an unconfigured process (tests) go through structlog as
    any other event.
    """
    fallback = structlog.get_logger()

    def emit(fields: dict[str, Any]) -> None:
        if _json_stream is None:
            fallback.info(event, **fields)
            return
        fields["event"] = event
        structlog.contextvars.merge_contextvars(None, "info", fields)
        fields["level"] = "info"
        fields["timestamp"] = _utc_iso()
        _json_stream.write(_json_line(None, "", _mask_secrets(None, "", fields)) + "\n")

    return emit


def configure_logging(*, level: str = "info", fmt: str = "", service: str = "studio") -> None:
    """Configure structlog and route stdlib loggers (uvicorn, psycopg, yoyo) through the same renderer."""
    global _json_stream
    use_console = fmt == "console" or (fmt == "" and sys.stdout.isatty())
    renderer: Any = structlog.dev.ConsoleRenderer() if use_console else _json_line
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _mask_secrets,
    ]
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    out = sys.stdout if use_console else TickBuffer(sys.stdout)
    atexit.register(out.flush)
    _json_stream = None if use_console or numeric > logging.INFO else out
    structlog.configure(
        processors=[*shared, structlog.processors.dict_tracebacks, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    handler = logging.StreamHandler(out)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.dict_tracebacks, renderer],
    ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)  # third-party loggers speak only when something is wrong
    for noisy in ("uvicorn.access",):  # we write our own canonical request line
        logging.getLogger(noisy).disabled = True


def reset_logging() -> None:
    """Undo configure_logging's structlog side (tests that configure logging leave the next ones as they were)."""
    global _json_stream
    _json_stream = None
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
