"""Numbers, money and lengths as the job writes them: its locale's decimal mark and grouping, its units.

The one length formatter of the DXF, the SVG previews and the PDF.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from engine.spec import MM_PER_INCH

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}
# decimal mark, thousands separator, money pattern ({sym} falls back to the ISO code when unknown)
LOCALES: dict[str, tuple[str, str, str]] = {
    "en-US": (".", ",", "{sym}{num}"),
    "en-GB": (".", ",", "{sym}{num}"),
    "de": (",", ".", "{num} {sym}"),
    "fr": (",", "\u00a0", "{num}\u00a0{sym}"),
    "hr": (",", ".", "{num} {code}"),
}
DEFAULT_LOCALE = (".", ",", "{num} {code}")


class Numbers:
    """Numbers and money as the job's locale writes them: hr-HR '1.234,56 EUR', en-US '$1,234.56'."""

    def __init__(self, locale: str | None) -> None:
        key = locale or ""
        spec = LOCALES.get(key) or LOCALES.get(key.split("-")[0]) or (
            LOCALES["en-GB"] if key.startswith("en") else DEFAULT_LOCALE)
        self.decimal, self.group, self.money_pattern = spec

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

