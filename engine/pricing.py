"""The quote: in the job's currency, in the price list's units of sale, with its tax, in Decimal and cents.

The shop keeps one price list per currency (`Catalogue.price_lists`, what the database stores); a job's own
`pricing` overrides it price by price. A job whose currency has no price list, and that brings no prices of its
own, gets no quote and a warning: never a quote in another currency. Each price carries its unit (m² or ft²,
m or linear ft, per slab, per piece), and so does each quote line ("12.5 ft² x 65.00 USD/ft²").

Quantities are measured from the job's geometry in mm, after rounding the measurements to the price list's
increment (`measure_rounding`, CounterGo's 1/2 in), and enter the money arithmetic once, as Decimals rounded to
the unit's places, so a quote never depends on binary float noise and a reader can redo every line.
"""

from __future__ import annotations

import difflib
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal, NamedTuple

from msgspec import Struct

from engine.measure import MM_PER_FT, Measures, step_label
from engine.model import Finding, Quote, QuoteLine, Summary
from engine.spec import MM_PER_UNIT, JobSpec, Pricing, Units, to_mm

CENT = Decimal("0.01")
DEFAULT_KEY = "*"  # an edge, cutout or cutout-edge price under this key applies to any name not listed
MM2_PER_UNIT = {"m²": 1e6, "ft²": MM_PER_FT**2}
MM_PER_SALE_UNIT = {"m": 1000.0, "ft": MM_PER_FT}
PLACES = {"m²": 4, "ft²": 2, "m": 3, "ft": 2}  # quantities as a quote shows them
AREA_UNITS = {"m2": "m²", "ft2": "ft²"}

AreaUnit = Literal["m2", "ft2"]
LengthUnit = Literal["m", "ft"]
TaxKind = Literal["vat", "sales_tax"]
QuoteTax = Literal["vat", "sales_tax", "none"]  # "none": neither the job nor its price list names a tax
US_UNITS = ("ft²", "ft")  # quantities written to their places (12.50 ft²), as a US fabricator writes them


class MaterialPrice(Struct, frozen=True, omit_defaults=True):
    """One material in a price list: a price per area unit and/or per whole slab (the slab price wins)."""

    price_per_area: Decimal | None = None
    price_per_slab: Decimal | None = None


class PriceList(Struct, frozen=True, omit_defaults=True):
    """The shop's prices in one currency, in this list's units of sale, with its tax and measurement rounding."""

    currency: str
    area_unit: AreaUnit = "m2"
    length_unit: LengthUnit = "m"  # "ft": linear feet
    tax: TaxKind = "vat"  # VAT (in the prices or added) or a sales tax (always added, labelled as such)
    tax_rate: Decimal = Decimal(0)
    prices_include_tax: bool = False
    measure_rounding: Decimal | None = None  # lengths are rounded to the nearest multiple of this before pricing
    measure_rounding_unit: Units = "mm"
    materials: dict[str, MaterialPrice] = {}  # by material name, as in `job.material.name`
    finish_per_area: dict[str, Decimal] = {}  # surcharge by finish name (polished, honed, leathered, ...)
    fabrication_per_area: Decimal | None = None
    edge_per_length: dict[str, Decimal] = {}  # by edge profile
    cutout_each: dict[str, Decimal] = {}  # by cutout type
    cutout_edge_per_length: dict[str, Decimal] = {}  # by a cutout's `edge_finish`, per length of its perimeter
    drip_groove_per_length: Decimal | None = None


class Catalogue(Struct, frozen=True, omit_defaults=True):
    """The shop's price lists by currency, and the currency of a job that names none."""

    default_currency: str | None = None
    price_lists: dict[str, PriceList] = {}


class Priced(Struct, frozen=True):
    """A quote (None: none could be made) and the warnings that say why, or what a reader must know."""

    quote: Quote | None
    findings: list[Finding] = []


class Rate(NamedTuple):
    price: Decimal
    unit: str  # m², ft², m, ft, slab, pc


def cents(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def _text(amount: Decimal) -> str:
    """A quantity without trailing zeros: 2.7776, 5.1, 12.5, 1."""
    return format(amount.normalize(), "f")


def _shown(amount: Decimal, unit: str) -> str:
    """A quantity as the line's `detail` (and the PDF's quote) writes it: 12.50 ft², 15.40 ft, 2 ft; 2.7776 m²,
    5.1 m, 1 pc."""
    if unit in US_UNITS and amount != amount.to_integral_value():
        return f"{amount:.{PLACES[unit]}f}"
    return _text(amount)


def _quantity(value: float, unit: str) -> Decimal:
    """mm² or mm in the unit of sale, rounded to the places a quote shows (a count is already whole)."""
    if unit in MM2_PER_UNIT:
        value /= MM2_PER_UNIT[unit]
    elif unit in MM_PER_SALE_UNIT:
        value /= MM_PER_SALE_UNIT[unit]
    else:
        return Decimal(int(value))
    # Rounded to 1e-9 first, so 15.374999999999998 ft (184.5 in, through mm) prices as 15.375 -> 15.38.
    exact = Decimal(repr(value)).quantize(Decimal("1e-9"), rounding=ROUND_HALF_UP)
    return exact.quantize(Decimal(1).scaleb(-PLACES[unit]), rounding=ROUND_HALF_UP)


def _named(name: str, metric: dict[str, Decimal], imperial: dict[str, Decimal], listed: dict[str, Decimal],
           list_unit: str, metric_unit: str, imperial_unit: str) -> Rate | None:
    """The job's price for `name`, else the list's, else the job's `*`, else the list's `*`."""
    for key in (name, DEFAULT_KEY):
        if key in metric:
            return Rate(metric[key], metric_unit)
        if key in imperial:
            return Rate(imperial[key], imperial_unit)
        if key in listed:
            return Rate(listed[key], list_unit)
    return None


def _one(metric: Decimal | None, imperial: Decimal | None, listed: Decimal | None, list_unit: str,
         metric_unit: str, imperial_unit: str) -> Rate | None:
    if metric is not None:
        return Rate(metric, metric_unit)
    if imperial is not None:
        return Rate(imperial, imperial_unit)
    return Rate(listed, list_unit) if listed is not None else None


def _prices_anything(pricing: Pricing) -> bool:
    singles = (pricing.material_per_m2, pricing.material_per_ft2, pricing.material_per_slab, pricing.fabrication_per_m2,
               pricing.fabrication_per_ft2, pricing.drip_groove_per_m, pricing.drip_groove_per_ft)
    by_name = (pricing.edge_per_m, pricing.edge_per_ft, pricing.cutout_each, pricing.cutout_edge_per_m,
               pricing.cutout_edge_per_ft)
    return any(price is not None for price in singles) or any(by_name)


_CUTOUT_WORDS = {
    "undermount_sink": "undermount sink", "dropin_sink": "drop-in sink", "farm_sink": "farm sink",
    "cooktop": "cooktop", "faucet_hole": "faucet hole", "soap_hole": "soap hole", "outlet": "outlet",
    "custom": "custom cutout",
}


def _refused(code: str, path: str, message: str) -> Priced:
    return Priced(None, [Finding(code=code, path=path, message=message, severity="warning")])


def _price_list(job: JobSpec, catalogue: Catalogue | None) -> tuple[PriceList, list[str]] | Priced:
    """The price list in the job's currency (the job's own prices when the shop has none), and what to note;
    or a refusal."""
    pricing = job.pricing
    job_cur, own_cur = job.job.currency, pricing.currency if pricing else None  # equal when both given (JobSpec checks)
    currency = job_cur or own_cur or (catalogue.default_currency if catalogue else None)
    if currency is None:
        return _refused("NO_CURRENCY", "job.currency", "Neither the job nor its pricing names a currency and the "
                        "shop has no default currency, so no quote was made.")
    notes = [] if job_cur or own_cur else [f"Prices in {currency}, the shop's default currency: the job names none."]
    plist = catalogue.price_lists.get(currency) if catalogue else None
    if plist is not None:
        return plist, notes
    if pricing is not None and _prices_anything(pricing):
        return PriceList(currency=currency), notes  # the job's own prices are its whole price list
    have = sorted(catalogue.price_lists) if catalogue else []
    return _refused("NO_PRICE_LIST", "job.currency" if job_cur or not own_cur else "pricing.currency",
                    f"The shop has no price list in {currency}" + (f" (it has {', '.join(have)})" if have else "")
                    + f" and the job gives no prices of its own, so no quote was made. Add a {currency} price "
                      "list, or give the job's `pricing`.")


def _rounding(job: JobSpec, pricing: Pricing, plist: PriceList) -> tuple[float, str | None]:
    """The measurement increment in mm (0: none) and as the shop writes it: the job's, else the list's."""
    if pricing.measure_rounding is not None:  # in the job's units
        step_mm = pricing.measure_rounding * MM_PER_UNIT[job.units]
        return step_mm, step_label(pricing.measure_rounding, job.units) if step_mm > 0 else None
    if plist.measure_rounding:
        step_mm = float(plist.measure_rounding) * MM_PER_UNIT[plist.measure_rounding_unit]
        return step_mm, step_label(plist.measure_rounding, plist.measure_rounding_unit)
    return 0.0, None


def price(job: JobSpec, summary: Summary, catalogue: Catalogue | None = None) -> Priced:
    """The job's quote in its own currency, or None with a warning saying why none could be made."""
    if job.pricing is None and catalogue is None:
        return Priced(None)
    found = _price_list(job, catalogue)
    if isinstance(found, Priced):
        return found
    plist, notes = found
    currency = plist.currency
    pricing = job.pricing or Pricing()
    area_unit, length_unit = AREA_UNITS[plist.area_unit], plist.length_unit
    step_mm, label = _rounding(job, pricing, plist)
    measures = Measures(to_mm(job), step_mm or None)
    if measures.unrounded:
        notes.append(f"Measured as drawn, not rounded to {label}: {', '.join(measures.unrounded)} (their rounded "
                     "outline does not build).")
    unpriced: list[str] = []
    lines: list[QuoteLine] = []

    def add(description: str, qty: Decimal, rate: Rate) -> None:
        unit_price = cents(rate.price)
        detail = f"{_shown(qty, rate.unit)} {rate.unit} x {unit_price} {currency}/{rate.unit}"
        if label and rate.unit in PLACES:
            detail += f", measured to the nearest {label}"
        lines.append(QuoteLine(description=description, quantity=_text(qty), unit=rate.unit,
                               unit_price=str(unit_price), amount=str(cents(qty * unit_price)), detail=detail))

    def measured(description: str, value: float, rate: Rate | None, what: str) -> None:
        if value <= 0:
            return
        if rate is None:
            unpriced.append(what)
            return
        add(description, _quantity(value, rate.unit), rate)

    # The job's material price replaces the list's as a whole: a job priced per m² is not also per slab.
    if any(rate is not None for rate in (pricing.material_per_m2, pricing.material_per_ft2, pricing.material_per_slab)):
        per_slab = pricing.material_per_slab
        per_area = _one(pricing.material_per_m2, pricing.material_per_ft2, None, area_unit, "m²", "ft²")
    else:
        mat = plist.materials.get(job.material.name, MaterialPrice())
        per_slab = mat.price_per_slab
        per_area = Rate(mat.price_per_area, area_unit) if mat.price_per_area is not None else None
    material = f"Material: {job.material.name}, {job.material.thickness:g} {job.units}"
    slabs_used = summary.slabs.used if summary.slabs is not None else None
    if per_slab is not None and slabs_used:
        add(material, Decimal(slabs_used), Rate(per_slab, "slab"))
    else:
        measured(material, measures.gross_mm2, per_area, f"material {job.material.name}")
    finish = job.material.finish
    if finish and finish in plist.finish_per_area:
        measured(f"Finish: {finish}", measures.gross_mm2, Rate(plist.finish_per_area[finish], area_unit), "")
    fabrication = _one(pricing.fabrication_per_m2, pricing.fabrication_per_ft2, plist.fabrication_per_area, area_unit,
                       "m²", "ft²")
    if fabrication is not None:
        measured("Fabrication", measures.gross_mm2, fabrication, "")
    for profile, length in sorted(measures.edge_mm.items()):
        rate = _named(profile, pricing.edge_per_m, pricing.edge_per_ft, plist.edge_per_length, length_unit, "m", "ft")
        measured(f"Edge: {profile}", length, rate, f"edge {profile}")
    for ctype, count in summary.cutouts.by_type.items():
        rate = _named(ctype, pricing.cutout_each, {}, plist.cutout_each, "pc", "pc", "pc")
        measured(f"Cutout: {_CUTOUT_WORDS.get(ctype, ctype)}", count, rate, f"cutout {ctype}")
    for edge_finish, length in sorted(measures.cutout_edge_mm.items()):
        rate = _named(edge_finish, pricing.cutout_edge_per_m, pricing.cutout_edge_per_ft, plist.cutout_edge_per_length,
                      length_unit, "m", "ft")
        measured(f"Cutout edge: {edge_finish}", length, rate, f"cutout edge {edge_finish}")
    drip = _one(pricing.drip_groove_per_m, pricing.drip_groove_per_ft, plist.drip_groove_per_length, length_unit,
                "m", "ft")
    if drip is not None:
        measured("Drip groove", measures.drip_mm, drip, "")
    if not lines:
        return _refused("NOTHING_PRICED", "pricing" if job.pricing else "job.currency",
                        f"The {currency} prices cover nothing in this job"
                        + (f" ({', '.join(unpriced)} have no price)" if unpriced else "") + ", so no quote was made.")
    if unpriced:
        notes.append(f"Not priced (no price in the {currency} list): {', '.join(unpriced)}.")

    kind, tax_rate, included = _tax(pricing, plist)
    lines_sum = sum((Decimal(line.amount) for line in lines), Decimal(0))
    if included:
        total = lines_sum
        net = cents(total / (1 + tax_rate))
        tax = total - net
    else:
        net = lines_sum
        tax = cents(net * tax_rate)
        total = net + tax
    percent = _text(tax_rate * 100)
    vat = kind == "vat"
    tax_label = {"vat": f"VAT {percent} %", "sales_tax": f"Sales tax {percent} %", "none": "No tax"}[kind]
    return Priced(Quote(currency=currency, lines=lines, net=str(net), vat_rate=str(tax_rate) if vat else "0",
                        vat=str(tax) if vat else "0.00", total=str(total), tax_kind=kind, tax_label=tax_label,
                        tax_rate=str(tax_rate), tax=str(tax),
                        prices_include_tax=included, measure_rounding=label, notes=notes))


def _tax(pricing: Pricing, plist: PriceList) -> tuple[QuoteTax, Decimal, bool]:
    """Kind, rate and whether the prices include it: the job's rate (and its VAT flag) if it gives one; "none" when
    neither the job nor the list has a rate (a list's default kind is VAT, which an untaxed quote must not name)."""
    if pricing.sales_tax_rate is not None:
        return "sales_tax", pricing.sales_tax_rate, False
    if pricing.vat_rate is not None:
        return "vat", pricing.vat_rate, pricing.prices_include_vat
    if plist.tax_rate == 0:
        return "none", Decimal(0), False
    return plist.tax, plist.tax_rate, plist.prices_include_tax and plist.tax == "vat"


def quote(job: JobSpec, summary: Summary, catalogue: Catalogue | None = None) -> Quote | None:
    """Quote lines for a job, or None when no price list or pricing covers it (`price` says why)."""
    return price(job, summary, catalogue).quote


def _close(name: str, known: list[str]) -> str:
    by_folded = {entry.casefold(): entry for entry in known}
    matches = difflib.get_close_matches(name.casefold(), list(by_folded), n=3, cutoff=0.5)
    return f"; did you mean {', '.join(repr(by_folded[match]) for match in matches)}?" if matches else ""


def unpriced_names(job: JobSpec, summary: Summary, catalogue: Catalogue | None) -> list[Finding]:
    """Warnings for a material, finish or edge profile the job's price list does not know and the job does not
    price itself: the quote would silently leave it out. Each names the name and the closest entries."""
    found = _price_list(job, catalogue) if catalogue is not None else None
    if found is None or isinstance(found, Priced):
        return []  # no catalogue, or no list in the job's currency (price() warns NO_PRICE_LIST)
    plist, _ = found
    pricing = job.pricing or Pricing()
    warnings: list[Finding] = []
    name = job.material.name
    material_prices = (pricing.material_per_m2, pricing.material_per_ft2, pricing.material_per_slab)
    job_prices_material = any(price is not None for price in material_prices)
    if name not in plist.materials and not job_prices_material:
        warnings.append(Finding("UNKNOWN_MATERIAL", "material.name", f"The material {name!r} is not in the "
                                f"{plist.currency} price list, so the quote has no material line"
                                f"{_close(name, list(plist.materials))}", severity="warning"))
    finish = job.material.finish
    if finish and finish not in plist.finish_per_area:
        warnings.append(Finding("UNKNOWN_FINISH", "material.finish", f"The finish {finish!r} is not in the "
                                f"{plist.currency} price list, so the quote has no finish line"
                                f"{_close(finish, list(plist.finish_per_area))}", severity="warning"))
    edge_prices = {**plist.edge_per_length, **pricing.edge_per_m, **pricing.edge_per_ft}
    if DEFAULT_KEY not in edge_prices:
        for profile in summary.finished_edge_by_profile_m:
            if profile != "unspecified" and profile not in edge_prices:
                warnings.append(Finding("UNKNOWN_PROFILE", "pieces", f"The edge profile {profile!r} is not in the "
                                        f"{plist.currency} price list, so the quote leaves its edges out"
                                        f"{_close(profile, list(edge_prices))}", severity="warning"))
    return warnings
