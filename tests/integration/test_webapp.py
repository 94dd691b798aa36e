"""The shop web app's routes (FRONTEND_CONTRACT.md) end to end: HTTP in, a real worker running the real engine in
its child process, the real database, and back; asserting the field names and types the app reads."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import struct
import threading
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from ops.config.settings import Settings
from pipeline import store
from pipeline.db import open_pool
from pipeline.stages import StageOutput, StageRunner, run_stage
from pipeline.worker import Worker

pytestmark = pytest.mark.anyio  # the async tests; the bench smoke test below is sync
JSON = {"content-type": "application/json"}
ORIGIN = "https://shop.vercel.app"

# §2, the app's body: 120 x 25 x 2 cm of Plano, polished, sawn straight, processed and drip-grooved at the front.
DRAWING = {"dims": {"length": 120, "width": 25, "height": 2}, "material": {"name": "Plano"},
           "finish": {"name": "Poliranje (Polished)"}, "profile": {"name": "Ravni rez (Pilan)"},
           "processedEdges": {"front": True, "back": False, "left": False, "right": False},
           "okapnikEdges": {"front": True, "back": False, "left": False, "right": False}}
MODEL = {"dimensions": {"length": 120, "width": 25, "height": 2}, "material_name": "Plano",
         "surface_finish_name": "Bez obrade", "edge_profile_name": "Ravni rez (Pilan)",
         "processed_edges": ["front"], "okapnik_edges": ["front"]}


@contextlib.contextmanager
def worker_thread(settings: Settings, target: Any = run_stage) -> Iterator[None]:
    """One real Worker (the engine in its child process) on its own event loop in a thread, as a worker process
    would be: the test client's portal runs the app on another loop, and the two must not share one."""
    ready, stop_holder = threading.Event(), {}

    async def main() -> None:
        stop = asyncio.Event()
        stop_holder["stop"], stop_holder["loop"] = stop, asyncio.get_running_loop()
        async with open_pool(settings, min_size=1, max_size=settings.worker_concurrency + 3) as pool:
            worker = Worker(settings, pool, stop, runner=StageRunner(1, target=target))
            ready.set()
            await worker.run()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(30)
    try:
        yield
    finally:
        stop_holder["loop"].call_soon_threadsafe(stop_holder["stop"].set)
        thread.join(60)


@contextlib.asynccontextmanager
async def api_and_worker(settings: Settings, **overrides: object) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    """The app in process and one real worker, both on the test database."""
    settings = msgspec.structs.replace(settings, allowed_origins=(ORIGIN,), worker_id="w-web", **overrides)
    with worker_thread(settings):
        async with AsyncTestClient(create_app(settings)) as client:
            yield client


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with api_and_worker(settings) as c:
        yield c


# ---- §1 catalogue ---------------------------------------------------------------------------------


async def test_catalogue_items_have_the_apps_fields_and_ids(settings: Settings) -> None:
    async with AsyncTestClient(create_app(settings)) as c:
        materials = (await c.get("/api/cad/materials")).json()
        finishes = (await c.get("/api/cad/finishes")).json()
        profiles = (await c.get("/api/cad/profiles")).json()
    assert materials[0] | {"price_per_m2": None} == {
        "id": 1, "name": "Plano", "type": "limestone", "density_kg_m3": 2700.0, "thicknesses_mm": [20.0, 30.0],
        "price_per_m2": None, "price_per_slab": None, "density": 2.7, "cost_sqm": 220.0,
        "texture": "https://placehold.co/1024x1024/EAE6D9/9D998D.png", "color": "#EAE6D9"}
    assert materials[0]["price_per_m2"] == "220.00"
    for m in materials:
        assert isinstance(m["id"], int) and isinstance(m["name"], str) and isinstance(m["density"], float)
        assert isinstance(m["cost_sqm"], (int, float))
    app_materials = {m["id"]: m for m in materials if m["id"] <= 11}
    assert len(app_materials) == 11 and app_materials[11]["name"] == "Carrara C"
    assert app_materials[11]["density"] == 2.71 and app_materials[11]["color"] == "#F5F5F5"
    assert {m["name"] for m in materials} >= {"Granite", "Quartz (engineered)"}  # Studio's own entries stay
    assert len({m["id"] for m in materials}) == len(materials)
    assert [f for f in finishes if f["id"] in (0, 1)] == [
        {"id": 0, "name": "Bez obrade", "description": "No surface treatment", "surcharge_per_m2": "0.00",
         "cost_sqm": 0.0},
        {"id": 1, "name": "Poliranje (Polished)", "description": "Polished", "surcharge_per_m2": "15.00",
         "cost_sqm": 15.0}]
    assert any(f["name"] == "honed" and isinstance(f["id"], int) for f in finishes)
    by_id = {p["id"]: p for p in profiles}
    assert by_id[1]["name"] == "Ravni rez (Pilan)" and by_id[1]["cost_m"] == 2.0
    assert by_id[41] == {"id": 41, "name": "Dupli T-profil", "description": "Double T profile",
                         "price_per_m": "45.00", "cost_m": 45.0}
    assert len(profiles) == 15 + 8
    async with open_pool(settings) as pool:  # what the worker hands the CAD stage: the app's names price in EUR
        cat = json.loads(await store.get_catalogue(pool) or b"{}")
        facts = {r.name: r for r in await store.list_catalogue_materials(pool)}
    eur = cat["price_lists"][cat["default_currency"]]
    assert cat["default_currency"] == "EUR" and eur["materials"]["Plano"] == {"price_per_area": "220.00"}
    assert eur["finish_per_area"]["Poliranje (Polished)"] == "15.00"
    assert eur["edge_per_length"]["Ravni rez (Pilan)"] == "2.00"
    plano = facts["Plano"]  # and what the adapter takes for the job: type, density, the model's colour
    assert (plano.type, plano.density_kg_m3, plano.color) == ("limestone", 2700.0, "#EAE6D9")


# ---- §2 generate-drawing ---------------------------------------------------------------------------


async def test_generate_drawing_answers_the_cad_response_in_cm_with_a_full_quote(client, settings) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/api/cad/generate-drawing", json=DRAWING)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["success"] is True and body["error"] is None
    assert body["dxf_filename"] == "piece-P1.dxf"
    assert body["data"] == {"length": 120, "width": 25, "height": 2, "material": "Plano"}
    svg = base64.b64decode(body["svg"]).decode()
    assert svg.lstrip().startswith(("<?xml", "<svg")) and "</svg>" in svg
    # The job behind it: same table, same worker; lengths became mm.
    async with open_pool(settings) as pool:
        job = await store.get_job(pool, __import__("uuid").UUID(body["job_id"]))
        spec = job.spec
        assert spec.get("units", "mm") == "mm" and spec["pieces"][0]["shape"] == {"type": "rect", "length": 1200.0, "depth": 250.0}
        assert spec["material"] == {"name": "Plano", "type": "limestone", "thickness": 20.0,
                                    "finish": "Poliranje (Polished)", "density_kg_m3": 2700.0, "color": "#EAE6D9"}
        summary = job.summary
        assert job.status == "succeeded" and job.stage == "cad"  # no PDF stage on the app's routes
        dxf = await store.get_artifact(pool, job.id, "piece-P1.dxf")
        assert dxf is not None and bytes(dxf.data).lstrip().startswith(b"0")
    assert summary["area_gross_m2"] == 0.3
    assert summary["weight_kg"] == 16.2  # 0.3 m² x 0.02 m x 2700 kg/m³
    q = body["quote"]
    assert q["currency"] == "EUR"
    lines = {ln["description"]: ln for ln in q["lines"]}
    assert lines["Material: Plano, 20 mm"]["amount"] == "66.00"  # 0.3 m² x 220
    assert lines["Finish: Poliranje (Polished)"]["amount"] == "4.50"  # 0.3 m² x 15
    assert lines["Edge: Ravni rez (Pilan)"]["amount"] == "2.40"  # 1.2 m x 2
    assert lines["Drip groove"]["amount"] == "14.40"  # 1.2 m x 12
    assert lines["Fabrication"]["amount"] == "28.50"  # 0.3 m² x 95
    assert q["net"] == "115.80" and q["total"] == "144.75"  # with 25 % VAT
    assert not [w for w in body["warnings"] if w["code"].startswith("UNKNOWN_")]


async def test_an_unknown_material_is_a_warning_on_the_job_naming_close_matches(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/api/cad/generate-drawing", json=DRAWING | {"material": {"name": "Plan"}})
    assert r.status_code == 200, r.text
    (w,) = [w for w in r.json()["warnings"] if w["code"] == "UNKNOWN_MATERIAL"]
    assert "'Plan'" in w["message"] and "'Plano'" in w["message"]
    assert not any(ln["description"].startswith("Material") for ln in r.json()["quote"]["lines"])
    job = (await client.get(r.json()["status_url"])).json()
    assert any(w["code"] == "UNKNOWN_MATERIAL" for w in job["warnings"])


async def test_generate_drawing_names_a_bad_field_and_times_out_to_202(settings) -> None:  # type: ignore[no-untyped-def]
    bad = DRAWING | {"dims": {"length": -5, "width": 25}}
    async with AsyncTestClient(create_app(msgspec.structs.replace(settings, sync_wait_s=0.3))) as c:
        r = await c.post("/api/cad/generate-drawing", json=bad)
        assert r.status_code in (400, 422) and "dims.length" in r.text
        r = await c.post("/api/cad/generate-drawing", json=DRAWING)  # no worker runs: the wait runs out
        assert r.status_code == 202, r.text
        body = r.json()
        assert body["success"] is False and body["status"] == "queued"
        assert r.headers["location"] == body["status_url"] and body["events_url"].endswith("/events")
        assert (await c.get(body["status_url"])).json()["status"] == "queued"  # nothing lost


def failing_cad(stage: str, spec_json: bytes, summary_json: bytes | None, files: Any,
                catalogue_json: bytes | None = None) -> StageOutput:
    """A CAD stage that fails permanently, as the engine does on a job it cannot make (run in the child process)."""
    return StageOutput(engine_error="Piece P1 could not be placed on any slab")


async def test_a_job_that_fails_answers_422_with_the_jobs_error(settings: Settings) -> None:
    with worker_thread(msgspec.structs.replace(settings, worker_id="w-fail"), target=failing_cad):
        async with AsyncTestClient(create_app(settings)) as c:
            r = await c.post("/api/cad/generate-drawing", json=DRAWING)
            assert r.status_code == 422, r.text
            body = r.json()
            assert body["success"] is False and body["svg"] is None
            assert body["error"] == "Piece P1 could not be placed on any slab"
            assert body["data"] == {"length": 120, "width": 25, "height": 2, "material": "Plano"}
            assert (await c.get(body["status_url"])).json()["status"] == "failed"


async def test_process_slab_takes_the_same_body_as_a_multipart_file(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/api/cad/process-slab",
                          files={"file": ("slab.json", json.dumps(DRAWING).encode(), "application/json")})
    assert r.status_code == 200, r.text
    assert r.json()["success"] is True and r.json()["dxf_filename"] == "piece-P1.dxf"
    assert "</svg>" in base64.b64decode(r.json()["svg"]).decode()


# ---- §3 3D ------------------------------------------------------------------------------------------


async def test_export_glb_answers_a_binary_gltf(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/api/cad/export-glb", json=MODEL)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["success"] is True
    glb = base64.b64decode(body["glb"])
    magic, version, length = struct.unpack_from("<4sII", glb)
    assert (magic, version, length) == (b"glTF", 2, len(glb))
    same = await client.get(body["glb_url"])
    assert same.status_code == 200 and same.content == glb
    assert same.headers["content-type"].startswith("model/gltf-binary")


async def test_render_3d_answers_png_views(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/api/cad/render-3d", json=MODEL)
    assert r.status_code == 200, r.text
    renders = r.json()["renders"]
    assert {v["name"] for v in renders} == {"top", "front", "iso"}
    for v in renders:
        assert base64.b64decode(v["image"])[:8] == b"\x89PNG\r\n\x1a\n"


# ---- §4 design analysis and the AI routes ---------------------------------------------------------


async def test_analyze_design_answers_the_apps_array_with_suggestions(client) -> None:  # type: ignore[no-untyped-def]
    fine = await client.post("/api/ai/analyze-design", json={"length": 120, "width": 25, "height": 3,
                                                             "material_density": 2.7, "material_name": "Plano",
                                                             "order_unit": "piece"})
    assert fine.status_code == 200 and fine.json() == []
    r = await client.post("/api/ai/analyze-design", json={"length": 400, "width": 65, "height": 3,
                                                          "material_density": 2.6, "material_name": "Plan"})
    assert r.status_code == 200, r.text
    findings = {f["code"]: f for f in r.json()}
    for f in findings.values():
        assert set(f) == {"severity", "code", "message", "suggestion"} and f["severity"] in ("error", "warning", "info")
        assert f["message"] and f["suggestion"]
    assert findings["PIECE_LARGER_THAN_SLABS"]["severity"] == "error"
    assert "seam" in findings["PIECE_LARGER_THAN_SLABS"]["suggestion"].lower()
    assert "'Plano'" in findings["UNKNOWN_MATERIAL"]["suggestion"]
    assert findings["HEAVY_PIECE"]["message"] == "The top weighs 202.8 kg."  # 2.6 m² x 0.03 m x 2600 (the app's density)


async def test_analyze_geometry_and_optimize_layout(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/api/cad/ai/analyze_geometry", json=DRAWING)
    assert r.status_code == 200 and r.json()["success"] is True and r.json()["error"] is None
    result = r.json()["result"]
    assert (result["area_m2"], result["weight_kg"], result["perimeter_m"]) == (0.3, 16.2, 2.9)
    r = await client.post("/api/cad/ai/optimize_layout", json=DRAWING)
    assert r.status_code == 200, r.text
    layout = r.json()["result"]
    assert r.json()["success"] is True and layout["used"] == 1
    (placement,) = layout["layouts"][0]["placements"]
    assert placement["piece"] == "P1"


# ---- §5 pricing and the docs ----------------------------------------------------------------------


async def test_pricing_calculate_is_the_jobs_quote(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/api/pricing/calculate", json={
        "length": 120, "width": 25, "height": 2, "quantity": 2, "order_unit": "piece", "material_id": 1,
        "finish_id": 1, "profile_id": 1, "processed_edges": ["front"], "okapnik_edges": {"front": True},
        "bunja_edge_style": None, "has_special_bunja_edges": False})
    assert r.status_code == 200, r.text
    p = r.json()
    assert (p["surface_area"], p["weight"], p["currency"]) == (0.6, 32.4, "EUR")
    assert (p["material_cost"], p["processing_cost"], p["okapnik_cost"]) == (132.0, 9.0 + 57.0 + 4.8, 28.8)
    assert p["total_cost"] == float(Decimal("231.60") * Decimal("1.25")) and p["net"] == "231.60"
    bad = await client.post("/api/pricing/calculate", json={"length": 120, "width": 25, "material_id": 999})
    assert bad.status_code == 422 and "$.material_id" in bad.text


async def test_openapi_json_and_redoc_beside_docs(client) -> None:  # type: ignore[no-untyped-def]
    schema = (await client.get("/openapi.json")).json()
    assert "/api/cad/generate-drawing" in schema["paths"]
    assert "centimetres" in schema["paths"]["/api/cad/generate-drawing"]["post"]["description"]
    r = await client.get("/redoc", follow_redirects=True)
    assert r.status_code == 200 and "redoc" in r.text.lower()


def test_bench_webapp_runs_end_to_end(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The harness behind docs/BENCHMARKS.md ("Web app: synchronous drawing") on tiny sizes; no timing asserted."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "result.json"
    proc = subprocess.run([sys.executable, "-m", "bench.webapp", "--quick", "--json", str(out)], cwd=root,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    p50s = json.loads(out.read_text())["p50s"]
    assert set(p50s) == {"engine direct (run_cad)", "generate-drawing over HTTP"}
    assert all(v and all(x > 0 for x in v) for v in p50s.values())
    assert "| p50 over HTTP <= 1.5x direct + 20 ms |" in proc.stdout
