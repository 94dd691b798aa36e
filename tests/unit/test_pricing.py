"""The quote, against amounts worked out by hand: currencies, units of sale, taxes, rounding, cutout edges."""

from __future__ import annotations

import math
from decimal import Decimal as D
from pathlib import Path

import msgspec
import pytest

from engine.cad import run_cad
from engine.model import Slabs
from engine.measure import drip_groove_m, rounded_piece, step_label
from engine.pricing import Catalogue, MaterialPrice, PriceList, price, quote
from engine.spec import Pricing, decode_job, to_mm
from engine.summary import summarize

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example(name: str):
    job = decode_job((EXAMPLES / name).read_bytes())
    return job, summarize(job, None)


@pytest.fixture(scope="module")
def kitchen():
    return example("l-kitchen.json")


@pytest.fixture(scope="module")
def us_kitchen():
    return example("us-kitchen-inches.json")


def with_job(job, **changes):
    return msgspec.structs.replace(job, job=msgspec.structs.replace(job.job, **changes))


PRICES = Pricing(material_per_m2=D(200), fabrication_per_m2=D(50), edge_per_m={"eased": D(15)},
                 cutout_each={"undermount_sink": D(120), "cooktop": D(80), "faucet_hole": D(10)}, vat_rate=D("0.25"))

# The seeded price lists (migrations/0002 and 0005), the parts these jobs use.
EUR = PriceList(currency="EUR", tax_rate=D("0.25"), fabrication_per_area=D(95), drip_groove_per_length=D(12),
                materials={"Quartz (engineered)": MaterialPrice(price_per_area=D(320), price_per_slab=D(1350))},
                finish_per_area={"polished": D(0)}, edge_per_length={"eased": D(18)},
                cutout_each={"undermount_sink": D(160), "cooktop": D(90), "faucet_hole": D(25)})
USD = PriceList(currency="USD", area_unit="ft2", length_unit="ft", tax="sales_tax", tax_rate=D("0.0725"),
                measure_rounding=D("0.5"), measure_rounding_unit="in", fabrication_per_area=D(18),
                drip_groove_per_length=D(4), materials={"Quartz (engineered)": MaterialPrice(price_per_area=D(45))},
                finish_per_area={"polished": D(0)}, edge_per_length={"eased": D(5)},
                cutout_each={"undermount_sink": D(175), "cooktop": D(125), "faucet_hole": D(25)},
                cutout_edge_per_length={"polished": D(12)})
SHOP = Catalogue(default_currency="EUR", price_lists={"EUR": EUR, "USD": USD})
ONE_SLAB = Slabs(area_bound=1, used=1, yield_pct=60.0, layouts=[])


def lines(q):
    return {line.description: (line.quantity, line.unit, line.unit_price, line.amount) for line in q.lines}


def details(q):
    return {line.description: line.detail for line in q.lines}


# ---- EUR, VAT -----------------------------------------------------------------------------------


def test_eur_prices_without_vat_by_hand(kitchen):
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
    assert details(q)["Material: Quartz (engineered), 30 mm"] == "2.7776 m² x 200.00 EUR/m²"
    assert details(q)["Edge: eased"] == "5.1 m x 15.00 EUR/m"
    # 980.90 net; VAT 245.225 rounds half up to 245.23
    assert (q.currency, q.net, q.vat_rate, q.vat, q.total) == ("EUR", "980.90", "0.25", "245.23", "1226.13")
    assert (q.tax_kind, q.tax_label, q.tax, q.prices_include_tax) == ("vat", "VAT 25 %", "245.23", False)
    assert q.measure_rounding is None and q.notes == []


def test_eur_prices_including_vat_are_worked_back(kitchen):
    job, summary = kitchen
    q = quote(msgspec.structs.replace(job, pricing=msgspec.structs.replace(PRICES, prices_include_vat=True)), summary)
    # lines sum to 980.90 gross; net = 980.90 / 1.25 = 784.72; VAT = 196.18
    assert (q.net, q.vat, q.total, q.prices_include_tax) == ("784.72", "196.18", "980.90", True)


def test_the_seeded_eur_list_keeps_the_l_kitchen_at_2475_84(kitchen):
    job, summary = kitchen
    q = quote(job, msgspec.structs.replace(summary, slabs=ONE_SLAB), SHOP)
    # 1 slab x 1350 + 2.7776 m² x 95 (263.87) + polished 0 + 5.1 m x 18 (91.80) + 160 + 25 + 90 = 1980.67
    assert lines(q)["Material: Quartz (engineered), 30 mm"] == ("1", "slab", "1350.00", "1350.00")
    assert details(q)["Material: Quartz (engineered), 30 mm"] == "1 slab x 1350.00 EUR/slab"
    assert (q.currency, q.net, q.vat, q.total, q.tax_label) == ("EUR", "1980.67", "495.17", "2475.84", "VAT 25 %")


def test_material_per_slab_uses_slabs_used(kitchen):
    job, summary = kitchen
    two = msgspec.structs.replace(summary, slabs=Slabs(area_bound=1, used=2, yield_pct=50.0, layouts=[]))
    q = quote(msgspec.structs.replace(job, pricing=Pricing(material_per_slab=D("899.99"))), two)
    assert lines(q) == {"Material: Quartz (engineered), 30 mm": ("2", "slab", "899.99", "1799.98")}
    assert (q.net, q.vat, q.total) == ("1799.98", "0.00", "1799.98")


def test_drip_groove_per_metre():
    legacy = {"dims": {"length": 1000, "width": 300, "height": 20}, "processedEdges": {"front": True, "right": True},
              "okapnikEdges": {"front": True}}
    job = with_job(decode_job(legacy, fallback_id="L1"), currency="EUR")
    assert drip_groove_m(job) == pytest.approx(1.0)
    job = msgspec.structs.replace(job, pricing=Pricing(drip_groove_per_m=D("7.5")))
    q = quote(job, summarize(job, None))
    assert lines(q) == {"Drip groove": ("1", "m", "7.50", "7.50")}


def test_the_job_overrides_its_price_list_price_by_price(kitchen):
    job, summary = kitchen
    cat = Catalogue(price_lists={"EUR": PriceList(
        currency="EUR", materials={"Quartz (engineered)": MaterialPrice(price_per_area=D(100))},
        finish_per_area={"polished": D(10)}, fabrication_per_area=D(40), edge_per_length={"eased": D(10)},
        cutout_each={"*": D(50)}, tax_rate=D("0.20"))})
    got = lines(quote(job, summary, cat))
    assert got["Material: Quartz (engineered), 30 mm"][3] == "277.76"  # 2.7776 x 100
    assert got["Finish: polished"][3] == "27.78"  # 27.776 rounds up
    assert got["Edge: eased"][3] == "51.00"
    assert got["Cutout: cooktop"][3] == "50.00"  # the "*" price
    own = msgspec.structs.replace(job, pricing=Pricing(edge_per_ft={"eased": D(5)}, vat_rate=D(0)))
    q = quote(own, summary, cat)
    # the job's edge price wins, in its own unit: 5.1 m = 16.73 ft x 5 = 83.65
    assert lines(q)["Edge: eased"] == ("16.73", "ft", "5.00", "83.65")
    assert lines(q)["Fabrication"][3] == "111.10"  # 2.7776 x 40 = 111.104, still from the list
    assert (q.vat_rate, q.vat) == ("0", "0.00")  # an explicit 0 % is 0 %, not the list's 20 %


# ---- USD, sales tax, ft², rounding to 1/2 in -------------------------------------------------


def test_usd_per_ft2_with_sales_tax_rounded_to_half_inches(us_kitchen):
    job, summary = us_kitchen
    q = quote(job, msgspec.structs.replace(summary, slabs=ONE_SLAB), SHOP)
    # Rounded to 1/2 in: A 96-3/16 x 25-5/8 -> 96 x 25.5; B 62-3/4 x 25-5/8 -> 63 x 25.5 (62.75 is a half: up).
    # Area (96 + 63) x 25.5 = 4054.5 in² = 28.156 ft². Finished edges: A front 25.5..96 (70.5) + A right 25.5
    # + B front 63 + B right 25.5 = 184.5 in = 15.375 ft. Sink 30 x 16, r 3/4: 92 - 8 x 0.75 + 1.5 pi in = 7.559 ft.
    assert lines(q) == {
        "Material: Quartz (engineered), 1.25 in": ("28.16", "ft²", "45.00", "1267.20"),
        "Finish: polished": ("28.16", "ft²", "0.00", "0.00"),
        "Fabrication": ("28.16", "ft²", "18.00", "506.88"),
        "Edge: eased": ("15.38", "ft", "5.00", "76.90"),
        "Cutout: cooktop": ("1", "pc", "125.00", "125.00"),
        "Cutout: faucet hole": ("1", "pc", "25.00", "25.00"),
        "Cutout: undermount sink": ("1", "pc", "175.00", "175.00"),
        "Cutout edge: polished": ("7.56", "ft", "12.00", "90.72"),
    }
    assert details(q)["Fabrication"] == "28.16 ft² x 18.00 USD/ft², measured to the nearest 1/2 in"
    assert details(q)["Cutout: cooktop"] == "1 pc x 125.00 USD/pc"
    # 2266.70 net; 7.25 % sales tax 164.33575 -> 164.34, added on top
    assert (q.currency, q.net, q.tax_kind, q.tax_label, q.tax, q.total) == (
        "USD", "2266.70", "sales_tax", "Sales tax 7.25 %", "164.34", "2431.04")
    assert (q.vat_rate, q.vat, q.measure_rounding) == ("0", "0.00", "1/2 in")  # no VAT on a sales-tax quote


def test_a_quote_without_any_tax_says_no_tax_never_vat_0(us_kitchen):
    """Neither the job's pricing nor its price list names a tax rate: the quote's label says so (a price list's
    default kind is VAT, which must not be named on a USD quote that carries none)."""
    job, summary = us_kitchen
    untaxed = {"USD": msgspec.structs.replace(USD, tax="vat", tax_rate=D(0))}
    for own, catalogue in ((Pricing(currency="USD", material_per_ft2=D(45)), None),
                           (None, Catalogue(price_lists=untaxed))):
        q = quote(msgspec.structs.replace(job, pricing=own), summary, catalogue)
        assert (q.tax_kind, q.tax_label, q.tax, q.vat_rate, q.vat) == ("none", "No tax", "0.00", "0", "0.00")
        assert q.total == q.net
    # a rate the job names stays what it named, 0 % included
    named = quote(msgspec.structs.replace(job, pricing=Pricing(material_per_ft2=D(45), sales_tax_rate=D(0))), summary)
    assert named.tax_label == "Sales tax 0 %"


def test_us_quantities_are_written_to_two_decimals_in_the_detail():
    """5.1 ft² is written 5.10 ft² and 1.5 ft 1.50 ft (a whole 2 ft stays 2 ft), as the PDF's quote writes them;
    the quantity itself stays a plain decimal."""
    raw = {"spec_version": "1.0", "job": {"id": "R", "name": "r", "currency": "USD"}, "units": "in",
           "material": {"name": "G", "type": "granite", "thickness": 1.25},
           "slab_stock": [{"id": "S", "length": 120, "width": 60}],
           "pieces": [{"id": "P", "shape": {"type": "rect", "length": 24, "depth": 30.6},  # 734.4 in² = 5.1 ft²
                       "edges": {"front": {"kind": "finished", "profile": "eased"},  # 24 in = 2 ft
                                 "right": {"kind": "finished", "profile": "pencil"},  # 30.6 in = 2.55 ft
                                 "back": {"kind": "wall"}, "left": {"kind": "wall"}}},
                      {"id": "Q", "shape": {"type": "rect", "length": 18, "depth": 10},
                       "edges": {"front": {"kind": "finished", "profile": "ogee"}, "right": {"kind": "wall"},
                                 "back": {"kind": "wall"}, "left": {"kind": "wall"}}}],  # 18 in = 1.5 ft
           "pricing": {"material_per_ft2": 10, "edge_per_ft": {"*": 1}, "sales_tax_rate": 0}}
    job = decode_job(msgspec.json.encode(raw))
    q = quote(job, summarize(job, None))
    assert lines(q)["Material: G, 1.25 in"][:2] == ("6.35", "ft²")  # 5.1 + 1.25
    assert details(q)["Edge: eased"].startswith("2 ft x 1.00 USD/ft")
    assert details(q)["Edge: ogee"].startswith("1.50 ft x") and lines(q)["Edge: ogee"][0] == "1.5"
    assert details(q)["Edge: pencil"].startswith("2.55 ft x")
    piece_p = quote(msgspec.structs.replace(job, pieces=job.pieces[:1]), summarize(job, None))
    assert details(piece_p)["Material: G, 1.25 in"].startswith("5.10 ft² x 10.00 USD/ft²")


def test_rounding_to_half_an_inch_snaps_sizes_and_vertices():
    raw = {"spec_version": "1.0", "job": {"id": "R", "name": "r", "currency": "USD"}, "units": "in",
           "material": {"name": "G", "type": "granite", "thickness": 1.25},
           "slab_stock": [{"id": "S", "length": 120, "width": 60}],
           "pieces": [{"id": "P", "shape": {"type": "rect", "length": 24.2, "depth": 30.3},
                       "edges": {"front": {"kind": "finished", "profile": "eased"}, "right": {"kind": "wall"},
                                 "back": {"kind": "wall"}, "left": {"kind": "wall"}}},
                      {"id": "L", "shape": {"type": "polygon", "vertices": [[0, 0], [40.3, 0], [40.3, 10.1],
                                                                            [10.1, 10.1], [10.1, 25.8], [0, 25.8]]}}],
           "pricing": {"material_per_ft2": 10, "edge_per_ft": {"eased": 1}, "sales_tax_rate": 0,
                       "measure_rounding": 0.5}}
    job = decode_job(msgspec.json.encode(raw))
    q = quote(job, summarize(job, None))
    # P: 24 x 30.5 = 732 in². L: 40.5 x 10 + 10 x 16 = 565 in² (vertices to the nearest 1/2 in). 1297 in² = 9.01 ft²
    assert lines(q)["Material: G, 1.25 in"] == ("9.01", "ft²", "10.00", "90.10")
    assert lines(q)["Edge: eased"] == ("2", "ft", "1.00", "2.00")  # 24 in
    assert q.measure_rounding == "1/2 in" and q.tax_label == "Sales tax 0 %"
    unrounded = quote(msgspec.structs.replace(job, pricing=msgspec.structs.replace(job.pricing, measure_rounding=0)),
                      summarize(job, None))
    # as drawn: 24.2 x 30.3 + 40.3 x 10.1 + 10.1 x 15.7 = 1299.1 in² = 9.02 ft²; the front 24.2 in = 2.02 ft
    assert lines(unrounded)["Material: G, 1.25 in"][0] == "9.02" and lines(unrounded)["Edge: eased"][0] == "2.02"
    assert unrounded.measure_rounding is None


def test_rounding_keeps_edge_segments_on_a_slanted_edge():
    raw = {"spec_version": "1.0", "job": {"id": "R", "name": "r", "currency": "USD"}, "units": "in",
           "material": {"name": "G", "type": "granite", "thickness": 1.25},
           "slab_stock": [{"id": "S", "length": 120, "width": 60}],
           "pieces": [{"id": "T", "shape": {"type": "polygon",
                                            "vertices": [[0, 0], [60.2, 0], [50.3, 25.1], [0, 25.1]]},
                       "edges": [{"kind": "finished", "profile": "eased",
                                  "segments": [{"from": 0, "to": 0.2, "kind": "seam"}]},  # rounds to nothing
                                 {"kind": "finished", "profile": "eased",  # 26.98 in, 26.74 once rounded
                                  "segments": [{"from": 10, "to": 26.98, "kind": "finished", "profile": "ogee"}]},
                                 {"kind": "wall"}, {"kind": "wall"}]}],
           "pricing": {"material_per_ft2": 10, "edge_per_ft": {"*": 1}, "measure_rounding": 0.5}}
    job = decode_job(msgspec.json.encode(raw))
    q = quote(job, summarize(job, None))
    # (60 + 50.5) / 2 x 25 = 1381.25 in² = 9.59 ft²; eased 60 + 10 in = 5.83 ft;
    # ogee sqrt(9.5² + 25²) - 10 in = 1.4 ft
    assert lines(q) == {"Material: G, 1.25 in": ("9.59", "ft²", "10.00", "95.90"),
                        "Edge: eased": ("5.83", "ft", "1.00", "5.83"), "Edge: ogee": ("1.4", "ft", "1.00", "1.40")}
    assert q.notes == []


def test_rounded_piece_in_mm_and_its_labels(kitchen):
    job, _ = kitchen
    piece = rounded_piece(to_mm(job).pieces[1], 25.4)  # B: 1580 x 620 mm to whole inches (62.2 / 24.4 in)
    assert (piece.shape.length, piece.shape.depth) == (pytest.approx(62 * 25.4), pytest.approx(24 * 25.4))
    assert [c.length for c in piece.cutouts] == [pytest.approx(22 * 25.4)]  # 560 mm = 22.05 in
    assert rounded_piece(piece, 1000).shape.depth == 1000  # a size never rounds away to nothing
    assert [step_label(s, "in") for s in (0.5, 0.0625, 1, 1.25)] == ["1/2 in", "1/16 in", "1 in", "1-1/4 in"]
    assert step_label(D("10.000"), "mm") == "10 mm"


def test_a_job_without_a_price_list_rounding_keeps_its_figures(kitchen):
    job, summary = kitchen
    ten = msgspec.structs.replace(EUR, measure_rounding=D(10))  # the l-kitchen is drawn to 10 mm: nothing moves
    q = quote(job, summary, Catalogue(price_lists={"EUR": ten}))
    assert lines(q)["Fabrication"][0] == "2.7776" and q.measure_rounding == "10 mm"
    assert details(q)["Fabrication"] == "2.7776 m² x 95.00 EUR/m², measured to the nearest 10 mm"


# ---- cutout edge finish ------------------------------------------------------------------------


def test_cutout_edge_finish_is_priced_along_the_cutout_perimeter(kitchen):
    job, summary = kitchen
    a = job.pieces[0]
    sink = msgspec.structs.replace(a.cutouts[0], edge_finish="polished")  # 760 x 430, r 20
    hole = msgspec.structs.replace(a.cutouts[1], edge_finish="polished")  # d 35
    job = msgspec.structs.replace(job, pieces=[msgspec.structs.replace(a, cutouts=[sink, hole]), job.pieces[1]],
                                  pricing=Pricing(cutout_edge_per_m={"polished": D(30)}))
    q = quote(job, summary)
    perimeter_mm = 2 * (760 + 430) - 8 * 20 + 2 * math.pi * 20 + math.pi * 35  # 2380 - 160 + 125.66 + 109.96
    assert perimeter_mm == pytest.approx(2455.62, abs=0.01)
    assert lines(q) == {"Cutout edge: polished": ("2.456", "m", "30.00", "73.68")}
    assert details(q) == {"Cutout edge: polished": "2.456 m x 30.00 EUR/m"}
    usd = quote(with_job(job, currency="USD"), summary, SHOP)  # the job's per-metre price; the USD list's rest
    # and the USD list's 1/2 in rounding: 760 x 430 -> 30 x 17 in, d 35 -> 1-1/2 in; 2387.6 - 160 + 125.66 + 119.69
    assert lines(usd)["Cutout edge: polished"] == ("2.473", "m", "30.00", "74.19")
    assert lines(usd)["Fabrication"][1] == "ft²"


def test_edge_finish_is_an_optional_cutout_field_and_misspellings_are_still_refused():
    raw = (EXAMPLES / "us-kitchen-inches.json").read_bytes()
    assert decode_job(raw).pieces[0].cutouts[0].edge_finish == "polished"
    with pytest.raises(msgspec.ValidationError, match="edge_finnish"):
        decode_job(raw.replace(b'"edge_finish"', b'"edge_finnish"'))


@pytest.mark.parametrize("pricing, problem", [
    ({"vat_rate": 0.25, "sales_tax_rate": 0.07}, "not both"),
    ({"sales_tax_rate": 0.07, "prices_include_vat": True}, "added on top"),
    ({"material_per_m2": 100, "material_per_ft2": 9}, "material_per_m2 or material_per_ft2"),
    ({"edge_per_m": {"eased": 1}, "edge_per_ft": {"eased": 1}}, "eased: priced in both"),
    ({"sales_tax_rate": 7.25}, "fraction between 0 and 1"),
])
def test_pricing_that_contradicts_itself_is_refused(pricing, problem):
    raw = msgspec.json.decode((EXAMPLES / "us-kitchen-inches.json").read_bytes())
    raw["pricing"] = pricing
    with pytest.raises(msgspec.ValidationError, match=problem):
        decode_job(msgspec.json.encode(raw))


# ---- which currency -----------------------------------------------------------------------------


def test_a_currency_without_a_price_list_gets_no_quote_and_a_warning(us_kitchen):
    job, summary = us_kitchen
    eur_only = Catalogue(default_currency="EUR", price_lists={"EUR": EUR})
    priced = price(job, summary, eur_only)
    assert priced.quote is None  # never a quote in EUR for a USD job
    [w] = priced.findings
    assert (w.code, w.path, w.severity) == ("NO_PRICE_LIST", "job.currency", "warning")
    assert "no price list in USD (it has EUR)" in w.message
    result = run_cad(job, eur_only)  # the CAD stage still succeeds, and the job's warnings say why
    assert result.summary.quote is None and [f.code for f in result.summary.warnings] == ["NO_PRICE_LIST"]
    # the job's own prices are a price list in its currency
    own = msgspec.structs.replace(job, pricing=Pricing(material_per_ft2=D(50)))
    q = quote(own, summary, eur_only)
    assert q.currency == "USD" and lines(q) == {"Material: Quartz (engineered), 1.25 in": ("28.28", "ft²", "50.00",
                                                                                           "1414.00")}


def test_a_job_without_a_currency_is_quoted_in_the_shop_default_and_says_so(kitchen):
    job, summary = kitchen
    q = quote(with_job(job, currency=None), summary, SHOP)
    assert q.currency == "EUR" and q.notes == ["Prices in EUR, the shop's default currency: the job names none."]
    usd_shop = msgspec.structs.replace(SHOP, default_currency="USD")
    q = quote(with_job(job, currency=None), summary, usd_shop)
    assert q.currency == "USD" and lines(q)["Fabrication"][1] == "ft²"


def test_pricing_in_another_currency_than_the_job_is_refused_not_converted(kitchen):
    job, summary = kitchen
    raw = msgspec.json.decode((EXAMPLES / "l-kitchen.json").read_bytes())
    raw["pricing"] = {"currency": "USD", "material_per_ft2": 40}
    with pytest.raises(msgspec.ValidationError, match="pricing.currency USD differs from job.currency EUR"):
        decode_job(msgspec.json.encode(raw))
    own = quote(msgspec.structs.replace(with_job(job, currency=None),
                                        pricing=Pricing(currency="USD", material_per_ft2=D(40))), summary, SHOP)
    assert own.currency == "USD" and own.notes == []  # the pricing's currency is the job's when the job names none
    no_currency = price(with_job(msgspec.structs.replace(job, pricing=PRICES), currency=None), summary)
    assert no_currency.quote is None and [f.code for f in no_currency.findings] == ["NO_CURRENCY"]


def test_unpriced_items_are_named_and_nothing_priced_is_no_quote(kitchen):
    job, summary = kitchen
    marble = msgspec.structs.replace(job, material=msgspec.structs.replace(job.material, name="Marmor"))
    q = quote(marble, summary, SHOP)
    assert "Material: Marmor, 30 mm" not in lines(q)
    assert q.notes == ["Not priced (no price in the EUR list): material Marmor."]
    priced = price(marble, summary, Catalogue(price_lists={"EUR": PriceList(currency="EUR")}))
    assert priced.quote is None and [f.code for f in priced.findings] == ["NOTHING_PRICED"]
    assert quote(job, summary) is None and price(job, summary).findings == []  # no prices at all: nothing to say


def test_the_openapi_schema_says_which_spec_fields_are_additions():
    from api.openapi import _COMPONENTS

    pricing = _COMPONENTS["Pricing"]["properties"]
    added = {name for name, s in pricing.items() if s.get("x-added-in") == "1.1"}
    assert added == {"material_per_ft2", "fabrication_per_ft2", "edge_per_ft", "cutout_edge_per_m",
                     "cutout_edge_per_ft", "drip_groove_per_ft", "sales_tax_rate", "measure_rounding"}
    assert pricing["vat_rate"]["x-changed-in"] == "1.1" and "material_per_m2" not in added
    assert _COMPONENTS["Cutout"]["properties"]["edge_finish"]["x-added-in"] == "1.1"
    currency = _COMPONENTS["JobInfo"]["properties"]["currency"]
    assert currency["x-changed-in"] == "1.1" and currency["default"] is None


def test_a_piece_whose_rounded_outline_does_not_build_is_measured_as_drawn_and_said_so():
    raw = {"spec_version": "1.0", "job": {"id": "R", "name": "r", "currency": "USD"}, "units": "in",
           "material": {"name": "G", "type": "granite", "thickness": 1.25},
           "slab_stock": [{"id": "S", "length": 120, "width": 60}],
           "pieces": [{"id": "SLIVER", "shape": {"type": "polygon", "vertices": [[0, 0], [36, 0], [36, 0.2]]}}],
           "pricing": {"material_per_ft2": 100, "measure_rounding": 0.5}}
    job = decode_job(msgspec.json.encode(raw))
    q = quote(job, summarize(job, None))
    assert lines(q) == {"Material: G, 1.25 in": ("0.03", "ft²", "100.00", "3.00")}  # 36 x 0.2 / 2 = 3.6 in²
    assert q.notes == ["Measured as drawn, not rounded to 1/2 in: SLIVER (their rounded outline does not build)."]
