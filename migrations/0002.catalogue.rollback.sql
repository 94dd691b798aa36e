DROP TABLE catalogue_rates;
DROP TABLE catalogue_cutouts;
DROP TABLE catalogue_edge_profiles;
DROP TABLE catalogue_finishes;
DROP TABLE catalogue_materials;
