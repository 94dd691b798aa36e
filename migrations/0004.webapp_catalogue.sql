-- The shop web app's catalogue (frontend/catalogue-data.ts) next to the entries seeded by 0002: every item gets
-- the stable integer `id` the app keys its pickers on, materials their swatch (texture URL, #rrggbb colour).
-- The app's names are the names its jobs send back, so they price like any other entry (EUR, catalogue_rates).
-- The app's items keep the app's ids; the entries from 0002 get ids from 101 up, clear of the app's range.
-- depends: 0003.attempt_rows_at_end

ALTER TABLE catalogue_materials ADD COLUMN id integer, ADD COLUMN texture text, ADD COLUMN color text
    CHECK (color ~ '^#[0-9A-Fa-f]{6}$');
ALTER TABLE catalogue_finishes ADD COLUMN id integer;
ALTER TABLE catalogue_edge_profiles ADD COLUMN id integer;

UPDATE catalogue_materials m SET id = 100 + n.rn
  FROM (SELECT name, row_number() OVER (ORDER BY name) AS rn FROM catalogue_materials) n WHERE n.name = m.name;
UPDATE catalogue_finishes f SET id = 100 + n.rn
  FROM (SELECT name, row_number() OVER (ORDER BY name) AS rn FROM catalogue_finishes) n WHERE n.name = f.name;
UPDATE catalogue_edge_profiles p SET id = 100 + n.rn
  FROM (SELECT name, row_number() OVER (ORDER BY name) AS rn FROM catalogue_edge_profiles) n WHERE n.name = p.name;

-- Densities in kg/m³ (the app's g/cm³ x 1000); Istrian and Brač stones are limestones, Botticino and Carrara marbles.
INSERT INTO catalogue_materials (id, name, type, density_kg_m3, thicknesses_mm, price_per_m2, price_per_slab, texture, color)
VALUES
    (1,  'Plano',     'limestone', 2700, '{20,30}', 220.00, NULL, 'https://placehold.co/1024x1024/EAE6D9/9D998D.png', '#EAE6D9'),
    (2,  'Kirmenjak', 'limestone', 2650, '{20,30}', 180.00, NULL, 'https://placehold.co/1024x1024/E1DCC5/A9A594.png', '#E1DCC5'),
    (3,  'Visočan',   'limestone', 2600, '{20,30}', 190.00, NULL, 'https://placehold.co/1024x1024/DAD6CD/A4A097.png', '#DAD6CD'),
    (4,  'Sivac',     'limestone', 2670, '{20,30}', 210.00, NULL, 'https://placehold.co/1024x1024/C7C7C7/8F8F8F.png', '#C7C7C7'),
    (5,  'Kanfanar',  'limestone', 2630, '{20,30}', 160.00, NULL, 'https://placehold.co/1024x1024/DED9C4/A49E82.png', '#DED9C4'),
    (6,  'Avorio',    'limestone', 2680, '{20,30}', 280.00, NULL, 'https://placehold.co/1024x1024/FDF5E6/B0A492.png', '#FDF5E6'),
    (7,  'Pulenat',   'limestone', 2640, '{20,30}', 200.00, NULL, 'https://placehold.co/1024x1024/DCDCDC/A9A9A9.png', '#DCDCDC'),
    (8,  'Lahor',     'limestone', 2580, '{20,30}', 140.00, NULL, 'https://placehold.co/1024x1024/FAF0E6/C3B091.png', '#FAF0E6'),
    (9,  'Mironja',   'limestone', 2800, '{20,30}', 250.00, NULL, 'https://placehold.co/1024x1024/D2B48C/8C7853.png', '#D2B48C'),
    (10, 'Botticino', 'marble',    2700, '{20,30}', 350.00, NULL, 'https://placehold.co/1024x1024/E6DCC9/B9A793.png', '#E6DCC9'),
    (11, 'Carrara C', 'marble',    2710, '{20,30}', 450.00, NULL, 'https://placehold.co/1024x1024/F5F5F5/CCCCCC.png', '#F5F5F5');

INSERT INTO catalogue_finishes (id, name, description, surcharge_per_m2) VALUES
    (0,  'Bez obrade',                  'No surface treatment', 0),
    (1,  'Poliranje (Polished)',        'Polished', 15.00),
    (2,  'Brušenje (Honed)',            'Honed', 12.00),
    (3,  'Četkanje (Brushed)',          'Brushed', 18.00),
    (4,  'Paljenje (Flamed)',           'Flamed', 20.00),
    (5,  'Pjeskarenje (Sandblasted)',   'Sandblasted', 22.00),
    (6,  'Bućardanje (Bush-hammered)',  'Bush-hammered', 25.00),
    (7,  'Štokovanje (Tooled)',         'Tooled', 23.00),
    (8,  'Antico (Antiqued)',           'Antiqued', 28.00),
    (9,  'Martelina (Martellina)',      'Martellina', 20.00),
    (10, 'Pilano (Sawn)',               'Sawn', 5.00);

INSERT INTO catalogue_edge_profiles (id, name, description, price_per_m) VALUES
    (1,  'Ravni rez (Pilan)',                     'Straight sawn cut', 2.00),
    (10, 'Smuš C0.5 (0.5mm 45°)',                 '0.5 mm chamfer at 45 degrees', 5.00),
    (11, 'Smuš C1 (1mm 45°)',                     '1 mm chamfer at 45 degrees', 7.00),
    (12, 'Smuš C2 (2mm 45°)',                     '2 mm chamfer at 45 degrees', 8.00),
    (13, 'Smuš C5 (5mm 45°)',                     '5 mm chamfer at 45 degrees', 10.00),
    (14, 'Smuš C7 (7mm 45°)',                     '7 mm chamfer at 45 degrees', 11.00),
    (15, 'Smuš C8 (8mm 45°)',                     '8 mm chamfer at 45 degrees', 12.00),
    (16, 'Smuš C10 (10mm 45°)',                   '10 mm chamfer at 45 degrees', 13.00),
    (20, 'Polu-zaobljena R1cm',                   'Top arris rounded, 10 mm radius', 12.00),
    (21, 'Polu-zaobljena R1.5cm',                 'Top arris rounded, 15 mm radius', 15.00),
    (22, 'Polu-zaobljena R2cm',                   'Top arris rounded, 20 mm radius', 18.00),
    (30, 'Puno-zaobljena R1.5cm (Half Bullnose)', 'Half bullnose, 15 mm radius', 20.00),
    (31, 'Puno-zaobljena R2cm (Half Bullnose)',   'Half bullnose, 20 mm radius', 25.00),
    (40, 'T-profil',                              'T profile', 35.00),
    (41, 'Dupli T-profil',                        'Double T profile', 45.00);

ALTER TABLE catalogue_materials ALTER COLUMN id SET NOT NULL, ADD CONSTRAINT catalogue_materials_id_key UNIQUE (id);
ALTER TABLE catalogue_finishes ALTER COLUMN id SET NOT NULL, ADD CONSTRAINT catalogue_finishes_id_key UNIQUE (id);
ALTER TABLE catalogue_edge_profiles ALTER COLUMN id SET NOT NULL,
    ADD CONSTRAINT catalogue_edge_profiles_id_key UNIQUE (id);
