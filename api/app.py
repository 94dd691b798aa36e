"""The Litestar application: `create_app(settings)`; a lifespan opens the pool and the event listener."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import psycopg
import psycopg_pool
import structlog
from litestar import Litestar, Response, Router, get
from litestar.exceptions import HTTPException
from litestar.status_codes import HTTP_408_REQUEST_TIMEOUT
from litestar.config.cors import CORSConfig
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import RedocRenderPlugin, SwaggerRenderPlugin
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.catalogue import CatalogueController
from api.errors import EXCEPTION_HANDLERS
from api.events import EventHub
from api.jobs import GenerateController, JobsController
from api.metrics import metrics, observe_request
from api.openapi import add_spec_schemas
from api.security import PUBLIC, auth_middleware, submission_rate_limit
from api.slabs import ConfirmController, SlabsController
from api.templates import TemplatesController
from api.webapp import WebAppController, add_webapp_schemas, openapi_aliases
from api.webapp_advice import WebAppAdviceController
from ops.config.settings import Settings
from pipeline import store
from pipeline.db import GroupCommit, listen, open_pool

log = structlog.get_logger()


@get("/", operation_id="root", tags=["service"], opt={PUBLIC: True})
async def root() -> dict[str, str]:
    """Service banner (the frontend checks it)."""
    return {"message": "Studio Python API", "status": "running"}


HEALTH_TTL_S = 1.0
# Built once: a Response is only data until Litestar renders it, and /health is what monitors hit most.
HEALTHY = Response({"status": "healthy"}, status_code=200)
UNHEALTHY = Response({"status": "unhealthy"}, status_code=503)


class HealthCheck:
    """The database check behind /health, one per app: its answer is reused for HEALTH_TTL_S, and requests
    arriving while a check runs share it instead of each taking a pooled connection (under load they all saw
    the stale answer at once and queued on the pool)."""

    def __init__(self) -> None:
        self.pool: Any = None  # the app's pool, set by the lifespan before the first request
        self.checked_at, self.ok = float("-inf"), False
        self.in_flight: asyncio.Future[bool] | None = None

    async def answer(self) -> Response[dict[str, str]]:
        ok = self.ok
        if time.monotonic() - self.checked_at > HEALTH_TTL_S:
            if self.in_flight is None:
                self.in_flight = asyncio.ensure_future(self._check())
            ok = await asyncio.shield(self.in_flight)  # a client hanging up must not cancel the others' check
        return HEALTHY if ok else UNHEALTHY

    async def _check(self) -> bool:
        """Ping the database (2 s at most) and remember the answer with the time it was given."""
        ok = False
        try:
            async with asyncio.timeout(2.0):
                ok = await store.ping(self.pool)
        except (TimeoutError, psycopg.Error, psycopg_pool.PoolTimeout) as exc:
            log.warning("health_check_failed", error=str(exc).strip()[:200] or type(exc).__name__)
        finally:
            self.checked_at, self.ok, self.in_flight = time.monotonic(), ok, None
        return ok


def health_route(check: HealthCheck) -> HTTPRouteHandler:
    # The check is closed over rather than injected: with no parameters Litestar skips its signature model on the
    # route monitors hit most.
    @get("/health", operation_id="health", tags=["service"], opt={PUBLIC: True})
    async def health() -> Response[dict[str, str]]:
        """200 `healthy` when the database answered within 2 s, else 503 `unhealthy`.

        The answer is reused for a second: uptime pings and load balancers must not cost a round trip each.
        """
        return await check.answer()

    return health


SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
# JSON and files need no script, style or frame; the API docs pages (opt DOCS_PAGE) load their UI from a CDN.
API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'; sandbox")
HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")
DOCS_PAGE = "docs_page"


def response_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    """The security headers for this response, chosen by the route the router matched (none: a 404)."""
    handler = scope.get("route_handler")
    docs = handler is not None and bool(handler.opt.get(DOCS_PAGE))
    return [*SECURITY_HEADERS, *([] if docs else [API_CSP]), *([HSTS] if scope.get("scheme") == "https" else [])]


def edge_middleware(settings: Settings) -> Callable[[ASGIApp], ASGIApp]:
    """The one middleware around everything Litestar answers (404s and preflights included): a request id echoed
    in X-Request-ID, the security headers, a bounded wait for the request body, the duration histogram and one
    canonical `http_request` log line per request. Access is decided after routing (api.security)."""
    body_timeout_s = settings.body_read_timeout_s

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            request_id = ""
            for name, value in scope["headers"]:
                if name == b"x-request-id":  # the first counts
                    request_id = value.decode("latin-1")[:64]
                    break
            request_id = request_id or os.urandom(16).hex()
            started = time.perf_counter()
            status = 0  # no response started yet
            body_done = False

            async def send_wrapper(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = status or message["status"]  # 499 stays: the answer goes to nobody
                    message["headers"] = [*message.get("headers", ()), *response_headers(scope),
                                          (b"x-request-id", request_id.encode())]
                await send(message)

            async def receive_wrapper() -> Message:
                nonlocal status, body_done
                if body_done:
                    message = await receive()  # after the body only a disconnect comes: an SSE stream waits here
                else:
                    try:
                        message = await asyncio.wait_for(receive(), body_timeout_s)
                    except TimeoutError:
                        raise HTTPException(status_code=HTTP_408_REQUEST_TIMEOUT,
                                            detail=f"the request body did not arrive within {body_timeout_s:g} s") \
                            from None
                    body_done = message["type"] != "http.request" or not message.get("more_body", False)
                if message["type"] == "http.disconnect" and not status:
                    status = 499  # the client went away before its answer (nginx's code): not a server error
                return message

            with structlog.contextvars.bound_contextvars(request_id=request_id):
                try:
                    await app(scope, receive_wrapper, send_wrapper)
                finally:
                    elapsed = time.perf_counter() - started
                    status = status or 500  # no response at all: the exception went on to the server, which sends 500
                    observe_request(scope, status, elapsed)
                    log.info("http_request", method=scope["method"], path=scope["path"], status_code=status,
                             duration_ms=round(elapsed * 1000, 2), client=(scope.get("client") or ("", 0))[0],
                             **scope.get("state", {}).get("log", {}))

        return middleware

    return wrap


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the app; settings come from the environment unless given (tests pass their own)."""
    settings = settings or Settings.from_env()
    store.ECHO = settings.db_echo

    health_check = HealthCheck()

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        stop = asyncio.Event()
        hub = EventHub(settings.sse_streams_per_owner, settings.sse_streams_total)
        async with open_pool(settings) as pool:
            app.state.pool, app.state.hub, app.state.settings = pool, hub, settings
            # Submissions that arrive while one insert commits share the next one (one fsync, one NOTIFY).
            app.state.submissions = GroupCommit(functools.partial(store.insert_jobs, pool))
            health_check.pool = pool
            listener = asyncio.create_task(listen(settings.session_url, ("studio_job_events",), hub.dispatch,
                                                  on_connect=hub.wake_all, stop=stop))
            log.info("api_started", host=settings.host, port=settings.port,
                     allowed_origins=list(settings.allowed_origins))
            try:
                yield
            finally:
                stop.set()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(listener, timeout=5)

    cors = CORSConfig(allow_origins=list(settings.allowed_origins),
                      allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
                      allow_headers=["Content-Type", "Idempotency-Key", "Authorization", "X-Request-ID"],
                      expose_headers=["Location", "X-Request-ID", "Retry-After"], max_age=600,
                      allow_credentials=settings.cors_allow_credentials) \
        if settings.allowed_origins else None
    limit = submission_rate_limit(settings.rate_limit_per_minute) if settings.rate_limit_per_minute > 0 else None
    submissions = Router("/", route_handlers=[GenerateController, WebAppController],
                         middleware=[limit.middleware] if limit else [])
    # The docs pages are public, and only they may run scripts (Swagger UI): both decided on the matched route.
    docs = Router("/docs", route_handlers=[], opt={PUBLIC: True, DOCS_PAGE: True}, include_in_schema=False)
    app = Litestar(
        route_handlers=[root, health_route(health_check), metrics, submissions, JobsController, CatalogueController,
                        WebAppAdviceController, TemplatesController, SlabsController, ConfirmController,
                        *openapi_aliases()],
        lifespan=[lifespan],
        cors_config=cors,
        middleware=[auth_middleware(settings)],
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(title="Studio API", version="1.0.0", path="/docs", openapi_router=docs,
                                     description="Stone fabrication jobs in; DXF, SVG and PDF shop drawings out.",
                                     render_plugins=[SwaggerRenderPlugin(), RedocRenderPlugin(path="/redoc")]),
        logging_config=None,
        debug=False,
    )
    add_spec_schemas(app.openapi_schema)
    add_webapp_schemas(app.openapi_schema)
    # Around Litestar's whole handler (router, CORS, exception handling), not inside a route: every response,
    # 404s and preflights included, is logged once and carries the security headers.
    app.asgi_handler = edge_middleware(settings)(app.asgi_handler)
    return app


def app_from_env() -> Litestar:
    """Factory for `uvicorn --factory api.app:app_from_env`."""
    return create_app()


__all__ = ["create_app", "app_from_env"]
