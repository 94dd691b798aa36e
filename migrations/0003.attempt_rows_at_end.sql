-- An attempt's row in job_attempts is written once, when the attempt ends (with the time it started, kept on
-- the job row meanwhile), instead of inserted by the claim and updated at the end: a claim then writes to
-- `jobs` alone. The running attempt is read from the job row (list_job_attempts).
-- Deploy the workers with this migration: a worker of the earlier release would still insert open rows.
-- depends: 0002.catalogue

ALTER TABLE jobs ADD COLUMN attempt_started_at timestamptz;  -- the running attempt's claim time

-- Attempts running right now move onto their job row.
UPDATE jobs j
   SET attempt_started_at = a.started_at
  FROM job_attempts a
 WHERE a.job_id = j.id AND a.finished_at IS NULL AND j.status = 'running';
DELETE FROM job_attempts a
 USING jobs j
 WHERE a.job_id = j.id AND a.finished_at IS NULL AND j.status = 'running';
