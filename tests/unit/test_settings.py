"""Configuration from the environment, and the URLs in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.config.dsn import is_pooler, mask_dsn, normalize_dsn, yoyo_url
from ops.config.settings import Settings


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

    from ops.config.logs import configure_logging, reset_logging

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


def test_log_lines_mask_secrets_at_any_depth_and_tracebacks_carry_no_locals(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt
    import json
    import logging
    import sys

    import structlog

    from ops.config.logs import configure_logging, reset_logging
    from ops.config.settings import Settings

    out_path = tmp_path / "stdout"
    out = out_path.open("w", buffering=1)
    monkeypatch.setattr(sys, "stdout", out)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging(level="info", fmt="json", service="api")
    settings = Settings(database_url="postgresql://u:dbpass123@h/db", admin_token="adm1n-t0ken",
                        auth_jwt_secret="jwt-s3cret-value")
    try:
        structlog.contextvars.bind_contextvars(request_id="r1")
        structlog.get_logger().info("http_request", path="/health", token="t0ken", dsn="postgresql://u:s3cret@h/db",
                                    nested={"headers": {"authorization": "Bearer abc"}, "urls": ["postgres://a:b@c/d"]})

        def fails(settings: Settings, password: str) -> None:
            raise RuntimeError("boom")

        try:
            fails(settings, "pw-in-a-local")
        except RuntimeError:
            structlog.get_logger().exception("request_failed")
        logging.getLogger("uvicorn.error").error("stdlib", exc_info=(None, None, None))
    finally:
        reset_logging()
        root.handlers[:], root.level = handlers, level
        logging.getLogger("uvicorn.access").disabled = False
        out.close()
    text = out_path.read_text()
    for secret in ("dbpass123", "adm1n-t0ken", "jwt-s3cret-value", "pw-in-a-local", "s3cret@", "abc", ":b@"):
        assert secret not in text, secret
    line, failure = (json.loads(x) for x in text.splitlines()[:2])
    assert line["token"] == "***" and line["dsn"] == "postgresql://u:***@h/db"
    assert line["nested"] == {"headers": {"authorization": "***"}, "urls": ["postgres://a:***@c/d"]}
    assert line["request_id"] == "r1" and line["service"] == "api" and line["level"] == "info"
    stamp = dt.datetime.strptime(line["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    assert abs((dt.datetime.now(dt.UTC) - stamp).total_seconds()) < 5
    frames = failure["exception"][0]["frames"]
    assert frames and all("locals" not in f or not f["locals"] for f in frames)
    assert failure["exception"][0]["exc_value"] == "boom"


def test_settings_never_show_their_secrets_and_trust_only_a_local_proxy_by_default() -> None:
    from ops.config.settings import Settings

    s = Settings.from_env({"DATABASE_URL": "postgres://app:pw-123@db:5432/studio?sslmode=require",
                           "AUTH_JWT_SECRET": "jwt-secret-xyz", "ADMIN_TOKEN": "admin-xyz"})
    for text in (repr(s), str(s), f"{s}", repr([s])):
        assert "pw-123" not in text and "jwt-secret-xyz" not in text and "admin-xyz" not in text
        assert "postgresql://app:***@db:5432/studio?sslmode=require" in text
    assert s.auth_jwt_secret == "jwt-secret-xyz"  # the value itself is intact
    assert s.forwarded_allow_ips == "127.0.0.1"
