-- The shop's price catalogue: materials, finishes, edge profiles, cutout prices and shop-wide rates.
-- A job's own `pricing` overrides it field by field. Money is numeric, never float.
-- depends: 0001.jobs

CREATE TABLE catalogue_materials (
    name           text PRIMARY KEY,
    type           text NOT NULL,
    density_kg_m3  numeric(7, 1) NOT NULL,
    thicknesses_mm numeric(5, 1)[] NOT NULL,
    price_per_m2   numeric(12, 2),
    price_per_slab numeric(12, 2),
    CHECK (price_per_m2 IS NOT NULL OR price_per_slab IS NOT NULL)
);

CREATE TABLE catalogue_finishes (
    name             text PRIMARY KEY,
    description      text NOT NULL,
    surcharge_per_m2 numeric(12, 2) NOT NULL DEFAULT 0
);

CREATE TABLE catalogue_edge_profiles (
    name        text PRIMARY KEY,
    description text NOT NULL,
    price_per_m numeric(12, 2) NOT NULL
);

CREATE TABLE catalogue_cutouts (
    type        text PRIMARY KEY,
    description text NOT NULL,
    price_each  numeric(12, 2) NOT NULL
);

CREATE TABLE catalogue_rates (
    id                 boolean PRIMARY KEY DEFAULT true CHECK (id),  -- one row
    currency           text NOT NULL,
    fabrication_per_m2 numeric(12, 2) NOT NULL,
    drip_groove_per_m  numeric(12, 2) NOT NULL,
    vat_rate           numeric(5, 4) NOT NULL,
    prices_include_vat boolean NOT NULL
);

INSERT INTO catalogue_materials (name, type, density_kg_m3, thicknesses_mm, price_per_m2, price_per_slab) VALUES
    ('Quartz (engineered)', 'quartz',     2400, '{12,20,30}', 320.00, 1350.00),
    ('Granite',             'granite',    2650, '{20,30}',    260.00, 1100.00),
    ('Marble',              'marble',     2700, '{20,30}',    380.00, 1600.00),
    ('Quartzite',           'quartzite',  2650, '{20,30}',    520.00, 2200.00),
    ('Limestone',           'limestone',  2500, '{20,30}',    240.00, NULL),
    ('Porcelain',           'porcelain',  2400, '{6,12,20}',  190.00, 700.00),
    ('Sintered stone',      'sintered',   2500, '{6,12,20}',  290.00, 1150.00);

INSERT INTO catalogue_finishes (name, description, surcharge_per_m2) VALUES
    ('polished',  'Mirror polish', 0),
    ('honed',     'Matt, smooth', 15.00),
    ('leathered', 'Textured, soft sheen', 35.00),
    ('flamed',    'Rough, non-slip (granite)', 25.00),
    ('brushed',   'Satin, lightly textured', 30.00);

INSERT INTO catalogue_edge_profiles (name, description, price_per_m) VALUES
    ('eased',         'Square edge with lightly broken arrises', 18.00),
    ('pencil',        'Small radius on both arrises', 22.00),
    ('bevel',         '45 degree bevel on the top arris', 28.00),
    ('chamfer',       'Small chamfer on the top arris', 24.00),
    ('half_bullnose', 'Top arris rounded to half the thickness', 38.00),
    ('full_bullnose', 'Fully rounded edge', 52.00),
    ('ogee',          'S-shaped decorative profile', 75.00),
    ('mitered',       'Mitered apron for thick-look edges', 85.00);

INSERT INTO catalogue_cutouts (type, description, price_each) VALUES
    ('undermount_sink', 'Undermount sink cutout, polished inside edge', 160.00),
    ('dropin_sink',     'Drop-in sink cutout', 90.00),
    ('farm_sink',       'Farmhouse sink notch, polished', 220.00),
    ('cooktop',         'Cooktop cutout', 90.00),
    ('faucet_hole',     'Drilled faucet hole', 25.00),
    ('soap_hole',       'Drilled soap dispenser hole', 20.00),
    ('outlet',          'Electrical outlet cutout', 45.00),
    ('custom',          'Custom cutout', 120.00);

INSERT INTO catalogue_rates (currency, fabrication_per_m2, drip_groove_per_m, vat_rate, prices_include_vat)
VALUES ('EUR', 95.00, 12.00, 0.2500, false);
