"""Configuration: environment only, read once by `Settings.from_env()` in entry points; tests build Settings directly."""

from __future__ import annotations

import os
import socket
import uuid
from typing import Annotated

import msgspec
from msgspec import Meta

from ops.config.dsn import mask_dsn, normalize_dsn

Seconds = Annotated[float, Meta(gt=0, le=86_400)]


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str = ""  # empty: `studio up` starts the embedded PostgreSQL and fills it in
    database_direct_url: str = ""  # non-pooled URL for LISTEN when DATABASE_URL goes through a pooler
    db_echo: bool = False
    allowed_origins: tuple[str, ...] = ()
    host: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=1, le=65_535)] = 8000
    studio_data_dir: str = ".studio"  # where the embedded PostgreSQL keeps its data
    log_level: str = "info"
    log_format: str = ""  # "json" | "console"; empty: console on a TTY, JSON otherwise
    pool_min_size: Annotated[int, Meta(ge=0, le=100)] = 1
    pool_max_size: Annotated[int, Meta(ge=1, le=100)] = 10
    web_concurrency: Annotated[int, Meta(ge=1, le=32)] = 1  # `studio api` processes; each has its own pool
    worker_id: str = ""
    worker_stages: tuple[str, ...] = ("cad", "pdf")
    worker_concurrency: Annotated[int, Meta(ge=1, le=64)] = 1
    poll_interval_s: Seconds = 5.0
    lease_s: Seconds = 30.0
    heartbeat_s: Seconds = 10.0
    stage_timeout_s: Seconds = 300.0
    stage_memory_mb: Annotated[int, Meta(ge=0)] = 2048  # address-space limit of each stage process; 0: none
    shutdown_grace_s: Seconds = 20.0
    max_attempts: Annotated[int, Meta(ge=1, le=100)] = 3
    retry_base_s: Seconds = 2.0
    retry_max_s: Seconds = 300.0
    job_retention_days: Annotated[float, Meta(ge=0)] = 30.0
    max_body_bytes: Annotated[int, Meta(ge=1024)] = 2_000_000
    body_read_timeout_s: Seconds = 30.0  # a request body that has not fully arrived by then is a 408
    header_read_timeout_s: Seconds = 10.0  # a request line and headers not complete by then: connection closed
    max_active_jobs_per_owner: Annotated[int, Meta(ge=0)] = 20  # queued + running per client; 0 turns it off
    sse_streams_per_owner: Annotated[int, Meta(ge=1)] = 20  # open /events streams per client
    sse_streams_total: Annotated[int, Meta(ge=1)] = 500  # open /events streams per API process
    limit_concurrency: Annotated[int, Meta(ge=10)] = 1000  # connections + tasks per API process (uvicorn: 503 past it)
    forwarded_allow_ips: str = "127.0.0.1"  # proxies whose X-Forwarded-For is trusted (uvicorn's setting)
    auth_jwt_secret: str = ""  # HS256 secret (Supabase's legacy JWT secret): /api/* then needs a bearer token
    auth_jwks_url: str = ""  # or a JWKS URL (RS256/ES256 tokens)
    auth_jwt_audience: str = ""
    auth_jwt_issuer: str = ""
    admin_token: str = ""  # guards operator endpoints (list all jobs, delete, retry, metrics) when set
    rate_limit_per_minute: Annotated[int, Meta(ge=0)] = 60  # submissions per client; 0 turns it off
    cors_allow_credentials: bool = False
    sync_wait_s: Annotated[float, Meta(gt=0, le=300)] = 25.0  # the web app's synchronous routes wait this long for CAD
    stage_function: str = ""  # "module:function" run for each stage instead of the engine (benchmarks, tests)

    SECRET_FIELDS = ("auth_jwt_secret", "admin_token")

    def __repr__(self) -> str:
        """Secrets masked: a Settings that reaches a log line or a traceback gives nothing away."""
        fields = []
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if name in self.SECRET_FIELDS and value:
                value = "***"
            elif name in ("database_url", "database_direct_url") and value:
                value = mask_dsn(value)
            fields.append(f"{name}={value!r}")
        return f"Settings({', '.join(fields)})"

    __str__ = __repr__

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Build from environment variables (DATABASE_URL, PORT, ...); bad values name the variable."""
        env = dict(os.environ if env is None else env)
        raw: dict[str, object] = {}
        for name in cls.__struct_fields__:
            value = env.get(name.upper())
            if value is None or value == "":
                continue
            if name in ("allowed_origins", "worker_stages"):
                raw[name] = [part.strip() for part in value.split(",") if part.strip()]
            else:
                raw[name] = value
        if not raw.get("host") and env.get("PORT") and not env.get("HOST"):
            raw["host"] = "0.0.0.0"  # a platform that sets PORT expects us on every interface  # noqa: S104
        try:
            settings = msgspec.convert(raw, cls, strict=False)
        except msgspec.ValidationError as exc:
            # "Expected `int`, got `str` - at `$.port`" -> name the environment variable instead.
            msg = str(exc)
            if "- at `$." in msg:
                body, _, where = msg.rpartition(" - at `$.")
                msg = f"{where.rstrip('`').upper()}: {body}"
            raise SystemExit(f"invalid configuration: {msg}") from None
        return settings.normalized()

    def normalized(self) -> Settings:
        """Canonical DSNs and origins, and a worker id when none was given."""
        return msgspec.structs.replace(
            self,
            database_url=normalize_dsn(self.database_url) if self.database_url else "",
            database_direct_url=normalize_dsn(self.database_direct_url) if self.database_direct_url else "",
            allowed_origins=tuple(normalize_origin(origin) for origin in self.allowed_origins),
            worker_id=self.worker_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}",
        )

    @property
    def session_url(self) -> str:
        """LISTEN and migrations need a real session: the direct URL when a pooler fronts DATABASE_URL."""
        return self.database_direct_url or self.database_url


def normalize_origin(origin: str) -> str:
    """`HTTPS://App.Example.com/` -> `https://app.example.com`: browsers send origins lower-case, no slash."""
    origin = origin.strip().rstrip("/")
    scheme, sep, rest = origin.partition("://")
    if not sep:
        return origin.lower()
    return f"{scheme.lower()}://{rest.lower()}"
