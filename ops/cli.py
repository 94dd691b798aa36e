"""`studio`: up (all in one, local), api, worker, migrate."""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import signal
import subprocess
import sys
from typing import Any

import msgspec
import structlog

from ops.config.dsn import mask_dsn
from ops.config.logs import configure_logging
from ops.config.settings import Settings
from ops.embedded import resolve_database

log = structlog.get_logger()


def cmd_migrate(settings: Settings, _: argparse.Namespace) -> int:
    resolve_database(settings)
    return 0


def _serve_api(settings: Settings) -> None:
    import uvicorn

    from api.app import create_app
    from ops.http_protocol import HeaderDeadlineProtocol

    options: dict[str, Any] = {
        "host": settings.host, "port": settings.port, "log_config": None, "access_log": False, "proxy_headers": True,
        # uvicorn takes the right-most X-Forwarded-For address that is not a trusted proxy: only the platform's
        # proxy may name the client, never the client itself.
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        "limit_concurrency": settings.limit_concurrency, "timeout_keep_alive": 5,
        "http": HeaderDeadlineProtocol,  # httptools, with a deadline for the headers
        "timeout_graceful_shutdown": int(settings.shutdown_grace_s), "server_header": False}
    HeaderDeadlineProtocol.header_timeout_s = settings.header_read_timeout_s
    if settings.web_concurrency == 1:
        app = create_app(settings)
        _freeze_startup_objects()
        uvicorn.run(app, **options)
        return
    # uvicorn starts each worker process from an import string; the workers share the port, and each has its
    # own pool, LISTEN connection, /health cache and rate-limit counts.
    uvicorn.run("ops.cli:api_worker_app", factory=True, workers=settings.web_concurrency, **options)


def api_worker_app() -> object:
    """The app in one `WEB_CONCURRENCY` worker process: a fresh interpreter, so it configures its logs first."""
    from api.app import create_app
    from ops.http_protocol import HeaderDeadlineProtocol

    settings = Settings.from_env()
    configure_logging(level=settings.log_level, fmt=settings.log_format, service="api")
    HeaderDeadlineProtocol.header_timeout_s = settings.header_read_timeout_s
    app = create_app(settings)
    _freeze_startup_objects()
    return app


def _freeze_startup_objects() -> None:
    """Modules, the app, shapely and numpy live as long as the API process: frozen, a full garbage collection
    skips them (walking them took tens of milliseconds, a stall every request in flight waits out: the p99)."""
    gc.collect()
    gc.freeze()


def cmd_api(settings: Settings, _: argparse.Namespace) -> int:
    settings, server = resolve_database(settings) if not settings.database_url else (settings, None)
    try:
        _serve_api(settings)
    finally:
        if server is not None:
            server.stop()
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from pipeline.worker import run_worker

    if args.stages:
        stages = tuple(stage.strip() for stage in args.stages.split(","))
        settings = msgspec.structs.replace(settings, worker_stages=stages)
    if args.concurrency:
        settings = msgspec.structs.replace(settings, worker_concurrency=args.concurrency)
    bad = set(settings.worker_stages) - {"cad", "pdf"}
    if bad or not settings.worker_stages:
        raise SystemExit(f"--stages takes cad, pdf or cad,pdf; got {','.join(settings.worker_stages)}")
    if not settings.database_url:
        settings, _ = resolve_database(settings)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(settings, stop)

    asyncio.run(main())
    return 0


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)


def cmd_up(settings: Settings, args: argparse.Namespace) -> int:
    """Embedded PostgreSQL (unless DATABASE_URL is set), one worker process and the API, logs on stdout."""
    settings, server = resolve_database(settings)
    worker = subprocess.Popen([sys.executable, "-m", "ops.cli", "worker"], env=os.environ.copy())
    url = f"http://{'localhost' if settings.host in ('0.0.0.0', '127.0.0.1') else settings.host}:{settings.port}"
    log.info("studio_up", url=url, docs=f"{url}/docs", database=mask_dsn(settings.database_url),
             worker_pid=worker.pid)
    print(f"\n  Studio is running at {url}  (API docs: {url}/docs; Ctrl+C stops everything)\n", flush=True)
    # uvicorn shuts down on SIGTERM, then raises the signal again with the handler it found: the default one
    # would end this process before `finally` stops the worker and PostgreSQL (Ctrl+C raises an exception).
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        _serve_api(settings)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=settings.shutdown_grace_s + 5)
        except subprocess.TimeoutExpired:
            worker.kill()
        if server is not None:
            server.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="studio", description="Studio: stone fabrication CAD pipeline")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="run everything locally: embedded PostgreSQL, API and one worker")
    sub.add_parser("api", help="serve the HTTP API (uvicorn; PORT, HOST)")
    worker_command = sub.add_parser("worker", help="run a pipeline worker")
    worker_command.add_argument("--stages", help="comma-separated stages to run: cad,pdf (default both)")
    worker_command.add_argument("--concurrency", type=int, help="jobs run at once in this worker (default 1)")
    sub.add_parser("migrate", help="apply database migrations and exit")
    from ops.admin import add_admin_commands

    add_admin_commands(sub)
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    service = {"api": "api", "worker": "worker"}.get(args.command, "studio")
    configure_logging(level=settings.log_level, fmt=settings.log_format, service=service)
    from pipeline import store

    store.ECHO = settings.db_echo
    handler = {"up": cmd_up, "api": cmd_api, "worker": cmd_worker, "migrate": cmd_migrate}.get(args.command)
    if handler is None:
        return int(args.func(settings, args))
    return handler(settings, args)


if __name__ == "__main__":
    sys.exit(main())
