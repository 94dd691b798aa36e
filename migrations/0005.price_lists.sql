-- Price lists per currency: a shop quotes a job in the job's currency, from that currency's list, in that list's
-- units of sale (m² or ft², m or linear ft, per slab), with its tax (VAT, in the prices or added; or a sales tax,
-- added) and its measurement rounding (CounterGo's 1/2 in). A job whose currency has no list gets no quote.
-- The EUR list is the catalogue as it was (catalogue_rates and the catalogue_* prices, the web app's rows
-- included); a USD list is seeded beside it. Money is numeric, never float.
-- The catalogue_* price columns stay what the web app's pickers show (in the default list's units); quotes read
-- price_list_items, so a price change goes to both until the pickers read the default price list.
-- depends: 0004.webapp_catalogue

CREATE TABLE price_lists (
    currency               text PRIMARY KEY CHECK (currency ~ '^[A-Z]{3}$'),  -- ISO 4217
    is_default             boolean NOT NULL DEFAULT false,  -- the currency of a job that names none
    area_unit              text NOT NULL CHECK (area_unit IN ('m2', 'ft2')),
    length_unit            text NOT NULL CHECK (length_unit IN ('m', 'ft')),  -- ft: linear feet
    tax                    text NOT NULL CHECK (tax IN ('vat', 'sales_tax')),
    tax_rate               numeric(6, 5) NOT NULL CHECK (tax_rate BETWEEN 0 AND 1),  -- 0.08875: 8.875 %
    prices_include_tax     boolean NOT NULL DEFAULT false,
    measure_rounding       numeric(8, 4) CHECK (measure_rounding > 0),  -- lengths to the nearest multiple of this
    measure_rounding_unit  text CHECK (measure_rounding_unit IN ('mm', 'in')),
    fabrication_per_area   numeric(12, 2) CHECK (fabrication_per_area >= 0),
    drip_groove_per_length numeric(12, 2) CHECK (drip_groove_per_length >= 0),
    CHECK (tax = 'vat' OR NOT prices_include_tax),  -- a sales tax is always added on top
    CHECK ((measure_rounding IS NULL) = (measure_rounding_unit IS NULL))
);
CREATE UNIQUE INDEX price_lists_one_default ON price_lists (is_default) WHERE is_default;

-- One price per list, kind and name; the unit is the list's: per area unit (material, finish), per length unit
-- (edge_profile, and cutout_edge: a cutout's edge_finish along its perimeter), each (cutout).
-- Names are the catalogue's (material and finish names, profile names, cutout types); '*' prices any other.
CREATE TABLE price_list_items (
    currency       text NOT NULL REFERENCES price_lists ON UPDATE CASCADE ON DELETE CASCADE,
    kind           text NOT NULL CHECK (kind IN ('material', 'finish', 'edge_profile', 'cutout', 'cutout_edge')),
    name           text NOT NULL,
    price          numeric(12, 2) CHECK (price >= 0),
    price_per_slab numeric(12, 2) CHECK (price_per_slab >= 0),  -- materials only; wins over the area price
    PRIMARY KEY (currency, kind, name),
    CHECK (price IS NOT NULL OR price_per_slab IS NOT NULL),
    CHECK (price_per_slab IS NULL OR kind = 'material')
);

INSERT INTO price_lists (currency, is_default, area_unit, length_unit, tax, tax_rate, prices_include_tax,
                         fabrication_per_area, drip_groove_per_length)
SELECT currency, true, 'm2', 'm', 'vat', vat_rate, prices_include_vat, fabrication_per_m2, drip_groove_per_m
  FROM catalogue_rates;

INSERT INTO price_list_items (currency, kind, name, price, price_per_slab)
SELECT r.currency, 'material', m.name, m.price_per_m2, m.price_per_slab FROM catalogue_materials m, catalogue_rates r
 WHERE m.price_per_m2 IS NOT NULL OR m.price_per_slab IS NOT NULL  -- an unpriced row is no price
UNION ALL
SELECT r.currency, 'finish', f.name, f.surcharge_per_m2, NULL FROM catalogue_finishes f, catalogue_rates r
 WHERE f.surcharge_per_m2 IS NOT NULL
UNION ALL
SELECT r.currency, 'edge_profile', e.name, e.price_per_m, NULL FROM catalogue_edge_profiles e, catalogue_rates r
 WHERE e.price_per_m IS NOT NULL
UNION ALL
SELECT r.currency, 'cutout', c.type, c.price_each, NULL FROM catalogue_cutouts c, catalogue_rates r
 WHERE c.price_each IS NOT NULL;

-- The shop-wide rates now live on the default price list; what read catalogue_rates still reads the same row.
DROP TABLE catalogue_rates;
CREATE VIEW catalogue_rates AS
SELECT currency, fabrication_per_area AS fabrication_per_m2, drip_groove_per_length AS drip_groove_per_m,
       tax_rate AS vat_rate, prices_include_tax AS prices_include_vat
  FROM price_lists
 WHERE is_default;

-- A US shop's list: per ft² and linear ft, 7.25 % sales tax on top, measurements rounded to 1/2 in.
-- Material prices are per ft² (no slab price): US shops sell stone by the square foot.
INSERT INTO price_lists (currency, area_unit, length_unit, tax, tax_rate, prices_include_tax, measure_rounding,
                         measure_rounding_unit, fabrication_per_area, drip_groove_per_length)
VALUES ('USD', 'ft2', 'ft', 'sales_tax', 0.0725, false, 0.5, 'in', 18.00, 4.00);

INSERT INTO price_list_items (currency, kind, name, price) VALUES
    ('USD', 'material',     'Quartz (engineered)', 45.00),
    ('USD', 'material',     'Granite',             38.00),
    ('USD', 'material',     'Marble',              55.00),
    ('USD', 'material',     'Quartzite',           70.00),
    ('USD', 'material',     'Limestone',           35.00),
    ('USD', 'material',     'Porcelain',           30.00),
    ('USD', 'material',     'Sintered stone',      42.00),
    ('USD', 'finish',       'polished',             0.00),
    ('USD', 'finish',       'honed',                1.50),
    ('USD', 'finish',       'leathered',            3.50),
    ('USD', 'finish',       'flamed',               2.50),
    ('USD', 'finish',       'brushed',              3.00),
    ('USD', 'edge_profile', 'eased',                5.00),
    ('USD', 'edge_profile', 'pencil',               6.00),
    ('USD', 'edge_profile', 'bevel',                9.00),
    ('USD', 'edge_profile', 'chamfer',              8.00),
    ('USD', 'edge_profile', 'half_bullnose',       12.00),
    ('USD', 'edge_profile', 'full_bullnose',       16.00),
    ('USD', 'edge_profile', 'ogee',                25.00),
    ('USD', 'edge_profile', 'mitered',             28.00),
    ('USD', 'cutout',       'undermount_sink',    175.00),
    ('USD', 'cutout',       'dropin_sink',        125.00),
    ('USD', 'cutout',       'farm_sink',          275.00),
    ('USD', 'cutout',       'cooktop',            125.00),
    ('USD', 'cutout',       'faucet_hole',         25.00),
    ('USD', 'cutout',       'soap_hole',           20.00),
    ('USD', 'cutout',       'outlet',              50.00),
    ('USD', 'cutout',       'custom',             150.00),
    ('USD', 'cutout_edge',  'polished',            12.00);
