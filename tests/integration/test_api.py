"""The HTTP API in process (Litestar's AsyncTestClient) against a real PostgreSQL."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from ops.config.settings import Settings
from tests.conftest import example_bytes

pytestmark = pytest.mark.anyio
JSON = {"content-type": "application/json"}


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    settings = msgspec.structs.replace(settings, allowed_origins=("https://app.example.com",))
    async with AsyncTestClient(create_app(settings)) as c:
        yield c


async def test_root_health_docs(client) -> None:  # type: ignore[no-untyped-def]
    assert (await client.get("/")).json() == {"message": "Studio Python API", "status": "running"}
    assert (await client.get("/health")).json() == {"status": "healthy"}
    assert "swagger" in (await client.get("/docs")).text.lower()
    schema = (await client.get("/docs/openapi.json")).json()
    assert "/api/cad/generate" in schema["paths"] and "/api/jobs/{job_id}" in schema["paths"]


async def test_health_is_503_when_the_database_is_unreachable() -> None:
    settings = Settings(database_url="postgresql://postgres@127.0.0.1:9/nowhere").normalized()
    async with AsyncTestClient(create_app(settings)) as c:
        r = await c.get("/health")
    assert (r.status_code, r.json()) == (503, {"status": "unhealthy"})


async def test_requests_that_need_the_database_get_503_with_retry_after_when_it_is_down() -> None:
    """Not a 500: the pool finds no connection within its timeout (10 s; both requests wait it out together)."""
    import asyncio
    import uuid

    settings = Settings(database_url="postgresql://postgres@127.0.0.1:9/nowhere").normalized()
    async with AsyncTestClient(create_app(settings)) as c:
        submit, read = await asyncio.gather(
            c.post("/api/cad/generate", content=example_bytes("island.json"), headers=JSON),
            c.get(f"/api/jobs/{uuid.uuid4()}"))
    for r in (submit, read):
        assert r.status_code == 503 and r.headers["retry-after"] == "5"
        assert "database did not answer" in r.json()["detail"]


async def test_health_requests_share_one_database_check(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Requests that find the cached answer stale wait for the one check in flight, not a ping (and a pool
    connection) each; when it fails they all answer 503."""
    import asyncio

    from api.app import HealthCheck
    from pipeline import store

    calls = 0
    answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    async def ping(_pool: object) -> bool:
        nonlocal calls
        calls += 1
        return await answer

    monkeypatch.setattr(store, "ping", ping)
    for ok, status in ((True, 200), (False, 503)):
        answer = asyncio.get_running_loop().create_future()
        calls = 0
        check = HealthCheck()
        check.ok = not ok  # the answer before: stale, so every request below needs a fresh one
        requests = [asyncio.create_task(check.answer()) for _ in range(8)]
        while calls == 0:
            await asyncio.sleep(0)
        answer.set_result(ok)
        assert {(await r).status_code for r in requests} == {status}
        assert calls == 1 and check.in_flight is None and check.ok is ok


@pytest.mark.parametrize("name", ["l-kitchen.json", "island.json"])
async def test_every_valid_example_is_accepted(client, name) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/api/cad/generate", content=example_bytes(name), headers=JSON)
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status"] == "queued" and r.headers["location"] == body["status_url"] == f"/api/jobs/{body['id']}"
    uuid.UUID(body["id"])
    job = (await client.get(body["status_url"])).json()
    assert job["status"] == "queued" and job["job_ref"] == json.loads(example_bytes(name))["job"]["id"]
    if name == "island.json":
        assert [w["code"] for w in body["warnings"]] == ["OVERHANG_NEEDS_SUPPORT"]


async def test_bad_cutout_is_refused_naming_the_cutout(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/api/cad/generate", content=example_bytes("bad-cutout.json"), headers=JSON)
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert [(e["path"], e["code"]) for e in errors] == [("pieces[0].cutouts[0]", "CUTOUT_OUTSIDE_PIECE")]
    assert (await client.get("/api/jobs")).json()["items"] == []  # nothing was queued


@pytest.mark.parametrize(("body", "status", "path", "needle"), [
    (b'{"test": true}', 422, "$", "spec_version"),
    (b"{nope", 400, None, "not valid JSON"),
    (b"[1, 2]", 422, "$", "object"),
])
async def test_malformed_bodies_get_a_clear_4xx(client, body, status, path, needle) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/api/cad/generate", content=body, headers=JSON)
    assert r.status_code == status, r.text
    assert needle in r.text
    if path:
        assert r.json()["errors"][0]["path"] == path


async def test_field_errors_name_the_field(client) -> None:  # type: ignore[no-untyped-def]
    raw = json.loads(example_bytes("l-kitchen.json"))
    raw["pieces"][1]["cutouts"][0]["length"] = -5
    r = await client.post("/api/cad/generate", json=raw)
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "pieces[1].cutouts[0].length"
    raw = json.loads(example_bytes("l-kitchen.json"))
    raw["pieces"][0]["cutouts"][0]["corner_raduis"] = 5
    r = await client.post("/api/cad/generate", json=raw)
    assert r.json()["errors"][0]["code"] == "UNKNOWN_FIELD" and "corner_raduis" in r.text


async def test_wrong_content_type_is_415(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/api/cad/generate", content=b"dims=1", headers={"content-type": "text/plain"})
    assert r.status_code == 415


async def test_legacy_request_shape_is_accepted(client) -> None:  # type: ignore[no-untyped-def]
    legacy = {"dims": {"length": 1200, "width": 600, "height": 30}, "material": {"name": "Nero Assoluto"},
              "finish": {"name": "polished"}, "profile": {"name": "half_bullnose", "radius": 10},
              "processedEdges": {"front": True, "left": True, "right": False, "back": False},
              "okapnikEdges": {"front": True}}
    r = await client.post("/api/cad/generate", json=legacy)
    assert r.status_code == 202, r.text
    job = (await client.get(r.json()["status_url"])).json()
    assert job["status"] == "queued"


async def test_idempotency_key(client) -> None:  # type: ignore[no-untyped-def]
    body = example_bytes("l-kitchen.json")
    first = await client.post("/api/cad/generate", content=body, headers={**JSON, "Idempotency-Key": "abc"})
    again = await client.post("/api/cad/generate", content=body, headers={**JSON, "Idempotency-Key": "abc"})
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"] and (first.json()["created"], again.json()["created"]) == (True, False)
    other = await client.post("/api/cad/generate", content=example_bytes("island.json"),
                              headers={**JSON, "Idempotency-Key": "abc"})
    assert other.status_code == 409
    assert len((await client.get("/api/jobs")).json()["items"]) == 1


async def test_list_filters_and_paginates(client) -> None:  # type: ignore[no-untyped-def]
    ids = [(await client.post("/api/cad/generate", content=example_bytes("island.json"), headers=JSON)).json()["id"]
           for _ in range(5)]
    seen, cursor = [], None
    while True:
        page = (await client.get("/api/jobs", params={"limit": 2, **({"cursor": cursor} if cursor else {})})).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ids[::-1]
    assert (await client.get("/api/jobs", params={"status": "failed"})).json()["items"] == []
    assert (await client.get("/api/jobs", params={"cursor": "garbage"})).status_code == 400
    assert (await client.get("/api/jobs", params={"limit": 0})).status_code == 400


async def test_cancel_retry_delete_over_http(client) -> None:  # type: ignore[no-untyped-def]
    job_id = (await client.post("/api/cad/generate", content=example_bytes("island.json"), headers=JSON)).json()["id"]
    assert (await client.post(f"/api/jobs/{job_id}/retry")).status_code == 409  # queued: nothing to retry
    r = await client.post(f"/api/jobs/{job_id}/cancel")
    assert (r.status_code, r.json()["status"]) == (202, "cancelled")
    assert (await client.post(f"/api/jobs/{job_id}/cancel")).status_code == 409
    assert (await client.post(f"/api/jobs/{job_id}/retry")).json()["status"] == "queued"
    assert (await client.delete(f"/api/jobs/{job_id}")).status_code == 204
    assert (await client.get(f"/api/jobs/{job_id}")).status_code == 404
    missing = uuid.uuid4()
    for method, url in [("get", f"/api/jobs/{missing}"), ("post", f"/api/jobs/{missing}/cancel"),
                        ("delete", f"/api/jobs/{missing}"), ("get", f"/api/jobs/{missing}/artifacts/x.pdf")]:
        assert (await getattr(client, method)(url)).status_code == 404
    assert (await client.get("/api/jobs/not-a-uuid")).status_code == 404


async def test_cors_allows_only_the_configured_origin(client) -> None:  # type: ignore[no-untyped-def]
    pre = {"access-control-request-method": "POST", "access-control-request-headers": "content-type"}
    ok = await client.options("/api/cad/generate", headers={"origin": "https://app.example.com", **pre})
    assert ok.headers.get("access-control-allow-origin") == "https://app.example.com"
    bad = await client.options("/api/cad/generate", headers={"origin": "https://evil.example.com", **pre})
    assert bad.headers.get("access-control-allow-origin") is None


async def test_catalogue_endpoints(client) -> None:  # type: ignore[no-untyped-def]
    materials = (await client.get("/api/cad/materials")).json()
    quartz = next(m for m in materials if m["name"] == "Quartz (engineered)")
    assert quartz["type"] == "quartz" and quartz["price_per_m2"] == "320.00" and 30.0 in quartz["thicknesses_mm"]
    assert any(f["name"] == "honed" for f in (await client.get("/api/cad/finishes")).json())
    profiles = {p["name"]: p["price_per_m"] for p in (await client.get("/api/cad/profiles")).json()}
    assert profiles["eased"] == "18.00" and "ogee" in profiles
    cutouts = {c["type"]: c["price_each"] for c in (await client.get("/api/cad/cutouts")).json()}
    assert cutouts["undermount_sink"] == "160.00"


async def test_openapi_documents_the_job_spec(client) -> None:  # type: ignore[no-untyped-def]
    schema = (await client.get("/docs/openapi.json")).json()
    body = schema["paths"]["/api/cad/generate"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"oneOf": [{"$ref": "#/components/schemas/JobSpec"}, {"$ref": "#/components/schemas/LegacyRequest"}]}
    components = schema["components"]["schemas"]
    assert {"JobSpec", "Piece", "Cutout", "LegacyRequest", "CatalogueMaterial"} <= set(components)
    assert components["Material"]["properties"]["thickness"]["minimum"] == 0.01  # the spec's, not the catalogue's


async def test_metrics_in_prometheus_format(client, settings) -> None:  # type: ignore[no-untyped-def]
    from prometheus_client.parser import text_string_to_metric_families

    from pipeline.db import open_pool
    from pipeline import store as st

    job_id = (await client.post("/api/cad/generate", content=example_bytes("island.json"), headers=JSON)).json()["id"]
    async with open_pool(settings) as pool:
        await st.claim_jobs(pool, worker_id="w", stages=("cad",), lease_s=30)
        async with pool.connection() as conn:
            await st.schedule_retry(conn, id=uuid.UUID(job_id), worker_id="w", error="boom", delay_s=0)
    await client.post("/api/cad/generate", content=example_bytes("island.json"), headers=JSON)
    r = await client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(r.text)}
    jobs = {(s.labels["status"], s.labels["stage"]): s.value for s in families["studio_jobs"].samples}
    assert jobs == {("queued", "cad"): 2}
    assert [s.value for s in families["studio_job_retries"].samples if s.name.endswith("_total")] == [1]
    durations = [s for s in families["studio_stage_duration_seconds"].samples if s.name.endswith("_count")]
    assert [(s.labels["stage"], s.labels["outcome"], s.value) for s in durations] == [("cad", "retry", 1)]
    # The HTTP histogram is this process's (other tests' requests are in it too): find our series by its labels.
    http = [s for s in families["studio_http_request_duration_seconds"].samples
            if s.name.endswith("_count") and s.labels == {"method": "POST", "route": "/api/cad/generate",
                                                          "status": "202"}]
    assert len(http) == 1 and http[0].value >= 2
    assert families["studio_queue_oldest_age_seconds"].samples[0].value >= 0


def _kitchen() -> dict:  # type: ignore[type-arg]
    return json.loads(example_bytes("l-kitchen.json"))


@pytest.mark.parametrize(("mutate", "path", "code"), [
    (lambda j: j["pieces"][1]["shape"].update(length=1e12), "pieces[1].shape.length", "INVALID_VALUE"),
    (lambda j: j["pieces"][1]["shape"].update(depth=-620), "pieces[1].shape.depth", "INVALID_VALUE"),
    (lambda j: j["pieces"][1]["shape"].update(depth=0), "pieces[1].shape.depth", "INVALID_VALUE"),
    (lambda j: j["pieces"][1]["shape"].update(length=4.78e-9), "pieces[1].shape.length", "INVALID_VALUE"),
    (lambda j: j["pieces"][0]["shape"].update(vertices=[[0, 0], [100, 0], [200, 0]]), "pieces[0]", None),
    (lambda j: j["pieces"][0]["shape"].update(vertices=[[0, 0], [2900, 620], [2900, 0], [0, 620]]),
     "pieces[0]", "POLYGON_SELF_INTERSECTS"),
    (lambda j: j["pieces"][0]["shape"].update(vertices=[[0, 0]] * 501), "pieces[0].shape.vertices", "INVALID_VALUE"),
    (lambda j: j.update(pieces=j["pieces"] * 101), "pieces", "INVALID_VALUE"),
    (lambda j: j["pieces"][0].update(cutouts=j["pieces"][0]["cutouts"] * 26), "pieces[0].cutouts", "INVALID_VALUE"),
    (lambda j: j["job"].update(name="x" * 5000), "job.name", "INVALID_VALUE"),
    (lambda j: j["pieces"][0]["cutouts"][1].pop("diameter"), "pieces[0].cutouts[1]", None),
])
async def test_degenerate_or_huge_geometry_is_refused_with_its_path(client, mutate, path, code) -> None:  # type: ignore[no-untyped-def]
    job = _kitchen()
    mutate(job)
    r = await client.post("/api/cad/generate", json=job)
    assert r.status_code == 422, r.text
    first = r.json()["errors"][0]
    assert first["path"] == path, r.text
    if code:
        assert first["code"] == code


async def test_nan_is_not_json_and_oversized_bodies_are_refused(client) -> None:  # type: ignore[no-untyped-def]
    body = example_bytes("l-kitchen.json").replace(b'"length": 1580', b'"length": NaN')
    assert (await client.post("/api/cad/generate", content=body, headers=JSON)).status_code == 400
    huge = b'{"spec_version": "1.0", "pad": "' + b"x" * 3_000_000 + b'"}'
    assert (await client.post("/api/cad/generate", content=huge, headers=JSON)).status_code == 413


async def test_a_client_gone_before_its_answer_is_logged_499_not_500(settings) -> None:  # type: ignore[no-untyped-def]
    """Litestar answers a body cut short by the client with a 500 nobody receives; the request line must not
    count it as a server error (operators alert on status_code >= 500). Nothing is queued."""
    from structlog.testing import capture_logs

    app = create_app(settings)
    body = example_bytes("island.json")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/api/cad/generate", "raw_path": b"/api/cad/generate", "query_string": b"", "root_path": "",
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
             "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000)}
    messages = [{"type": "http.request", "body": body[:100], "more_body": True}, {"type": "http.disconnect"}]
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return messages.pop(0)

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    with capture_logs() as logs:
        await app(scope, receive, send)  # type: ignore[arg-type]
    (line,) = [e for e in logs if e["event"] == "http_request"]
    assert line["status_code"] == 499 and line["path"] == "/api/cad/generate"
    assert not [e for e in logs if e["event"] == "job_submitted"]

    async with AsyncTestClient(create_app(settings)) as c:  # a normal request still logs its own status
        with capture_logs() as logs:
            assert (await c.get("/api/jobs/not-a-uuid")).status_code in (400, 404)
            listed = await c.get("/api/jobs")
        assert [e["status_code"] for e in logs if e["event"] == "http_request"][-1] == listed.status_code == 200
        assert listed.json()["items"] == []  # the cut-off submission queued nothing


async def test_run_after_with_any_iso_offset_is_stored_in_utc(settings) -> None:  # type: ignore[no-untyped-def]
    # ISO 8601 allows offsets up to 23:59; PostgreSQL refuses those past 15:59 (a 500 before).
    async with AsyncTestClient(create_app(settings)) as c:
        r = await c.post("/api/cad/generate", params={"run_after": "2030-05-18T10:05:37+23:56"},
                         content=example_bytes("island.json"), headers={"content-type": "application/json"})
        assert r.status_code == 202, r.text
        job = (await c.get(r.headers["location"])).json()
        assert job["run_after"].startswith("2030-05-17T10:09:37")
        r = await c.post("/api/cad/generate", params={"run_after": "0001-01-01T00:00:00+01:00"},
                         content=example_bytes("island.json"), headers={"content-type": "application/json"})
        assert r.status_code == 400 and "run_after" in r.json()["detail"]


async def test_a_nul_character_in_a_name_is_a_422_not_a_database_error(settings) -> None:  # type: ignore[no-untyped-def]
    async with AsyncTestClient(create_app(settings)) as c:
        r = await c.post("/api/cad/generate", headers={"content-type": "application/json"},
                         content=b'{"dims": {"length": 1000, "width": 600}, "material": {"name": "Gran\\u0000ite"}}')
        assert r.status_code == 422 and r.json()["errors"][0]["path"] == "material.name"
