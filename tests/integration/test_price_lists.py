"""Migration 0005: price lists per currency, their rules in the schema, and its rollback."""

from __future__ import annotations

import psycopg
import pytest
from ops.migrate import migrate
from tests.integration.conftest import roll_back

JSON = {"content-type": "application/json"}


def test_price_lists_refuse_what_a_quote_could_not_honour(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        rows = conn.execute("SELECT currency, is_default, area_unit, tax FROM price_lists ORDER BY currency").fetchall()
        assert rows == [("EUR", True, "m2", "vat"), ("USD", False, "ft2", "sales_tax")]
        # the EUR list is the catalogue as it was: every catalogue price is in it
        assert conn.execute("SELECT count(*) FROM price_list_items WHERE currency = 'EUR'").fetchone() == (
            conn.execute("SELECT (SELECT count(*) FROM catalogue_materials) + (SELECT count(*) FROM catalogue_finishes)"
                         " + (SELECT count(*) FROM catalogue_edge_profiles) + (SELECT count(*) FROM catalogue_cutouts)"
                         ).fetchone())
        bad = [
            "INSERT INTO price_lists (currency, area_unit, length_unit, tax, tax_rate, prices_include_tax) "
            "VALUES ('CAD', 'ft2', 'ft', 'sales_tax', 0.05, true)",  # a sales tax is never inside the prices
            "INSERT INTO price_lists (currency, is_default, area_unit, length_unit, tax, tax_rate) "
            "VALUES ('GBP', true, 'm2', 'm', 'vat', 0.2)",  # one default currency
            "INSERT INTO price_lists (currency, area_unit, length_unit, tax, tax_rate) "
            "VALUES ('usd', 'm2', 'm', 'vat', 0.2)",  # ISO codes only
            "INSERT INTO price_lists (currency, area_unit, length_unit, tax, tax_rate, measure_rounding) "
            "VALUES ('CHF', 'm2', 'm', 'vat', 0.081, 5)",  # a rounding without its unit
            "INSERT INTO price_list_items (currency, kind, name, price_per_slab) VALUES ('USD', 'finish', 'x', 1)",
            "INSERT INTO price_list_items (currency, kind, name, price) VALUES ('SEK', 'material', 'Granite', 1)",
        ]
        for statement in bad:
            with pytest.raises(psycopg.errors.IntegrityError):
                conn.execute(statement)


def test_the_view_keeps_the_old_rates_row(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        row = conn.execute("SELECT currency, fabrication_per_m2::text, drip_groove_per_m::text, vat_rate::text, "
                           "prices_include_vat FROM catalogue_rates").fetchall()
    assert row == [("EUR", "95.00", "12.00", "0.25000", False)]


def test_rollback_restores_the_single_rates_row_and_applies_again(db_url: str) -> None:
    roll_back(db_url, "0005.price_lists")
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert conn.execute("SELECT to_regclass('price_lists')").fetchone() == (None,)
        assert conn.execute("SELECT currency, fabrication_per_m2::text, vat_rate::text FROM catalogue_rates"
                            ).fetchall() == [("EUR", "95.00", "0.2500")]
    assert migrate(db_url) == 1
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM price_lists").fetchone() == (2,)


@pytest.mark.anyio
async def test_a_pricing_currency_other_than_the_jobs_is_a_422(settings) -> None:  # type: ignore[no-untyped-def]
    import json

    from litestar.testing import AsyncTestClient

    from api.app import create_app
    from tests.conftest import example_bytes

    body = json.loads(example_bytes("us-kitchen-inches.json"))
    body["pricing"] = {"currency": "EUR", "material_per_m2": 300}
    async with AsyncTestClient(create_app(settings)) as client:
        r = await client.post("/api/cad/generate", content=json.dumps(body), headers=JSON)
        assert r.status_code == 422 and "pricing.currency EUR differs from job.currency USD" in r.text, r.text
        body["pricing"] = {"currency": "USD", "material_per_ft2": 40, "sales_tax_rate": 0.06}
        r = await client.post("/api/cad/generate", content=json.dumps(body), headers=JSON)
        assert r.status_code == 202, r.text
