"""The slab yard's routes in process (Litestar's AsyncTestClient) against a real PostgreSQL: create, list, read,
change, delete, photos, and every bad input a 4xx that names the field."""

from __future__ import annotations

import struct
import uuid
import zlib
from collections.abc import AsyncIterator

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.slabs import PHOTO_MAX_BYTES
from ops.config.settings import Settings

pytestmark = pytest.mark.anyio


def png(width: int = 2, height: int = 2) -> bytes:
    """A real PNG (grey pixels)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


SLAB = {"code": "Q-001", "material": "Quartz (engineered)", "material_type": "quartz", "thickness": 30,
        "length": 3050, "width": 1440}


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(create_app(settings)) as c:
        yield c


async def test_a_slab_is_created_listed_read_changed_and_deleted(client) -> None:  # type: ignore[no-untyped-def]
    crack = {"type": "polygon", "vertices": [[100, 100], [400, 120], [400, 130]]}
    r = await client.post("/api/slabs", json={**SLAB, "defects": [crack, {"type": "rect", "x": 10, "y": 20,
                                                                          "length": 50, "width": 40}]})
    assert r.status_code == 201, r.text
    slab = r.json()
    assert r.headers["location"] == slab["url"] == f"/api/slabs/{slab['id']}"
    assert (slab["code"], slab["status"], slab["kind"], slab["units"], slab["photo_url"]) == \
        ("Q-001", "on_hand", "full", "mm", None)
    assert slab["defects"][0] == crack and slab["defects"][1]["type"] == "rect"
    rem = (await client.post("/api/slabs", json={**SLAB, "code": None, "kind": "remnant", "length": 40,
                                                 "width": 25, "units": "in"})).json()
    assert rem["code"].startswith("S-") and (rem["length"], rem["units"]) == (40, "in")
    page = (await client.get("/api/slabs", params={"limit": 1})).json()
    assert [s["id"] for s in page["items"]] == [rem["id"]] and page["next_cursor"]
    rest = (await client.get("/api/slabs", params={"cursor": page["next_cursor"]})).json()
    assert [s["id"] for s in rest["items"]] == [slab["id"]]
    assert [s["id"] for s in (await client.get("/api/slabs", params={"kind": "remnant"})).json()["items"]] \
        == [rem["id"]]
    assert (await client.get(slab["url"])).json()["code"] == "Q-001"
    r = await client.patch(slab["url"], json={"notes": "left rack", "defects": []})
    assert r.status_code == 200 and (r.json()["notes"], r.json()["defects"]) == ("left rack", [])
    r = await client.patch(slab["url"], json={"status": "consumed"})
    assert r.status_code == 200 and r.json()["status"] == "consumed"
    # A consumed slab's code is free again; the consumed one is not changed by hand.
    assert (await client.post("/api/slabs", json=SLAB)).status_code == 201
    r = await client.patch(slab["url"], json={"notes": "x"})
    assert r.status_code == 409 and "on-hand" in r.json()["detail"]
    assert (await client.delete(slab["url"])).status_code == 204
    assert (await client.get(slab["url"])).status_code == 404


async def test_bad_input_names_the_field(client) -> None:  # type: ignore[no-untyped-def]
    for body, path in [({**SLAB, "length": -5}, "length"), ({**SLAB, "thickness": 0}, "thickness"),
                       ({**SLAB, "units": "cm"}, "units"), ({**SLAB, "kind": "offcut"}, "kind"),
                       ({**SLAB, "colour": "red"}, "colour"), ({**SLAB, "material": ""}, "material"),
                       ({**SLAB, "code": " X"}, "code"),
                       ({**SLAB, "defects": [{"type": "rect", "x": 0, "y": 0, "length": -1, "width": 3}]},
                        "defects[0].length"),
                       ({**SLAB, "defects": [{"type": "polygon", "vertices": [[0, 0], [1, 1]]}]},
                        "defects[0].vertices")]:
        r = await client.post("/api/slabs", json=body)
        assert r.status_code in (400, 422), (body, r.text)
        assert path in r.text, (path, r.text)
    slab = (await client.post("/api/slabs", json=SLAB)).json()
    assert (await client.post("/api/slabs", json=SLAB)).status_code == 409  # the same code twice
    r = await client.patch(slab["url"], json={"status": "allocated"})
    assert r.status_code == 409 and "status" in r.json()["detail"]
    r = await client.patch(slab["url"], json={"status": "broken"})
    assert r.status_code in (400, 422) and "status" in r.text
    r = await client.patch(slab["url"], json={"width": -1})
    assert r.status_code in (400, 422) and "width" in r.text
    assert (await client.get(f"/api/slabs/{uuid.uuid4()}")).status_code == 404
    assert (await client.get("/api/slabs", params={"status": "lost"})).status_code == 400


async def test_a_photo_is_an_image_and_bounded(client) -> None:  # type: ignore[no-untyped-def]
    slab = (await client.post("/api/slabs", json=SLAB)).json()
    photo = f"{slab['url']}/photo"
    assert (await client.get(photo)).status_code == 404
    image = png()
    r = await client.put(photo, content=image, headers={"content-type": "image/png"})
    assert r.status_code == 204, r.text
    got = await client.get(photo)
    assert got.content == image and got.headers["content-type"] == "image/png"
    assert (await client.get(slab["url"])).json()["photo_url"] == photo
    r = await client.put(photo, content=b"%PDF-1.7 not an image", headers={"content-type": "image/png"})
    assert r.status_code == 415 and "photo" in r.json()["detail"]
    r = await client.put(photo, content=image, headers={"content-type": "application/pdf"})
    assert r.status_code == 415 and "photo" in r.json()["detail"]
    r = await client.put(photo, content=b"\xff\xd8\xff" + b"\0" * (PHOTO_MAX_BYTES + 1),
                         headers={"content-type": "image/jpeg"})
    assert r.status_code == 413
    r = await client.put(f"/api/slabs/{uuid.uuid4()}/photo", content=image, headers={"content-type": "image/png"})
    assert r.status_code == 404
    assert (await client.get(photo)).content == image  # the refused uploads changed nothing


async def test_each_owner_sees_only_their_yard(settings: Settings) -> None:
    import time

    import jwt

    secret = "slab-yard-test-secret-0123456789abcdef"
    app = create_app(msgspec.structs.replace(settings, auth_jwt_secret=secret))

    def as_(sub: str) -> dict[str, str]:
        return {"authorization": "Bearer " + jwt.encode({"sub": sub, "exp": int(time.time()) + 60}, secret)}

    async with AsyncTestClient(app) as c:
        assert (await c.get("/api/slabs")).status_code == 401
        mine = (await c.post("/api/slabs", json=SLAB, headers=as_("alice"))).json()
        assert (await c.post("/api/slabs", json=SLAB, headers=as_("bob"))).status_code == 201  # own yard, own codes
        assert (await c.get(mine["url"], headers=as_("bob"))).status_code == 404
        assert (await c.delete(mine["url"], headers=as_("bob"))).status_code == 404
        assert [s["id"] for s in (await c.get("/api/slabs", headers=as_("alice"))).json()["items"]] == [mine["id"]]
        job = {"spec_version": "1.0", "job": {"id": "Y", "name": "yard"}, "slab_stock": "inventory",
               "material": {"name": "Quartz (engineered)", "type": "quartz", "thickness": 30},
               "pieces": [{"id": "P", "shape": {"type": "rect", "length": 1000, "depth": 600}}]}
        r = await c.post("/api/cad/generate", json=job, headers=as_("alice"))
        assert r.status_code == 202, r.text  # no slab check at submission: the yard is read when it runs
        confirm = f"/api/jobs/{r.json()['id']}/confirm"
        assert (await c.post(confirm, headers=as_("bob"))).status_code == 404
        r = await c.post(confirm, headers=as_("alice"))
        assert r.status_code == 409 and "must be succeeded" in r.json()["detail"]
