-- The queue back on the job rows: leases, attempts and run_after from job_queue; leased jobs become `running`.
DROP TRIGGER jobs_enqueue ON jobs;
DROP FUNCTION jobs_enqueue();
ALTER TABLE jobs DROP CONSTRAINT jobs_status_check,
    ADD CONSTRAINT jobs_status_check CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    ADD COLUMN locked_by text, ADD COLUMN locked_until timestamptz, ADD COLUMN attempt_started_at timestamptz;
UPDATE jobs j
   SET status = CASE WHEN q.locked_by IS NOT NULL THEN 'running' ELSE j.status END,
       stage = q.stage, attempts = q.attempts, run_after = q.run_after, locked_by = q.locked_by,
       locked_until = q.locked_until, attempt_started_at = q.attempt_started_at,
       started_at = coalesce(j.started_at, q.attempt_started_at),
       updated_at = greatest(j.updated_at, q.attempt_started_at)
  FROM job_queue q
 WHERE q.job_id = j.id;
DROP TABLE job_queue;
CREATE INDEX jobs_claim_idx ON jobs (priority DESC, run_after, created_at) WHERE status = 'queued';
CREATE INDEX jobs_lease_idx ON jobs (locked_until) WHERE status = 'running';
