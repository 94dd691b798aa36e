"""Real PostgreSQL for every test: the embedded server (fsync off) or STUDIO_TEST_DATABASE_URL.

Each test that asks for `db_url` gets a fresh database cloned from a migrated template, so tests never see
each other's jobs and the migration runs once per session.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from ops.config.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
TEMPLATE = "studio_template"


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """URL of a database on the test server from which databases can be created."""
    url = os.environ.get("STUDIO_TEST_DATABASE_URL")
    if url:
        yield url
        return
    from ops.embedded import ensure_server

    with tempfile.TemporaryDirectory(prefix="studio-test-pg-") as tmp:
        server = ensure_server(tmp, durable=False)
        os.environ["STUDIO_TEST_PGDATA"] = str(server.pgdata)
        try:
            yield server.url()
        finally:
            server.stop("immediate")


@pytest.fixture(scope="session")
def embedded_server(pg_admin_url: str):  # type: ignore[no-untyped-def]
    """The embedded server handle, for tests that stop and start PostgreSQL."""
    if os.environ.get("STUDIO_TEST_DATABASE_URL"):
        pytest.skip("restarting PostgreSQL needs the embedded server (STUDIO_TEST_DATABASE_URL is set)")
    from ops.embedded import EmbeddedPostgres, _run_as

    pgdata = Path(os.environ["STUDIO_TEST_PGDATA"])
    port = int((pgdata / "postmaster.pid").read_text().splitlines()[3])
    return EmbeddedPostgres(pgdata, port, _run_as())


def _url_for(admin_url: str, dbname: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(admin_url)
    info["dbname"] = dbname
    return psycopg.conninfo.make_conninfo(**info)


def _to_url(conninfo: str) -> str:
    """key=value conninfo -> postgresql:// URL (what DATABASE_URL looks like in production)."""
    info = psycopg.conninfo.conninfo_to_dict(conninfo)
    auth = info.get("user", "postgres") + (f":{info['password']}" if info.get("password") else "")
    return f"postgresql://{auth}@{info.get('host', '127.0.0.1')}:{info.get('port', 5432)}/{info['dbname']}"


@pytest.fixture(scope="session")
def template_db(pg_admin_url: str) -> str:
    from ops.migrate import migrate

    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(TEMPLATE)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
    migrate(_to_url(_url_for(pg_admin_url, TEMPLATE)))
    return TEMPLATE


@pytest.fixture
def db_url(pg_admin_url: str, template_db: str) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template_db)))
    try:
        yield _to_url(_url_for(pg_admin_url, name))
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, poll_interval_s=1.0, lease_s=5.0, heartbeat_s=1.0,
                    retry_base_s=0.05, shutdown_grace_s=5.0, stage_timeout_s=60.0).normalized()


def example_bytes(name: str) -> bytes:
    return (EXAMPLES / name).read_bytes()
