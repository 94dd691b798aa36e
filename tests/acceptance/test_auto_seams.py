"""Seams placed by the rules, end to end: an over-long run goes in over HTTP with `options.auto_seams`, a real worker
splits it, and the seam comes back in the summary, the piece DXFs (layer SEAM) and the shop drawing's text."""

from __future__ import annotations

import io
import json

import ezdxf
import pypdf

from tests.acceptance.conftest import Cluster
from tests.conftest import example_bytes


def test_an_over_long_run_is_seamed_by_the_rules_over_http(cluster: Cluster) -> None:
    cluster.api()
    cluster.worker()
    body = json.loads(example_bytes("long-run-auto-seam.json"))
    r = cluster.submit(body)
    assert r.status_code == 202, r.text
    without = cluster.submit({**body, "options": {**body["options"], "auto_seams": False}})
    assert without.status_code == 422 and "options.auto_seams" in without.text  # the old answer, with the hint
    job = cluster.wait_job(r.json()["id"])
    assert job["status"] == "succeeded", job["error"]

    [seam] = job["summary"]["seams"]
    assert (seam["piece"], seam["parts"], seam["position"]) == ("A", ["A1", "A2"], 2700)
    assert seam["rules"] == ["820 mm from sink SINK1 (at least 457 mm)",
                             "clear of the dishwasher opening from 2000 mm to 2600 mm"]
    assert "A is 4800 mm long" in seam["reason"]
    assert [(p["id"], p["length_mm"]) for p in job["summary"]["pieces"]] == [("A1", 2700), ("A2", 2100)]

    files = {a["name"]: a["url"] for a in job["artifacts"]}
    for name, x in (("piece-A1.dxf", 2700), ("piece-A2.dxf", 0)):
        doc = ezdxf.read(io.StringIO(cluster.http.get(files[name]).content.decode()))
        assert not doc.audit().has_errors
        [line] = doc.modelspace().query('LWPOLYLINE[layer=="SEAM"]')
        assert {x for x, *_ in line.get_points()} == {x}

    pdf = pypdf.PdfReader(io.BytesIO(cluster.http.get(files["shop-drawing.pdf"]).content))
    seams_page = next(page.extract_text() for page in pdf.pages if "seams: A1 + A2" in page.extract_text())
    assert "2700" in seams_page and "4800" in seams_page
    assert "820 mm from sink SINK1 (at least 457 mm)" in seams_page
    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert "Piece A1" in text and "Piece A2" in text
