"""POST /api/templates/import over HTTP against the real test database; the draft is then submitted as a job."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import ezdxf
import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from ops.config.settings import Settings
from tests.unit.test_template_import import dxf_bytes, rounded_rect

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(create_app(settings)) as c:
        yield c


def kitchen(insunits: int = 4) -> bytes:
    doc = ezdxf.new("R2010", setup=True)
    doc.header["$INSUNITS"] = insunits
    msp = doc.modelspace()
    msp.add_lwpolyline([(0, 0), (3000, 0), (3000, 600), (650, 600), (650, 1500), (0, 1500)], close=True,
                       dxfattribs={"layer": "FINISHED"})
    rounded_rect(msp, 1500, 300, 800, 450, 20, layer="SINK")
    msp.add_lwpolyline([(2220, 55), (2780, 55), (2780, 545), (2220, 545)], close=True, dxfattribs={"layer": "HOB"})
    return dxf_bytes(doc)


async def test_multipart_upload_gives_a_draft_the_generate_endpoint_accepts(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/api/templates/import", files={"file": ("kitchen.dxf", kitchen(), "application/dxf")},
                          data={"material": "Calacatta", "thickness": "20", "job_id": "K-17"})
    assert r.status_code == 200, r.text
    body = r.json()
    job = body["job"]
    assert body["problems"] == [] and job["job"]["id"] == "K-17" and job["material"]["thickness"] == 20
    assert sorted(c["type"] for c in job["pieces"][0]["cutouts"]) == ["cooktop", "undermount_sink"]
    sub = await client.post("/api/cad/generate", json=job)
    assert sub.status_code == 202, sub.text
    assert "/api/templates/import" in (await client.get("/docs/openapi.json")).json()["paths"]


async def test_raw_body_with_query_defaults_and_layer_mapping(client) -> None:  # type: ignore[no-untyped-def]
    doc = ezdxf.new("R2010")
    doc.header["$INSUNITS"] = 0
    msp = doc.modelspace()
    for (a, b), layer in zip([((0, 0), (100, 0)), ((100, 0), (100, 25)), ((100, 25), (0, 25)), ((0, 25), (0, 0))],
                             ["KANTE", "KANTE", "MAUER", "KANTE"]):
        msp.add_line(a, b, dxfattribs={"layer": layer})
    r = await client.post("/api/templates/import", content=dxf_bytes(doc),
                          headers={"content-type": "application/dxf"},
                          params={"layers": json.dumps({"MAUER": "wall", "KANTE": "finished"})})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["job"]["units"] == "in" and [p["code"] for p in body["problems"]] == ["UNITS_INFERRED"]
    assert [e["kind"] for e in body["job"]["pieces"][0]["edges"]] == ["finished", "finished", "wall", "finished"]
    assert (await client.post("/api/cad/generate", json=body["job"])).status_code == 202


@pytest.mark.parametrize(("content", "headers", "status", "code"), [
    (b"%PDF-1.7 not a drawing", {"content-type": "application/dxf"}, 422, "NOT_DXF"),
    (b"", {"content-type": "application/octet-stream"}, 422, "EMPTY_FILE"),
    (b"{}", {"content-type": "application/json"}, 415, None),
])
async def test_bad_files_are_a_clear_4xx(client, content, headers, status, code) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/api/templates/import", content=content, headers=headers)
    assert r.status_code == status, r.text
    if code:
        assert r.json()["errors"][0]["code"] == code and "fix" in r.json()["errors"][0]["message"]


async def test_bad_parameters_and_missing_file(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/api/templates/import", content=kitchen(), params={"units": "cm"},
                          headers={"content-type": "application/dxf"})
    assert r.status_code == 422 and "units" in r.json()["detail"]
    r = await client.post("/api/templates/import", files={"other": ("x.dxf", kitchen(), "application/dxf")})
    assert r.status_code == 400 and r.json()["errors"][0]["path"] == "file"
    r = await client.post("/api/templates/import", content=kitchen(), params={"layers": "{not json"},
                          headers={"content-type": "application/dxf"})
    assert r.status_code == 422 and "layers" in r.json()["detail"]
