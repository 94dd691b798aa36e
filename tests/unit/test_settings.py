"""Configuration from the environment, and the URLs in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.dsn import is_pooler, mask_dsn, normalize_dsn, yoyo_url
from ops.settings import Settings


def test_environment_names_match_the_documented_ones() -> None:
    s = Settings.from_env({
        "DATABASE_URL": "postgres://u:p@db.example.com:5432/studio?sslmode=require",
        "DATABASE_DIRECT_URL": "postgresql://u:p@db.example.com:5432/studio",
        "DB_ECHO": "true", "ALLOWED_ORIGINS": "https://a.example.com/, HTTP://LOCALHOST:3000",
        "PORT": "9000", "STUDIO_DATA_DIR": "/var/lib/studio", "SHUTDOWN_GRACE_S": "12.5",
        "WORKER_CONCURRENCY": "2", "JOB_RETENTION_DAYS": "7", "ADMIN_TOKEN": "x", "RATE_LIMIT_PER_MINUTE": "0",
    })
    assert s.database_url == "postgresql://u:p@db.example.com:5432/studio?sslmode=require"
    assert s.session_url == "postgresql://u:p@db.example.com:5432/studio"
    assert s.db_echo is True and s.port == 9000 and s.host == "0.0.0.0"  # a platform set PORT: all interfaces
    assert s.allowed_origins == ("https://a.example.com", "http://localhost:3000")
    assert (s.studio_data_dir, s.shutdown_grace_s, s.worker_concurrency) == ("/var/lib/studio", 12.5, 2)
    assert s.worker_id  # generated


def test_defaults_for_a_newcomer() -> None:
    s = Settings.from_env({})
    assert (s.database_url, s.host, s.port, s.studio_data_dir) == ("", "127.0.0.1", 8000, ".studio")


@pytest.mark.parametrize(("env", "name"), [({"PORT": "http"}, "PORT"), ({"SHUTDOWN_GRACE_S": "-1"}, "SHUTDOWN_GRACE_S"),
                                           ({"DB_ECHO": "maybe"}, "DB_ECHO")])
def test_a_bad_value_names_its_variable(env: dict[str, str], name: str) -> None:
    with pytest.raises(SystemExit, match=name):
        Settings.from_env(env)


def test_database_urls() -> None:
    assert normalize_dsn("postgres://u:p@h/db?sslmode=require") == "postgresql://u:p@h/db?sslmode=require"
    assert yoyo_url("postgres://u:p@h/db?sslmode=require") == "postgresql+psycopg://u:p@h/db?sslmode=require"
    assert mask_dsn("postgresql://user:s3cret@h:5432/db?sslmode=require") == "postgresql://user:***@h:5432/db?sslmode=require"
    assert mask_dsn("host=h password=s3cret dbname=d") == "host=h password=*** dbname=d"
    assert mask_dsn("postgresql://h/db") == "postgresql://h/db"
    with pytest.raises(ValueError, match="mysql"):
        normalize_dsn("mysql://h/db")
    assert is_pooler("postgresql://u:p@aws-0-eu-central-1.pooler.supabase.com:6543/postgres")
    assert is_pooler("postgresql://u:p@h:6432/db") and not is_pooler("postgresql://u:p@h:5432/db")


def test_log_lines_are_json_whatever_the_values(capsys: pytest.CaptureFixture[str]) -> None:
    import datetime as dt
    import json
    import logging
    import uuid

    import structlog

    from ops.logs import configure_logging, reset_logging

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging(level="info", fmt="json", service="test")
    try:
        structlog.get_logger().info("logged", job_id=uuid.UUID(int=1), at=dt.date(2026, 1, 2), obj=object(),
                                    pairs={(1, 2): 3}, dsn="postgresql://u:s3cret@h/db", token="t0ken")
    finally:  # configure_logging is process-wide: leave the next tests the logging they had
        reset_logging()
        root.handlers[:], root.level = handlers, level
        logging.getLogger("uvicorn.access").disabled = False
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["event"] == "logged" and line["service"] == "test" and line["level"] == "info"
    assert line["job_id"] == "00000000-0000-0000-0000-000000000001" and line["at"] == "2026-01-02"
    assert line["obj"].startswith("<object object") and line["pairs"] == {"(1, 2)": 3}
    assert line["dsn"] == "postgresql://u:***@h/db" and line["token"] == "***"


def test_request_line_is_structlogs_line_and_flushed_within_the_tick(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio
    import datetime as dt
    import json
    import logging
    import sys

    import structlog

    from ops.logs import configure_logging, hot_logger, reset_logging

    out_path = tmp_path / "stdout"
    out = out_path.open("w", buffering=1)  # every line written at once, as with PYTHONUNBUFFERED=1
    monkeypatch.setattr(sys, "stdout", out)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging(level="info", fmt="json", service="api")
    fields = {"method": "GET", "path": "/health", "status_code": 200, "duration_ms": 0.12, "client": "10.0.0.1",
              "token": "t0ken", "dsn": "postgresql://u:s3cret@h/db"}

    async def requests() -> list[str]:
        structlog.contextvars.bind_contextvars(request_id="r1")
        hot_logger("http_request")(dict(fields))
        on_disk = [out_path.read_text()]  # still in the buffer: one write() per tick, not per line
        await asyncio.sleep(0)
        on_disk.append(out_path.read_text())
        structlog.get_logger().info("http_request", **fields)  # the slow path, for comparison
        hot_logger("http_request")(dict(fields, path="/later"))
        structlog.get_logger().warning("something_else")  # flushed at once, after the line kept before it
        return on_disk

    try:
        before_tick, after_tick = asyncio.run(requests())
    finally:
        reset_logging()
        root.handlers[:], root.level = handlers, level
        logging.getLogger("uvicorn.access").disabled = False
        out.close()
    assert before_tick == "" and after_tick.count("\n") == 1
    fast, slow, later, other = (json.loads(line) for line in out_path.read_text().splitlines())
    assert (later["path"], other["event"]) == ("/later", "something_else")
    assert list(fast) == list(slow)  # same keys in the same order
    assert {**fast, "timestamp": ""} == {**slow, "timestamp": ""}
    assert fast["token"] == "***" and fast["dsn"] == "postgresql://u:***@h/db"
    assert fast["request_id"] == "r1" and fast["service"] == "api" and fast["level"] == "info"
    stamp = dt.datetime.strptime(fast["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    assert abs((dt.datetime.now(dt.UTC) - stamp).total_seconds()) < 5
    assert len(fast["timestamp"]) == len(slow["timestamp"])
