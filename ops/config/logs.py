"""structlog configuration, in one place: JSON lines on stdout, or console output on a TTY / LOG_FORMAT=console.

No secret reaches a line: fields named like a secret are blanked and DSN passwords masked at any depth, and
tracebacks carry no local variables (a frame's locals may hold the settings, a token or a request body).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import msgspec
import structlog
from structlog.tracebacks import ExceptionDictTransformer

from ops.config.dsn import mask_dsn

_SECRET_KEYS = ("password", "secret", "token", "authorization")


def _is_secret(key: object) -> bool:
    return isinstance(key, str) and any(fragment in key.lower() for fragment in _SECRET_KEYS)


def _masked(value: Any) -> Any:
    """The value with secret-named keys blanked and DSN passwords masked, through dicts, lists and strings."""
    if isinstance(value, str):
        return mask_dsn(value) if "://" in value and "@" in value else value
    if isinstance(value, dict):  # keys JSON cannot hold (tuples) are written as their str()
        return {(key if isinstance(key, str | int | float) else str(key)):
                "***" if _is_secret(key) and item else _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(item) for item in value]
    return value


def _fallback(obj: Any) -> Any:
    """What JSON cannot hold is written as structlog writes it: `__structlog__()`, else repr()."""
    to_log = getattr(obj, "__structlog__", None)
    return to_log() if callable(to_log) else repr(obj)


_ENCODER = msgspec.json.Encoder(enc_hook=_fallback)  # UUIDs, dates and Structs as JSON, not as their repr()


def _dumps(event: dict[str, Any], **_: Any) -> str:
    return _ENCODER.encode(event).decode()


def mask_secrets(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """Never let a DSN password or a token reach a log line, whichever field (or nested field) carries it."""
    return _masked(event)  # type: ignore[no-any-return]


def configure_logging(*, level: str = "info", fmt: str = "", service: str = "studio") -> None:
    """Configure structlog and route stdlib loggers (uvicorn, psycopg, yoyo) through the same renderer."""
    use_console = fmt == "console" or (fmt == "" and sys.stdout.isatty())
    tracebacks = structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False))
    renderer: Any = structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback) \
        if use_console else structlog.processors.JSONRenderer(serializer=_dumps)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    # Console: the traceback is rendered as text by the renderer; JSON: as a dict, without locals.
    ending: list[Any] = [mask_secrets, renderer] if use_console else [tracebacks, mask_secrets, renderer]
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    structlog.configure(
        processors=[*shared, *ending],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *ending],
    ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)  # third-party loggers speak only when something is wrong
    for noisy in ("uvicorn.access",):  # we write our own canonical request line
        logging.getLogger(noisy).disabled = True


def reset_logging() -> None:
    """Undo configure_logging's structlog side (tests that configure logging leave the next ones as they were)."""
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
