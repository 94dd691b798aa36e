"""The quote: material, fabrication, edges, cutouts, drip groove, VAT, in Decimal and rounded to cents.

Prices come from the job's own `pricing` block, field by field over a `Catalogue` (what the database stores:
materials, finishes, edge profiles, cutout prices). Figures from the summary are floats; they enter the
money arithmetic once, as `Decimal(str(round(x, 4)))`, so a quote never depends on binary float noise.
"""

from __future__ import annotations

import difflib
from decimal import ROUND_HALF_UP, Decimal

from msgspec import Struct

from engine import geometry as g
from engine.model import Finding, Quote, QuoteLine, Summary
from engine.spec import JobSpec, to_mm

CENT = Decimal("0.01")
DEFAULT_KEY = "*"  # an edge or cutout price under this key applies to any profile or type not listed


class MaterialPrice(Struct, frozen=True, omit_defaults=True):
    """One material in the catalogue: a price per m² and/or per whole slab."""

    price_per_m2: Decimal | None = None
    price_per_slab: Decimal | None = None
    density_kg_m3: float | None = None
    thicknesses_mm: list[float] = []


class Catalogue(Struct, frozen=True, omit_defaults=True):
    """The shop's price list; a job's `pricing` overrides it field by field (and key by key in the maps)."""

    currency: str = "EUR"
    materials: dict[str, MaterialPrice] = {}  # by material name, as in `job.material.name`
    finishes: dict[str, Decimal] = {}  # surcharge per m² by finish name (polished, honed, leathered, ...)
    fabrication_per_m2: Decimal | None = None
    edge_per_m: dict[str, Decimal] = {}
    cutout_each: dict[str, Decimal] = {}
    drip_groove_per_m: Decimal | None = None
    vat_rate: Decimal = Decimal(0)
    prices_include_vat: bool = False


def dec(x: float) -> Decimal:
    """A summary figure as Decimal, without float noise."""
    return Decimal(str(round(x, 4)))


def cents(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def drip_groove_m(job: JobSpec) -> float:
    """Total drip-groove length (m) over pieces x qty: the finished outline spans of edges that have a groove."""
    total_mm = 0.0
    for piece in to_mm(job).pieces:
        try:
            ol = g.outline(piece)
        except g.GeometryError:
            continue  # check() reports it; an unbuildable piece is not quoted
        total_mm += piece.qty * sum(s.seg.length() for s in ol.spans if s.groove is not None)
    return round(total_mm / 1000, 4)


_CUTOUT_WORDS = {
    "undermount_sink": "undermount sink", "dropin_sink": "drop-in sink", "farm_sink": "farm sink",
    "cooktop": "cooktop", "faucet_hole": "faucet hole", "soap_hole": "soap hole", "outlet": "outlet",
    "custom": "custom cutout",
}


def quote(job: JobSpec, summary: Summary, catalogue: Catalogue | None = None) -> Quote | None:
    """Quote lines for a job, or None when neither the job nor the catalogue gives a price."""
    p = job.pricing
    if p is None and catalogue is None:
        return None
    cat = catalogue or Catalogue(currency=job.job.currency)
    mat = cat.materials.get(job.material.name, MaterialPrice())
    # The job's material price replaces the catalogue's as a whole: a job priced per m² is not also per slab.
    if p is not None and (p.material_per_m2 is not None or p.material_per_slab is not None):
        per_m2, per_slab = p.material_per_m2, p.material_per_slab
    else:
        per_m2, per_slab = mat.price_per_m2, mat.price_per_slab
    fabrication = p.fabrication_per_m2 if p and p.fabrication_per_m2 is not None else cat.fabrication_per_m2
    drip_price = p.drip_groove_per_m if p and p.drip_groove_per_m is not None else cat.drip_groove_per_m
    edge_prices = {**cat.edge_per_m, **(p.edge_per_m if p else {})}
    cutout_prices = {**cat.cutout_each, **(p.cutout_each if p else {})}
    # Pricing.vat_rate defaults to 0, so "not given" and "0 %" look alike: a zero rate defers to the catalogue.
    vat_source = p if p is not None and (p.vat_rate or catalogue is None) else cat
    vat_rate, includes_vat = vat_source.vat_rate, vat_source.prices_include_vat
    currency = (p.currency if p and p.currency else None) or (cat.currency if catalogue else job.job.currency)

    lines: list[QuoteLine] = []

    def add(description: str, qty: Decimal, unit: str, price: Decimal) -> None:
        lines.append(QuoteLine(description=description, quantity=str(qty), unit=unit,
                               unit_price=str(cents(price)), amount=str(cents(qty * price))))

    area = dec(summary.area_gross_m2)
    material = f"Material: {job.material.name}, {job.material.thickness:g} {job.units}"
    slabs_used = summary.slabs.used if summary.slabs is not None else None
    if per_slab is not None and slabs_used:
        add(material, Decimal(slabs_used), "slab", per_slab)
    elif per_m2 is not None:
        add(material, area, "m²", per_m2)
    finish = job.material.finish
    if finish and finish in cat.finishes:
        add(f"Finish: {finish}", area, "m²", cat.finishes[finish])
    if fabrication is not None:
        add("Fabrication", area, "m²", fabrication)
    for profile, length in summary.finished_edge_by_profile_m.items():
        price = edge_prices.get(profile, edge_prices.get(DEFAULT_KEY))
        if price is not None and length > 0:
            add(f"Edge: {profile}", dec(length), "m", price)
    for ctype, count in summary.cutouts.by_type.items():
        price = cutout_prices.get(ctype, cutout_prices.get(DEFAULT_KEY))
        if price is not None and count > 0:
            add(f"Cutout: {_CUTOUT_WORDS.get(ctype, ctype)}", Decimal(count), "pc", price)
    if drip_price is not None:
        groove = dec(drip_groove_m(job))
        if groove > 0:
            add("Drip groove", groove, "m", drip_price)
    if not lines:
        return None
    lines_sum = sum((Decimal(line.amount) for line in lines), Decimal(0))
    if includes_vat:
        total = lines_sum
        net = cents(total / (1 + vat_rate))
        vat = total - net
    else:
        net = lines_sum
        vat = cents(net * vat_rate)
        total = net + vat
    return Quote(currency=currency, lines=lines, net=str(net), vat_rate=str(vat_rate), vat=str(vat), total=str(total))


def _close(name: str, known: list[str]) -> str:
    by_folded = {k.casefold(): k for k in known}
    matches = difflib.get_close_matches(name.casefold(), list(by_folded), n=3, cutoff=0.5)
    return f"; did you mean {', '.join(repr(by_folded[m]) for m in matches)}?" if matches else ""


def unpriced_names(job: JobSpec, summary: Summary, catalogue: Catalogue | None) -> list[Finding]:
    """Warnings for a material, finish or edge profile the catalogue does not know and the job does not price
    itself: the quote would silently leave it out. Each names the name and the closest catalogue entries."""
    if catalogue is None:
        return []
    p = job.pricing
    found: list[Finding] = []
    name = job.material.name
    if name not in catalogue.materials and not (p and (p.material_per_m2 is not None or p.material_per_slab is not None)):
        found.append(Finding("UNKNOWN_MATERIAL", "material.name", f"The material {name!r} is not in the price "
                             f"catalogue, so the quote has no material line{_close(name, list(catalogue.materials))}",
                             severity="warning"))
    finish = job.material.finish
    if finish and finish not in catalogue.finishes:
        found.append(Finding("UNKNOWN_FINISH", "material.finish", f"The finish {finish!r} is not in the price "
                             f"catalogue, so the quote has no finish line{_close(finish, list(catalogue.finishes))}",
                             severity="warning"))
    edge_prices = {**catalogue.edge_per_m, **(p.edge_per_m if p else {})}
    if DEFAULT_KEY not in edge_prices:
        for profile in summary.finished_edge_by_profile_m:
            if profile != "unspecified" and profile not in edge_prices:
                found.append(Finding("UNKNOWN_PROFILE", "pieces", f"The edge profile {profile!r} is not in the price "
                                     f"catalogue, so the quote leaves its edges out{_close(profile, list(edge_prices))}",
                                     severity="warning"))
    return found
