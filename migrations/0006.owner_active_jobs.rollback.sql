DROP INDEX IF EXISTS jobs_owner_active_idx;
