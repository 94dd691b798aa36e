INSERT INTO job_attempts (job_id, stage, attempt, worker_id, started_at)
SELECT id, stage, attempts, locked_by, attempt_started_at
  FROM jobs
 WHERE status = 'running' AND attempt_started_at IS NOT NULL;
ALTER TABLE jobs DROP COLUMN attempt_started_at;
