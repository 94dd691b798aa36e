"""Apply the yoyo SQL migrations in migrations/."""

from __future__ import annotations

from pathlib import Path

import structlog
from yoyo import get_backend, read_migrations

from ops.config.dsn import yoyo_url

log = structlog.get_logger()

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def migrate(database_url: str) -> int:
    """Apply pending migrations under yoyo's lock; returns how many were applied."""
    backend = get_backend(yoyo_url(database_url))
    migrations = read_migrations(str(MIGRATIONS_DIR))
    try:
        with backend.lock():
            pending = backend.to_apply(migrations)
            backend.apply_migrations(pending)
    finally:
        backend.connection.close()  # yoyo keeps it open; an idle session blocks CREATE DATABASE ... TEMPLATE
    log.info("database_initialized", applied=len(pending), total=len(migrations))
    return len(pending)
