"""Who may do what: bearer tokens (HS256 secret or JWKS) own their jobs, ADMIN_TOKEN guards operator endpoints,
submissions are rate limited per client, and every response carries security headers.

With no AUTH_JWT_SECRET / AUTH_JWKS_URL the API is open (local use); `/`, `/health` and `/docs` are always public.
"""

from __future__ import annotations

import asyncio
import hmac
import math
import time
from typing import Any

import jwt
import msgspec
import structlog
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from ops.settings import Settings

log = structlog.get_logger()

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
# JSON and files need no script, style or frame; the Swagger page at /docs loads its UI from a CDN.
API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'; sandbox")
JWKS_ALGORITHMS = ["RS256", "ES256", "EdDSA"]


class AuthError(Exception):
    pass


class TokenVerifier:
    """Verifies bearer tokens against the configured HS256 secret or JWKS URL; returns the `sub`."""

    def __init__(self, settings: Settings) -> None:
        self.secret = settings.auth_jwt_secret
        self.audience = settings.auth_jwt_audience or None
        self.issuer = settings.auth_jwt_issuer or None
        self.jwks = jwt.PyJWKClient(settings.auth_jwks_url, cache_keys=True, lifespan=3600) \
            if settings.auth_jwks_url else None

    @property
    def enabled(self) -> bool:
        return bool(self.secret or self.jwks)

    async def subject(self, token: str) -> str:
        options = {"require": ["sub", "exp"], "verify_aud": self.audience is not None}
        try:
            if self.jwks is not None and not self.secret:
                # PyJWKClient fetches with urllib (blocking) the first time and on key rotation.
                key = (await asyncio.to_thread(self.jwks.get_signing_key_from_jwt, token)).key
                claims = jwt.decode(token, key, algorithms=JWKS_ALGORITHMS, audience=self.audience,
                                    issuer=self.issuer, options=options, leeway=30)
            else:
                claims = jwt.decode(token, self.secret, algorithms=["HS256"], audience=self.audience,
                                    issuer=self.issuer, options=options, leeway=30)
        except jwt.ExpiredSignatureError:
            raise AuthError("the token has expired") from None
        except (jwt.PyJWKClientError, jwt.InvalidTokenError) as exc:
            raise AuthError(f"the token is not valid: {exc}") from None
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub or len(sub) > 200:
            raise AuthError("the token has no usable `sub` claim")
        return sub


def is_admin(token: str | None, settings: Settings) -> bool:
    return bool(settings.admin_token and token and hmac.compare_digest(token, settings.admin_token))


class Gate:
    """Who a request is (admin, token owner) and the security headers its response gets; used by the API's one
    ASGI middleware (api.app.edge_middleware), which runs around everything Litestar answers."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.verifier = TokenVerifier(settings)
        hsts = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")
        # Built once: (under /docs, https) -> the headers every response gets.
        self.extras = {(docs, https): [*SECURITY_HEADERS, *([] if docs else [API_CSP]), *([hsts] if https else [])]
                       for docs in (False, True) for https in (False, True)}

    def headers(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        return self.extras[(scope["path"].startswith("/docs"), scope.get("scheme") == "https")]

    async def admit(self, scope: Scope, token: str | None) -> str | None:
        """Put `admin` and `owner` into the scope's state; the reason for a 401, or None to go on.

        /api/* and /metrics need a valid bearer token when auth is configured (preflights never do)."""
        state = scope.setdefault("state", {})
        state["admin"] = admin = is_admin(token, self.settings)
        state["owner"] = None
        path: str = scope["path"]
        if (self.verifier.enabled and not admin and scope["method"] != "OPTIONS"
                and (path.startswith("/api/") or path == "/api" or path == "/metrics")):
            try:
                if token is None:
                    raise AuthError("this API needs `Authorization: Bearer <token>`")
                state["owner"] = await self.verifier.subject(token)
            except AuthError as exc:
                return str(exc)
        return None


def bearer_token(authorization: bytes) -> str | None:
    scheme, _, token = authorization.decode("latin-1").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def deny(send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]]) -> None:
    """Answer with an ErrorBody from a middleware, before Litestar routes the request."""
    body = msgspec.json.encode({"status_code": status, "detail": detail, "errors": [], "warnings": []})
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


UNAUTHORIZED = [(b"www-authenticate", b'Bearer realm="studio"')]


def requires_admin(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard for operator endpoints: with ADMIN_TOKEN set, only that token passes."""
    from litestar.exceptions import NotAuthorizedException

    settings: Settings = connection.app.state.settings
    if settings.admin_token and not connection.scope.get("state", {}).get("admin"):
        raise NotAuthorizedException(detail="this operator endpoint needs `Authorization: Bearer <ADMIN_TOKEN>`")


def requires_admin_unless_scoped(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Listing is an operator action unless the caller is a signed-in user, who sees only their own jobs."""
    if connection.scope.get("state", {}).get("owner") is None:
        requires_admin(connection, handler)


class SubmissionLimit:
    """RATE_LIMIT_PER_MINUTE submissions per client: the token's `sub`, else the client address (after the proxy
    headers). Each client gets a one-minute window from its first submission; past the limit, 429 with
    `Retry-After` until the window ends. Answers carry the IETF draft's RateLimit-* headers.

    Mounted on the submission route alone. In memory, per process, with no lock: the event loop runs one request
    at a time between awaits, and nothing here awaits between reading a window and counting in it. Ended windows
    are dropped once a minute, so memory follows the clients of the last minute or two.
    """

    WINDOW_S = 60

    def __init__(self, per_minute: int) -> None:
        self.limit = per_minute
        self.windows: dict[str, list[float]] = {}  # client -> [window end (monotonic), submissions in it]
        self.next_sweep = 0.0
        self.policy = (b"ratelimit-policy", f"{per_minute}; w={self.WINDOW_S}".encode())

    def admit(self, client: str, now: float) -> tuple[int | None, list[tuple[bytes, bytes]]]:
        """Count a submission: None when it may go on, else the seconds to wait; and the headers for its answer."""
        if now >= self.next_sweep:
            self.windows = {k: w for k, w in self.windows.items() if w[0] > now}
            self.next_sweep = now + self.WINDOW_S
        window = self.windows.get(client)
        if window is None or window[0] <= now:
            window = self.windows[client] = [now + self.WINDOW_S, 0]
        allowed = window[1] < self.limit
        window[1] += allowed
        reset = max(1, math.ceil(window[0] - now))
        headers = [self.policy, (b"ratelimit-limit", str(self.limit).encode()),
                   (b"ratelimit-remaining", str(self.limit - int(window[1])).encode()),
                   (b"ratelimit-reset", str(reset).encode())]
        return (None, headers) if allowed else (reset, [*headers, (b"retry-after", str(reset).encode())])

    def middleware(self, app: ASGIApp) -> ASGIApp:
        async def limited(scope: Scope, receive: Receive, send: Send) -> None:
            owner = scope.get("state", {}).get("owner")
            client = f"sub {owner}" if owner else f"address {(scope.get('client') or ('unknown',))[0]}"
            wait, headers = self.admit(client, time.monotonic())
            if wait is not None:
                await deny(send, 429, f"too many submissions from this client: at most {self.limit} a minute; "
                                      f"retry in {wait} s", headers)
                return

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", ()), *headers]
                await send(message)

            await app(scope, receive, send_with_headers)

        return limited
