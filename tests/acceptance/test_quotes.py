"""Quotes in the job's own currency, end to end: HTTP in, a real worker with the seeded price lists, the quote out."""

from __future__ import annotations

import json

from tests.acceptance.conftest import Cluster
from tests.conftest import example_bytes

EXPECTED = json.loads(example_bytes("expected.json"))


def test_an_inches_job_in_usd_is_quoted_per_ft2_with_sales_tax(cluster: Cluster) -> None:
    cluster.api()
    cluster.worker()
    us = json.loads(example_bytes("us-kitchen-inches.json"))
    cad = {**us, "job": {**us["job"], "id": "US-CAD", "currency": "CAD"}}
    unnamed = {**us, "job": {k: v for k, v in us["job"].items() if k != "currency"} | {"id": "US-NONE"}}
    ids = {}
    for name, body in (("usd", us), ("cad", cad), ("none", unnamed)):
        r = cluster.submit(body)
        assert r.status_code == 202, r.text
        ids[name] = r.json()["id"]
    jobs = {name: cluster.wait_job(job_id) for name, job_id in ids.items()}
    assert all(j["status"] == "succeeded" for j in jobs.values()), {n: j["error"] for n, j in jobs.items()}

    summary = jobs["usd"]["summary"]
    exp = EXPECTED["us-kitchen-inches.json"]
    assert (summary["area_gross_m2"], summary["area_net_m2"], summary["weight_kg"]) == (
        exp["area_gross_m2"], exp["area_net_m2"], exp["weight_kg"])
    q = summary["quote"]
    # The seeded USD list (migration 0005), measurements rounded to 1/2 in: 28.16 ft² (159 x 25.5 in),
    # 15.38 ft of eased edge (184.5 in), 7.56 ft of polished sink edge; see tests/unit/test_pricing.py.
    by_line = {line["description"]: line for line in q["lines"]}
    assert by_line["Material: Quartz (engineered), 1.25 in"]["detail"] == (
        "28.16 ft² x 45.00 USD/ft², measured to the nearest 1/2 in")
    assert by_line["Edge: eased"]["detail"] == "15.38 ft x 5.00 USD/ft, measured to the nearest 1/2 in"
    assert (by_line["Cutout edge: polished"]["quantity"], by_line["Cutout edge: polished"]["unit"],
            by_line["Cutout edge: polished"]["amount"]) == ("7.56", "ft", "90.72")
    assert {line["unit"] for line in q["lines"]} == {"ft²", "ft", "pc"}
    assert (q["currency"], q["net"], q["tax_kind"], q["tax_label"], q["tax"], q["total"]) == (
        "USD", "2266.70", "sales_tax", "Sales tax 7.25 %", "164.34", "2431.04")
    assert (q["vat"], q["measure_rounding"]) == ("0.00", "1/2 in")
    assert not any(w["code"] == "NO_PRICE_LIST" for w in jobs["usd"]["warnings"])

    # A currency the shop has no price list for: the job's files are made, its quote is not, and it says why.
    assert jobs["cad"]["summary"]["quote"] is None
    [warning] = [w for w in jobs["cad"]["warnings"] if w["code"] == "NO_PRICE_LIST"]
    assert "no price list in CAD (it has EUR, USD)" in warning["message"]
    assert {a["name"] for a in jobs["cad"]["artifacts"]} >= {"piece-A.dxf", "slab-1.svg", "shop-drawing.pdf"}

    # No currency at all: the shop's default (EUR, per m²), and the quote says so.
    q = jobs["none"]["summary"]["quote"]
    assert q["currency"] == "EUR" and q["notes"] == [
        "Prices in EUR, the shop's default currency: the job names none.",
        "Not priced (no price in the EUR list): cutout edge polished.",  # EUR's sink cutout price includes it
    ]
    assert {line["unit"] for line in q["lines"]} == {"slab", "m²", "m", "pc"} and q["tax_label"] == "VAT 25 %"
