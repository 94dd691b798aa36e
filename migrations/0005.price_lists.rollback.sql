DROP VIEW catalogue_rates;
CREATE TABLE catalogue_rates (
    id                 boolean PRIMARY KEY DEFAULT true CHECK (id),  -- one row
    currency           text NOT NULL,
    fabrication_per_m2 numeric(12, 2) NOT NULL,
    drip_groove_per_m  numeric(12, 2) NOT NULL,
    vat_rate           numeric(5, 4) NOT NULL,
    prices_include_vat boolean NOT NULL
);
INSERT INTO catalogue_rates (currency, fabrication_per_m2, drip_groove_per_m, vat_rate, prices_include_vat)
SELECT currency, fabrication_per_area, drip_groove_per_length, tax_rate, prices_include_tax
  FROM price_lists
 WHERE is_default;
DROP TABLE price_list_items;
DROP TABLE price_lists;
