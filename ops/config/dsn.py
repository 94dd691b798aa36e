"""Database URLs: one place that normalises and masks them."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

_POOLER_PORTS = {6432, 6543}  # pgbouncer's and Supabase Supavisor's transaction-pooling ports


def normalize_dsn(url: str) -> str:
    """`postgres://` (Render, Heroku) and `postgresql+psycopg://` become `postgresql://`; the query (sslmode) stays."""
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url  # a key=value conninfo string: psycopg takes it as is
    if scheme in ("postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg3", "postgresql+psycopg2"):
        return f"postgresql://{rest}"
    raise ValueError(f"DATABASE_URL must be a postgres:// or postgresql:// URL, not {scheme}://")


def yoyo_url(url: str) -> str:
    """yoyo 9 picks psycopg 3 only with the `postgresql+psycopg://` scheme."""
    return "postgresql+psycopg://" + normalize_dsn(url).partition("://")[2]


def mask_dsn(url: str) -> str:
    """The URL with its password replaced by `***`, safe for logs and error messages."""
    if "://" not in url:
        return re.sub(r"(password\s*=\s*)(\S+)", r"\1***", url)
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = (parts.username or "") + ":***"
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc[1]}"))


def is_pooler(url: str) -> bool:
    """A URL that goes through a transaction pooler (no LISTEN, no prepared statements)."""
    if "://" not in url:
        return False
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return False
    return port in _POOLER_PORTS or ".pooler." in (parts.hostname or "")
