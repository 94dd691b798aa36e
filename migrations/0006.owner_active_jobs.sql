-- The per-owner cap on work in flight counts an owner's queued and running jobs on every submission:
-- a small partial index, since finished jobs (the most rows) are never counted.
-- depends: 0005.price_lists

CREATE INDEX jobs_owner_active_idx ON jobs (owner) WHERE status IN ('queued', 'running') AND owner IS NOT NULL;
