"""Who may do what, decided on the route the router matched: bearer tokens (HS256 secret or JWKS) own their jobs,
ADMIN_TOKEN guards operator endpoints, submissions are rate limited per client.

Deny by default: every route needs a token when auth is configured, except those whose handler (or router)
carries `opt={PUBLIC: True}`: `/`, `/health` and the API docs. With no AUTH_JWT_SECRET / AUTH_JWKS_URL the API is
open (local use), and operator routes are open unless ADMIN_TOKEN is set.
"""

from __future__ import annotations

import asyncio
import hmac
from typing import Any

import jwt
import msgspec
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, TooManyRequestsException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult, DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig, RateLimitMiddleware
from litestar.types import Receive, Scope, Send

from ops.config.settings import Settings

PUBLIC = "public"  # a route handler's (or router's) opt key: no token needed
JWKS_ALGORITHMS = ["RS256", "ES256", "EdDSA"]
BEARER_CHALLENGE = 'Bearer realm="studio"'


class Identity(msgspec.Struct, frozen=True):
    """Who sent a request: `owner` is the token's `sub` (None: no scoping), `admin` the ADMIN_TOKEN holder."""

    owner: str | None = None
    admin: bool = False


ANONYMOUS = Identity()
OPERATOR = Identity(admin=True)


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
        except jwt.PyJWTError as exc:
            raise AuthError(f"the token is not valid: {exc}") from None
        except (TypeError, ValueError, AttributeError):
            # A token whose algorithm does not fit its key (an ES256 token naming an RSA key) fails inside the
            # key's verify(), not as a PyJWTError.
            raise AuthError("the token is not valid: its algorithm does not match the signing key") from None
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub or len(sub) > 200:
            raise AuthError("the token has no usable `sub` claim")
        return sub


def bearer_token(authorization: str) -> str | None:
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison on bytes: a str compare_digest raises TypeError on non-ASCII input."""
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode("utf-8"))


class TokenAuthMiddleware(AbstractAuthenticationMiddleware):
    """Litestar's authentication middleware, run after routing: `scope["user"]` becomes an Identity.

    Routes opt out with `opt={PUBLIC: True}` (never by path pattern); preflights are never authenticated.
    """

    def __init__(self, app: Any, settings: Settings) -> None:
        super().__init__(app, exclude_from_auth_key=PUBLIC)
        self.admin_token = settings.admin_token
        self.verifier = TokenVerifier(settings)

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        token = bearer_token(connection.headers.get("authorization", ""))
        if token is not None and self.admin_token and same_secret(token, self.admin_token):
            return AuthenticationResult(user=OPERATOR, auth=None)
        if not self.verifier.enabled:
            return AuthenticationResult(user=ANONYMOUS, auth=None)
        try:
            if token is None:
                raise AuthError("this API needs `Authorization: Bearer <token>`")
            owner = await self.verifier.subject(token)
        except AuthError as exc:
            raise NotAuthorizedException(detail=str(exc), headers={"WWW-Authenticate": BEARER_CHALLENGE}) from None
        return AuthenticationResult(user=Identity(owner=owner), auth=None)


def auth_middleware(settings: Settings) -> DefineMiddleware:
    return DefineMiddleware(TokenAuthMiddleware, settings=settings)


def identity(connection: ASGIConnection[Any, Any, Any, Any]) -> Identity:
    """The request's Identity (public routes, which skip authentication, are anonymous)."""
    return connection.scope.get("user") or ANONYMOUS  # type: ignore[return-value]


def requires_admin(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard for operator endpoints: with ADMIN_TOKEN set, only that token passes."""
    settings: Settings = connection.app.state.settings
    if settings.admin_token and not identity(connection).admin:
        raise NotAuthorizedException(detail="this operator endpoint needs `Authorization: Bearer <ADMIN_TOKEN>`",
                                     headers={"WWW-Authenticate": BEARER_CHALLENGE})


def requires_admin_unless_scoped(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Listing is an operator action unless the caller is a signed-in user, who sees only their own jobs."""
    if identity(connection).owner is None:
        requires_admin(connection, handler)


def client_key(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """What a per-client limit counts: the token's `sub`, else the client address (after the trusted proxy)."""
    owner = identity(connection).owner
    return f"sub {owner}" if owner else f"address {connection.client.host if connection.client else 'unknown'}"


class SubmissionRateLimit(RateLimitMiddleware):
    """Litestar's rate limiting, plus `Retry-After` on its 429 (RFC 9110) and a detail that says the limit."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except TooManyRequestsException as exc:
            headers = dict(exc.headers or {})
            reset = headers.get(self.config.rate_limit_reset_header_key)
            if reset is None or "Retry-After" in headers:
                raise  # not ours: a handler's own 429
            wait = str(max(1, int(reset)))
            raise TooManyRequestsException(
                detail=f"too many submissions from this client: at most {self.max_requests} a minute; "
                       f"retry in {wait} s", headers={**headers, "Retry-After": wait}) from None


def submission_rate_limit(per_minute: int) -> RateLimitConfig:
    """RATE_LIMIT_PER_MINUTE submissions per client, counted in this process's memory store."""
    return RateLimitConfig(rate_limit=("minute", per_minute), identifier_for_request=client_key,
                           middleware_class=SubmissionRateLimit)
