-- The stage's end writes the job row once (finished_at, status, summary). With a b-tree on finished_at that
-- update could never be HOT: the finished row needed a new index entry, and so did every other index on `jobs`.
-- A BRIN index is "summarizing": from PostgreSQL 16 an update that changes only such indexed columns can still be
-- HOT, so the job's other indexes are not touched. Retention (prune_jobs: finished_at older than N days) reads it
-- as well as it read the b-tree: jobs finish roughly in the order their rows were written.
-- A HOT update also needs room on the row's page: inserts now leave 30% of each page free for the stage ends
-- (pages written before this migration keep what they have).
-- depends: 0007.narrow_queue
DROP INDEX jobs_finished_idx;
CREATE INDEX jobs_finished_idx ON jobs USING brin (finished_at);
ALTER TABLE jobs SET (fillfactor = 70);
