DROP TRIGGER jobs_release_slabs ON jobs;
DROP FUNCTION jobs_release_slabs();
DROP TABLE slab_photos;
DROP TABLE slabs;
DROP FUNCTION slabs_release_orphans();
