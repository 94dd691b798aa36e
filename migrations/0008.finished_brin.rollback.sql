-- The b-tree on finished jobs back, as 0001 made it, and full pages for new rows.
ALTER TABLE jobs RESET (fillfactor);
DROP INDEX jobs_finished_idx;
CREATE INDEX jobs_finished_idx ON jobs (finished_at) WHERE finished_at IS NOT NULL;
