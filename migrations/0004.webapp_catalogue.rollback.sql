DELETE FROM catalogue_materials WHERE id BETWEEN 1 AND 100;
DELETE FROM catalogue_finishes WHERE id BETWEEN 0 AND 100;
DELETE FROM catalogue_edge_profiles WHERE id BETWEEN 1 AND 100;
ALTER TABLE catalogue_edge_profiles DROP COLUMN id;
ALTER TABLE catalogue_finishes DROP COLUMN id;
ALTER TABLE catalogue_materials DROP COLUMN color, DROP COLUMN texture, DROP COLUMN id;
