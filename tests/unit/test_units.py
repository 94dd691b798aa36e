"""The one formatter of numbers, money, lengths and thickness (engine/drawing/units.py), per locale and unit."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.drawing.units import Lengths, Numbers
from engine.spec import MM_PER_INCH


@pytest.mark.parametrize(("locale", "text"), [
    ("en-US", "1,234.5"), ("de-DE", "1.234,5"), ("hr-HR", "1.234,5"), ("de-AT", "1.234,5"), ("de-CH", "1\u2019234.5"),
    ("fr-FR", "1\u00a0234,5"), ("en-GB", "1,234.5"),
    # spelled loosely, or only the language: the sensible neighbour
    ("de_DE", "1.234,5"), ("HR-hr", "1.234,5"), ("en-AU", "1,234.5"), ("hr", "1.234,5"),
    # no locale, or one not in the table: what a job without a locale has always printed
    (None, "1,234.5"), ("", "1,234.5"), ("ja-JP", "1,234.5"),
])
def test_numbers_in_each_locale(locale: str | None, text: str):
    numbers = Numbers(locale)
    assert numbers.number(1234.5, 1) == text
    assert numbers.number(-1234567.25, 2).startswith("-1")  # the sign stays in front of the grouped figure
    assert numbers.number(Decimal("0.5"), 0) == "1"  # half up, as a quote rounds


@pytest.mark.parametrize(("locale", "area", "weight", "money"), [
    ("en-US", "1,234.568", "1,234.6", "$1,234.57"),
    ("de-DE", "1.234,568", "1.234,6", "1.234,57 €"),
    ("hr-HR", "1.234,568", "1.234,6", "1.234,57 EUR"),
    (None, "1,234.568", "1,234.6", "1,234.57 EUR"),
])
def test_areas_weights_and_money_by_locale(locale: str | None, area: str, weight: str, money: str):
    numbers = Numbers(locale)
    currency = "USD" if locale == "en-US" else "EUR"
    assert numbers.number(1234.5678, 3) == area
    assert numbers.number(1234.56, 1) == weight
    assert numbers.money(Decimal("1234.567"), currency) == money


def test_drawing_lengths_take_the_decimal_mark_but_no_grouping():
    """Dimensions on a drawing are never grouped (2900, not 2.900, which reads as 2.9 m), in any locale."""
    assert Lengths("mm", Numbers("de-DE"))(2900.4) == "2900,4"
    assert Lengths("mm", Numbers("en-US"))(2900) == "2900"
    assert Lengths("in", Numbers("de-DE"))(36.25 * MM_PER_INCH) == "36,25"
    assert Lengths("in", Numbers("en-US")).with_unit(36.25 * MM_PER_INCH) == '36.25"'


@pytest.mark.parametrize(("units", "thickness", "text"), [
    ("mm", 20, "2 cm"), ("mm", 30, "3 cm"), ("mm", 12, "12 mm"), ("mm", 6, "6 mm"), ("mm", 100, "10 cm"),
    ("in", 0.75, "3/4 in"), ("in", 1.25, "1-1/4 in"), ("in", 1.1875, "1-3/16 in"), ("in", 1, "1 in"),
    ("in", 0.5, "1/2 in"), ("in", 2, "2 in"),
    # to the nearest 1/16 in: 1.2 in is 1-3/16 (1.1875), 0.78 in is 3/4 (0.75 is 0.03 away, 13/16 0.0325)
    ("in", 1.2, "1-3/16 in"), ("in", 0.78, "3/4 in"),
])
def test_thickness_as_the_trade_writes_it(units: str, thickness: float, text: str):
    mm = thickness * MM_PER_INCH if units == "in" else thickness
    assert Lengths(units).thickness(mm) == text


def test_a_metric_thickness_that_is_not_whole_millimetres_uses_the_locales_decimal_mark():
    assert Lengths("mm", Numbers("de-DE")).thickness(20.5) == "20,5 mm"
    assert Lengths("mm", Numbers("en-US")).thickness(20.5) == "20.5 mm"
    assert Lengths("mm", Numbers("hr-HR")).thickness(30) == "3 cm"


@pytest.mark.parametrize(("units", "locale", "area", "run", "weight"), [
    ("mm", "en-US", "2.628 m²", "4.69 m", "147.8 kg"),
    ("in", "en-US", "28.28 ft²", "15.38 ft", "325.8 lb"),
    ("in", "de-DE", "28,28 ft²", "15,38 ft", "325,8 lb"),
])
def test_areas_edges_and_weights_in_the_jobs_units(units: str, locale: str, area: str, run: str, weight: str):
    """An inches job's areas are ft² to 2 decimals, its edges linear ft, its weight lb; a mm job's m², m, kg."""
    lengths = Lengths(units, Numbers(locale))
    assert lengths.area(2.6277) == area and lengths.area_unit == area.split()[-1]
    assert lengths.run(4.688) == run
    assert lengths.weight(147.8) == weight
    # the summary's own twin, when there is one, wins over converting its rounded metric figure
    twin = {"mm": "2.628 m²", "in": "30.00 ft²"}[units]
    assert lengths.area(2.6277, 30.0) == (twin if locale == "en-US" else twin.replace(".", ","))
    assert lengths.run(4.688, 20.0).startswith("4" if units == "mm" else "20")
