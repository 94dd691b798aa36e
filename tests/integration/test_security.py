"""Access control, rate limiting and headers, with tokens the tests sign themselves."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator

import jwt
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from ops.config.settings import Settings
from tests.conftest import example_bytes

pytestmark = pytest.mark.anyio
SECRET = "test-secret-that-is-long-enough-for-hs256"
JSON = {"content-type": "application/json"}


def token(sub: str, *, secret: str = SECRET, exp_in: float = 600, **claims: object) -> str:
    return jwt.encode({"sub": sub, "exp": int(time.time() + exp_in), **claims}, secret, algorithm="HS256")


def bearer(t: str) -> dict[str, str]:
    return {"authorization": f"Bearer {t}"}


@pytest.fixture
async def authed(settings: Settings) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    s = msgspec.structs.replace(settings, auth_jwt_secret=SECRET, admin_token="op-token-123")
    async with AsyncTestClient(create_app(s)) as c:
        yield c


async def test_public_paths_stay_public(authed) -> None:  # type: ignore[no-untyped-def]
    for path in ("/", "/health", "/docs", "/docs/openapi.json"):
        assert (await authed.get(path)).status_code == 200, path


async def test_api_needs_a_valid_token(authed) -> None:  # type: ignore[no-untyped-def]
    r = await authed.post("/api/cad/generate", content=example_bytes("island.json"), headers=JSON)
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    for bad in (token("u1", exp_in=-120), token("u1", secret="another-secret-of-sufficient-length!!"), "not.a.jwt"):
        r = await authed.get("/api/jobs", headers=bearer(bad))
        assert r.status_code == 401, bad
        assert SECRET not in r.text
    assert "expired" in (await authed.get("/api/jobs", headers=bearer(token("u1", exp_in=-120)))).json()["detail"]


async def test_each_job_belongs_to_its_user(authed) -> None:  # type: ignore[no-untyped-def]
    alice, bob = bearer(token("alice")), bearer(token("bob"))
    job_id = (await authed.post("/api/cad/generate", content=example_bytes("island.json"),
                                headers={**JSON, **alice})).json()["id"]
    assert (await authed.get(f"/api/jobs/{job_id}", headers=alice)).status_code == 200
    assert (await authed.get(f"/api/jobs/{job_id}", headers=bob)).status_code == 404
    assert (await authed.post(f"/api/jobs/{job_id}/cancel", headers=bob)).status_code == 404
    assert (await authed.get(f"/api/jobs/{job_id}/events", headers=bob)).status_code == 404
    assert [j["id"] for j in (await authed.get("/api/jobs", headers=alice)).json()["items"]] == [job_id]
    assert (await authed.get("/api/jobs", headers=bob)).json()["items"] == []
    # The same Idempotency-Key from two users makes two jobs: keys are per owner.
    a = await authed.post("/api/cad/generate", content=example_bytes("island.json"),
                          headers={**JSON, **alice, "Idempotency-Key": "k"})
    b = await authed.post("/api/cad/generate", content=example_bytes("island.json"),
                          headers={**JSON, **bob, "Idempotency-Key": "k"})
    assert a.json()["id"] != b.json()["id"]


async def test_operator_endpoints_need_the_admin_token(settings) -> None:  # type: ignore[no-untyped-def]
    s = msgspec.structs.replace(settings, admin_token="op-token-123")
    async with AsyncTestClient(create_app(s)) as c:
        job_id = (await c.post("/api/cad/generate", content=example_bytes("island.json"), headers=JSON)).json()["id"]
        await c.post(f"/api/jobs/{job_id}/cancel")
        assert (await c.get("/api/jobs")).status_code == 401
        assert (await c.post(f"/api/jobs/{job_id}/retry")).status_code == 401
        assert (await c.delete(f"/api/jobs/{job_id}")).status_code == 401
        admin = bearer("op-token-123")
        assert (await c.get("/api/jobs", headers=admin)).json()["items"][0]["id"] == job_id
        assert (await c.post(f"/api/jobs/{job_id}/retry", headers=admin)).status_code == 202
        assert (await c.get(f"/api/jobs/{job_id}")).status_code == 200  # reading one job stays open


async def test_submissions_are_rate_limited_with_retry_after(settings) -> None:  # type: ignore[no-untyped-def]
    s = msgspec.structs.replace(settings, rate_limit_per_minute=2)
    async with AsyncTestClient(create_app(s)) as c:
        codes = [(await c.post("/api/cad/generate", content=example_bytes("island.json"), headers=JSON))
                 for _ in range(3)]
        assert [r.status_code for r in codes] == [202, 202, 429]
        assert 0 < int(codes[2].headers["retry-after"]) <= 60
        assert codes[0].headers["ratelimit-remaining"] == "1"
        # The limiter sits on the submission route alone: other routes neither count nor carry its headers.
        for path in ("/api/jobs", "/health", "/", "/api/cad/materials"):
            r = await c.get(path)
            assert r.status_code == 200 and "ratelimit-limit" not in r.headers, path


async def test_security_headers_on_every_response(authed) -> None:  # type: ignore[no-untyped-def]
    for path in ("/", "/health", "/api/jobs", "/nope"):
        r = await authed.get(path)
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY", path
        assert "default-src 'none'" in r.headers["content-security-policy"], path
    assert "content-security-policy" not in (await authed.get("/docs")).headers  # Swagger UI needs its scripts


async def test_cors_tolerates_trailing_slash_and_case(settings) -> None:  # type: ignore[no-untyped-def]
    s = Settings.from_env({"DATABASE_URL": settings.database_url, "ALLOWED_ORIGINS": "HTTPS://App.Example.com/ , http://localhost:3000"})
    async with AsyncTestClient(create_app(s)) as c:
        pre = {"access-control-request-method": "POST", "access-control-request-headers": "content-type,idempotency-key"}
        r = await c.options("/api/cad/generate", headers={"origin": "https://app.example.com", **pre})
        assert r.headers["access-control-allow-origin"] == "https://app.example.com"
        assert int(r.headers["access-control-max-age"]) >= 600  # preflight cached
        assert "access-control-allow-credentials" not in r.headers  # only where configured
        r = await c.get("/", headers={"origin": "http://localhost:3000"})
        assert r.headers["access-control-allow-origin"] == "http://localhost:3000"


# ---- JWKS: RS256 tokens checked against keys served over HTTP (on loopback, by the test) ------------------


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, object]]:
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json", key
    finally:
        server.shutdown()


async def test_jwks_tokens(settings, jwks_server) -> None:  # type: ignore[no-untyped-def]
    url, key = jwks_server
    s = msgspec.structs.replace(settings, auth_jwks_url=url, auth_jwt_audience="authenticated")
    good = jwt.encode({"sub": "carol", "aud": "authenticated", "exp": int(time.time()) + 600}, key,
                      algorithm="RS256", headers={"kid": "k1"})
    wrong_aud = jwt.encode({"sub": "carol", "aud": "other", "exp": int(time.time()) + 600}, key,
                           algorithm="RS256", headers={"kid": "k1"})
    async with AsyncTestClient(create_app(s)) as c:
        assert (await c.get("/api/jobs", headers=bearer(good))).status_code == 200
        assert (await c.get("/api/jobs", headers=bearer(wrong_aud))).status_code == 401
        assert (await c.get("/api/jobs", headers=bearer(token("carol")))).status_code == 401  # HS256 not accepted


async def test_secrets_stay_out_of_the_openapi_document_and_errors(authed) -> None:  # type: ignore[no-untyped-def]
    doc = (await authed.get("/docs/openapi.json")).text
    assert SECRET not in doc and "op-token-123" not in doc
    schema = json.loads(doc)
    assert "401" in schema["paths"]["/api/jobs/{job_id}"]["get"]["responses"]
    assert "429" in schema["paths"]["/api/cad/generate"]["post"]["responses"]
    r = await authed.get("/api/jobs", headers=bearer("op-token-12"))  # a near miss of the admin token
    assert r.status_code == 401 and "op-token" not in r.text


async def test_jwks_tokens_whose_algorithm_does_not_fit_the_key_are_401(settings, jwks_server) -> None:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    url, _ = jwks_server
    s = msgspec.structs.replace(settings, auth_jwks_url=url)
    claims = {"sub": "mallory", "exp": int(time.time()) + 600}
    es256 = jwt.encode(claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": "k1"})
    eddsa = jwt.encode(claims, ed25519.Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": "k1"})
    async with AsyncTestClient(create_app(s)) as c:
        for bad in (es256, eddsa, "Bearer-less", "e30.e30.", "caf\u00e9"):  # kid k1 names the RSA key
            r = await c.get("/api/jobs", headers={"authorization": f"Bearer {bad}".encode()})
            assert r.status_code == 401, (bad, r.text)


async def test_the_work_caps_are_in_the_openapi_document(authed) -> None:  # type: ignore[no-untyped-def]
    from engine.limits import MAX_COPIES, MAX_TOTAL_CUTOUTS, MAX_TOTAL_VERTICES

    schema = (await authed.get("/docs/openapi.json")).json()
    job = schema["components"]["schemas"]["JobSpec"]
    assert job["x-limits"] == {"copies": MAX_COPIES, "vertices": MAX_TOTAL_VERTICES, "cutouts": MAX_TOTAL_CUTOUTS,
                               "findings_listed": 50}
    body = schema["paths"]["/api/cad/generate"]["post"]["requestBody"]["description"]
    assert f"at most {MAX_COPIES} copies" in body and "TOO_MANY_CUTOUTS" in body
