"""Numbers, money and lengths as the job writes them: its locale's decimal mark and grouping, its units, and the
material thickness as the trade writes it (3 cm, 1-1/4 in); the areas, edge runs and weights of its summary in its
units too (m², m and kg; ft², linear ft and lb).

The one length formatter of the DXF, the SVG previews and the PDF.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from engine.spec import MM_PER_INCH

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}
# Decimal mark, thousands separator, money pattern ({sym} falls back to the ISO code when unknown), by BCP 47 tag
# or language. A table rather than Babel: five separator pairs do not need CLDR's 30 MB, and the money patterns
# are the shop's (hr-HR writes the code, as Croatian invoices do), not CLDR's.
LOCALES: dict[str, tuple[str, str, str]] = {
    "en-us": (".", ",", "{sym}{num}"),
    "en-gb": (".", ",", "{sym}{num}"),
    "de": (",", ".", "{num} {sym}"),
    "de-ch": (".", "\u2019", "{code} {num}"),
    "fr": (",", "\u00a0", "{num}\u00a0{sym}"),
    "hr": (",", ".", "{num} {code}"),
}
DEFAULT_LOCALE = (".", ",", "{num} {code}")
THICKNESS_INCH_STEP = 16  # inch thicknesses are written to the nearest 1/16 in, as slabs are sold
SQFT_PER_M2 = 10.7639104
FT_PER_M = 1 / 0.3048
LB_PER_KG = 1 / 0.45359237


def locale_spec(locale: str | None) -> tuple[str, str, str]:
    """The separators of a locale tag: the tag itself, else its language, else any English as en-GB, else the
    default (a point and commas, the code after the number: what a job without a locale has always had)."""
    key = (locale or "").replace("_", "-").lower()
    language = key.split("-")[0]
    return LOCALES.get(key) or LOCALES.get(language) or (LOCALES["en-gb"] if language == "en" else DEFAULT_LOCALE)


def inch_fraction(inches: Fraction) -> str:
    """Inches as the trade writes them, without the unit: '3/4', '1-1/4', '2'."""
    whole, rest = divmod(inches, 1)
    parts = [str(whole)] if whole else []
    if rest:
        parts.append(f"{rest.numerator}/{rest.denominator}")
    return "-".join(parts) or "0"


class Numbers:
    """Numbers and money as the job's locale writes them: hr-HR '1.234,56 EUR', en-US '$1,234.56'."""

    def __init__(self, locale: str | None) -> None:
        self.decimal, self.group, self.money_pattern = locale_spec(locale)

    def number(self, value: float | Decimal | str, places: int, group: bool = True) -> str:
        rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        sign = "-" if rounded < 0 else ""
        whole, _, frac = f"{abs(rounded):f}".partition(".")
        if group and len(whole) > 3:
            parts = []
            while len(whole) > 3:
                parts.insert(0, whole[-3:])
                whole = whole[:-3]
            whole = self.group.join([whole, *parts])
        return sign + whole + (self.decimal + frac if frac else "")

    def money(self, amount: Decimal | str, currency: str) -> str:
        symbol = SYMBOLS.get(currency)
        pattern = self.money_pattern
        if symbol is None and "{sym}" in pattern:  # no symbol known: the ISO code, spaced, on the same side
            pattern = "{code} {num}" if pattern.startswith("{sym}") else pattern.replace("{sym}", "{code}")
        return pattern.format(num=self.number(amount, 2), sym=symbol, code=currency)

    def trim(self, value: float, places: int) -> str:
        """A figure with at most `places` decimals and no trailing zeros, never grouped (drawing dimensions)."""
        text = self.number(round(value, places), places, group=False)
        if self.decimal in text:
            text = text.rstrip("0").rstrip(self.decimal)
        return text


class Lengths:
    """Millimetres shown in the job's units: '2900' or '114.17' (the title block states the unit)."""

    def __init__(self, units: str, numbers: Numbers | None = None) -> None:
        self.units = units
        self.numbers = numbers or Numbers(None)

    def __call__(self, mm: float) -> str:
        if self.units == "in":
            return self.numbers.trim(mm / MM_PER_INCH, 2)
        return self.numbers.trim(mm, 1)

    def with_unit(self, mm: float) -> str:
        return self(mm) + ('"' if self.units == "in" else " mm")

    @property
    def area_unit(self) -> str:
        return "ft²" if self.units == "in" else "m²"

    def area_figure(self, m2: float, sqft: float | None = None) -> str:
        """An area in the job's units without the unit: m² to 3 decimals, ft² to 2 (as a US fabricator writes it).
        `sqft` is the summary's own twin of `m2`, so the sheet and the JSON agree to the digit; else it is converted."""
        if self.units == "in":
            return self.numbers.number(m2 * SQFT_PER_M2 if sqft is None else sqft, 2)
        return self.numbers.number(m2, 3)

    def area(self, m2: float, sqft: float | None = None) -> str:
        return f"{self.area_figure(m2, sqft)} {self.area_unit}"

    def run(self, metres: float, feet: float | None = None) -> str:
        """An edge's length, as it is sold: '4.69 m', or linear feet in an inches job ('15.38 ft')."""
        if self.units == "in":
            return self.numbers.number(metres * FT_PER_M if feet is None else feet, 2) + " ft"
        return self.numbers.number(metres, 2) + " m"

    def weight(self, kg: float, lb: float | None = None) -> str:
        if self.units == "in":
            return self.numbers.number(kg * LB_PER_KG if lb is None else lb, 1) + " lb"
        return self.numbers.number(kg, 1) + " kg"

    def thickness(self, mm: float) -> str:
        """A slab thickness as the trade writes it: '2 cm', '3 cm', '12 mm' (not a whole cm), '1-1/4 in', '3/4 in'
        (to the nearest 1/16 in)."""
        if self.units == "in":
            steps = round(mm / MM_PER_INCH * THICKNESS_INCH_STEP)
            return inch_fraction(Fraction(steps, THICKNESS_INCH_STEP)) + " in"
        if abs(mm / 10 - round(mm / 10)) < 1e-6 and mm >= 10:
            return self.numbers.trim(mm / 10, 0) + " cm"
        return self.numbers.trim(mm, 1) + " mm"

