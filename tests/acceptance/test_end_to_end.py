"""The walking skeleton, as a newcomer runs it: HTTP in, a real worker with the real engine, files out."""

from __future__ import annotations

import hashlib
import io
import xml.etree.ElementTree as ET

import ezdxf
import pypdf
import pytest

from tests.acceptance.conftest import Cluster
from tests.conftest import example_bytes

CONTENT_TYPES = {".dxf": "image/vnd.dxf", ".svg": "image/svg+xml", ".pdf": "application/pdf",
                 ".glb": "model/gltf-binary"}


@pytest.mark.parametrize("example", ["l-kitchen.json", "island.json"])
def test_a_job_goes_in_over_http_and_comes_out_as_dxf_svg_and_pdf(cluster: Cluster, example: str) -> None:
    cluster.api()
    worker = cluster.worker()
    r = cluster.submit(example_bytes(example))
    assert r.status_code == 202, r.text
    job = cluster.wait_job(r.json()["id"])
    assert job["status"] == "succeeded", job["error"]
    names = {a["name"] for a in job["artifacts"]}
    pieces = {"l-kitchen.json": ["A", "B"], "island.json": ["ISL"]}[example]
    for piece in pieces:
        assert {f"piece-{piece}.dxf", f"piece-{piece}.svg"} <= names
    assert {"slab-1.dxf", "slab-1.svg", "shop-drawing.pdf", "model.glb"} <= names
    for art in job["artifacts"]:
        got = cluster.http.get(art["url"])
        assert got.status_code == 200
        ext = art["name"][art["name"].rindex("."):]
        assert got.headers["content-type"].startswith(CONTENT_TYPES[ext])
        assert hashlib.sha256(got.content).hexdigest() == art["sha256"] and len(got.content) == art["size_bytes"]
        if ext == ".dxf":
            doc = ezdxf.read(io.StringIO(got.content.decode()))
            auditor = doc.audit()
            assert not auditor.has_errors, [str(e) for e in auditor.errors]
            assert doc.header["$INSUNITS"] == 4
            assert len(doc.modelspace().query("LWPOLYLINE")) > 0
        elif ext == ".svg":
            root = ET.fromstring(got.content)
            assert root.tag.endswith("svg") and root.get("viewBox")
        elif ext == ".glb":  # its geometry and the validator: tests/unit/test_model3d.py
            assert got.content[:4] == b"glTF"
        else:
            pdf = pypdf.PdfReader(io.BytesIO(got.content))
            text = "\n".join(page.extract_text() for page in pdf.pages)
            assert len(pdf.pages) >= 1 + len(pieces)
            assert job["job_ref"] in text and all(p in text for p in pieces)
    summary = job["summary"]
    expected = {"l-kitchen.json": (2.7776, 2.1759, 5.1), "island.json": (3.1189, 2.7515, 7.557)}[example]
    assert (summary["area_gross_m2"], summary["area_net_m2"], summary["finished_edge_m"]) == pytest.approx(expected, abs=1e-3)
    if example == "l-kitchen.json":  # priced from the seeded catalogue, by hand: 1 slab x 1350 + 2.7776 m² x 95
        # fabrication + 5.1 m x 18 eased edge + sink 160 + faucet hole 25 + cooktop 90 = 1980.67; VAT 25 %
        quote = summary["quote"]
        assert (quote["currency"], quote["net"], quote["vat"], quote["total"]) == ("EUR", "1980.67", "495.17", "2475.84")
    finished = worker.events("stage_finished")
    assert [(e["stage"], e["outcome"]) for e in finished] == [("cad", "succeeded"), ("pdf", "succeeded")]
    assert all(e["job_id"] == job["id"] and e["duration_ms"] > 0 for e in finished)
