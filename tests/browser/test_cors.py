"""The CORS rules a browser enforces for the frontend, checked at the HTTP level (no browser needed).

Only ALLOWED_ORIGINS get CORS headers (configured with any case in scheme and host and a trailing slash),
preflights are cached for 10 minutes, credentials are allowed only when CORS_ALLOW_CREDENTIALS says so, and
anything cacheable varies by Origin.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import psycopg
import pytest
from litestar.testing import TestClient

from api.app import create_app
from ops.config.settings import Settings
from tests.conftest import example_bytes

FRONTEND = "https://app.example.com"
LOCAL = "http://127.0.0.1:3000"
PREFLIGHT = {"access-control-request-method": "POST", "access-control-request-headers": "content-type,idempotency-key"}


def client_for(db_url: str, **env: str) -> TestClient:  # type: ignore[type-arg]
    settings = Settings.from_env({"DATABASE_URL": db_url, "RATE_LIMIT_PER_MINUTE": "0", **env})
    return TestClient(create_app(settings))


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:  # type: ignore[type-arg]
    # As an operator would type them: upper case, trailing slashes, spaces after the comma.
    with client_for(db_url, ALLOWED_ORIGINS="HTTPS://App.Example.COM/, http://127.0.0.1:3000/") as c:
        yield c


@pytest.mark.parametrize("origin", [FRONTEND, LOCAL])
def test_configured_origins_are_allowed(client, origin) -> None:  # type: ignore[no-untyped-def]
    """Whatever case and trailing slash they were configured with; browsers send the bare lower-case origin."""
    r = client.get("/api/cad/materials", headers={"origin": origin})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == origin
    assert "origin" in r.headers["vary"].lower()
    assert {"location", "x-request-id", "retry-after"} <= {h.strip().lower() for h in
                                                           r.headers["access-control-expose-headers"].split(",")}
    assert "access-control-allow-credentials" not in r.headers


@pytest.mark.parametrize("origin", [
    "https://evil.example.com",
    "http://app.example.com",  # same host, other scheme
    "https://app.example.com.evil.com",  # a suffix is not a match
    "https://app.example.com:8443",  # nor another port
    "null",  # sandboxed iframes and file:// pages
])
def test_other_origins_get_no_cors_headers_and_no_preflight(client, origin) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/api/cad/materials", headers={"origin": origin})
    assert "access-control-allow-origin" not in r.headers
    pre = client.options("/api/cad/generate", headers={"origin": origin, **PREFLIGHT})
    assert pre.status_code >= 400 and "access-control-allow-origin" not in pre.headers


def test_a_preflight_is_answered_and_cached_for_ten_minutes(client) -> None:  # type: ignore[no-untyped-def]
    r = client.options("/api/cad/generate", headers={"origin": FRONTEND, **PREFLIGHT})
    assert r.status_code in (200, 204), r.text
    assert r.headers["access-control-allow-origin"] == FRONTEND
    assert r.headers["access-control-max-age"] == "600"
    assert "POST" in r.headers["access-control-allow-methods"]
    allowed = {h.strip().lower() for h in r.headers["access-control-allow-headers"].split(",")}
    assert {"content-type", "idempotency-key", "authorization"} <= allowed
    assert "access-control-allow-credentials" not in r.headers
    # The preflight for DELETE (the frontend's "delete job" button) is answered too.
    r = client.options("/api/jobs/00000000-0000-0000-0000-000000000000",
                       headers={"origin": FRONTEND, "access-control-request-method": "DELETE"})
    assert r.status_code in (200, 204) and "DELETE" in r.headers["access-control-allow-methods"]


def test_credentials_are_allowed_only_when_configured(db_url: str) -> None:
    with client_for(db_url, ALLOWED_ORIGINS=FRONTEND, CORS_ALLOW_CREDENTIALS="true") as c:
        pre = c.options("/api/cad/generate", headers={"origin": FRONTEND, **PREFLIGHT})
        get = c.get("/api/cad/materials", headers={"origin": FRONTEND})
        other = c.get("/api/cad/materials", headers={"origin": "https://evil.example.com"})
    assert pre.headers["access-control-allow-credentials"] == "true"
    assert get.headers["access-control-allow-credentials"] == "true"
    # With credentials the origin is echoed, never "*" (browsers reject that combination).
    assert pre.headers["access-control-allow-origin"] == get.headers["access-control-allow-origin"] == FRONTEND
    assert "access-control-allow-origin" not in other.headers


def test_without_allowed_origins_no_origin_is_allowed(db_url: str) -> None:
    with client_for(db_url) as c:
        r = c.get("/api/cad/materials", headers={"origin": FRONTEND})
        pre = c.options("/api/cad/generate", headers={"origin": FRONTEND, **PREFLIGHT})
    assert "access-control-allow-origin" not in r.headers
    assert "access-control-allow-origin" not in pre.headers


def test_an_artifact_varies_by_origin_even_without_one(client, db_url: str) -> None:  # type: ignore[no-untyped-def]
    """It is cached for a year: an <img> load (no Origin) must not answer the page's later fetch()."""
    r = client.post("/api/cad/generate", content=example_bytes("l-kitchen.json"),
                    headers={"content-type": "application/json"})
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"/>'
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("INSERT INTO artifacts (job_id, name, stage, content_type, size_bytes, sha256, data) "
                     "VALUES (%s, 'piece-A.svg', 'cad', 'image/svg+xml', %s, %s, %s)",
                     (job_id, len(svg), hashlib.sha256(svg).hexdigest(), svg))
    url = f"/api/jobs/{job_id}/artifacts/piece-A.svg"
    plain = client.get(url)
    cors = client.get(url, headers={"origin": FRONTEND})
    assert plain.status_code == cors.status_code == 200 and plain.content == svg
    assert "max-age" in plain.headers["cache-control"]
    assert "origin" in plain.headers["vary"].lower(), dict(plain.headers)
    assert cors.headers["access-control-allow-origin"] == FRONTEND and "origin" in cors.headers["vary"].lower()
    assert json.loads(client.get(f"/api/jobs/{job_id}").text)["artifacts"][0]["name"] == "piece-A.svg"
