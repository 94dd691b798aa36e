"""The quote, against amounts worked out by hand."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from engine.model import Slabs
from engine.pricing import Catalogue, MaterialPrice, drip_groove_m, quote
from engine.spec import Pricing, decode_job
from engine.summary import summarize

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def kitchen():
    job = decode_job((EXAMPLES / "l-kitchen.json").read_bytes())
    return job, summarize(job, None)


PRICES = Pricing(material_per_m2=Decimal(200), fabrication_per_m2=Decimal(50), edge_per_m={"eased": Decimal(15)},
                 cutout_each={"undermount_sink": Decimal(120), "cooktop": Decimal(80), "faucet_hole": Decimal(10)},
                 vat_rate=Decimal("0.25"))


def lines(q):
    return {line.description: (line.quantity, line.unit, line.unit_price, line.amount) for line in q.lines}


def test_kitchen_quote_by_hand(kitchen):
    job, summary = kitchen
    assert summary.area_gross_m2 == 2.7776 and summary.finished_edge_by_profile_m == {"eased": 5.1}
    q = quote(msgspec.structs.replace(job, pricing=PRICES), summary)
    assert lines(q) == {
        "Material: Quartz (engineered), 30 mm": ("2.7776", "m²", "200.00", "555.52"),  # 2.7776 x 200
        "Fabrication": ("2.7776", "m²", "50.00", "138.88"),
        "Edge: eased": ("5.1", "m", "15.00", "76.50"),
        "Cutout: cooktop": ("1", "pc", "80.00", "80.00"),
        "Cutout: faucet hole": ("1", "pc", "10.00", "10.00"),
        "Cutout: undermount sink": ("1", "pc", "120.00", "120.00"),
    }
    # 980.90 net; VAT 245.225 rounds half up to 245.23
    assert (q.currency, q.net, q.vat_rate, q.vat, q.total) == ("EUR", "980.90", "0.25", "245.23", "1226.13")
    for line in q.lines:
        assert all(isinstance(getattr(line, f), str) for f in ("quantity", "unit_price", "amount"))


def test_prices_including_vat_are_worked_back(kitchen):
    job, summary = kitchen
    q = quote(msgspec.structs.replace(job, pricing=msgspec.structs.replace(PRICES, prices_include_vat=True)), summary)
    # lines sum to 980.90 gross; net = 980.90 / 1.25 = 784.72; VAT = 196.18
    assert (q.net, q.vat, q.total) == ("784.72", "196.18", "980.90")


def test_material_per_slab_uses_slabs_used(kitchen):
    job, summary = kitchen
    two = msgspec.structs.replace(summary, slabs=Slabs(area_bound=1, used=2, yield_pct=50.0, layouts=[]))
    q = quote(msgspec.structs.replace(job, pricing=Pricing(material_per_slab=Decimal("899.99"))), two)
    assert lines(q) == {"Material: Quartz (engineered), 30 mm": ("2", "slab", "899.99", "1799.98")}
    assert (q.net, q.vat, q.total) == ("1799.98", "0.00", "1799.98")


def test_drip_groove_per_metre():
    legacy = {"dims": {"length": 1000, "width": 300, "height": 20}, "processedEdges": {"front": True, "right": True},
              "okapnikEdges": {"front": True}}
    job = decode_job(legacy, fallback_id="L1")
    assert drip_groove_m(job) == pytest.approx(1.0)
    job = msgspec.structs.replace(job, pricing=Pricing(drip_groove_per_m=Decimal("7.5")))
    q = quote(job, summarize(job, None))
    assert lines(q) == {"Drip groove": ("1.0", "m", "7.50", "7.50")}


def test_catalogue_gives_prices_and_the_job_overrides_field_by_field(kitchen):
    job, summary = kitchen
    cat = Catalogue(currency="EUR", materials={"Quartz (engineered)": MaterialPrice(price_per_m2=Decimal(100))},
                    finishes={"polished": Decimal(10)}, fabrication_per_m2=Decimal(40),
                    edge_per_m={"eased": Decimal(10)}, cutout_each={"*": Decimal(50)}, vat_rate=Decimal("0.20"))
    q = quote(job, summary, cat)
    got = lines(q)
    assert got["Material: Quartz (engineered), 30 mm"][3] == "277.76"  # 2.7776 x 100
    assert got["Finish: polished"][3] == "27.78"  # 27.776 rounds up
    assert got["Edge: eased"][3] == "51.00"
    assert got["Cutout: cooktop"][3] == "50.00"  # the "*" price
    assert q.vat_rate == "0.20"
    own = msgspec.structs.replace(job, pricing=Pricing(edge_per_m={"eased": Decimal(15)}, currency="USD"))
    q2 = quote(own, summary, cat)
    got2 = lines(q2)
    assert got2["Edge: eased"][3] == "76.50"  # the job's edge price wins
    assert got2["Fabrication"][3] == "111.10"  # 2.7776 x 40 = 111.104, still from the catalogue
    assert q2.currency == "USD" and q2.vat_rate == "0.20"  # a job VAT of 0 defers to the catalogue


def test_no_prices_no_quote(kitchen):
    job, summary = kitchen
    assert quote(job, summary) is None
    assert quote(job, summary, Catalogue()) is None  # a catalogue that prices nothing in this job
