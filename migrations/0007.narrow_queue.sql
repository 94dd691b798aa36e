-- The queue moves out of `jobs` into a narrow `job_queue` table: one row per queued or running job (its stage,
-- priority, run_after, attempts at the stage, and the lease), which claims and heartbeats update. The wide job
-- row (spec, summary, timings) is written once per stage end. A job is `running` while its queue row holds a
-- lease: `jobs.status` says queued, succeeded, failed or cancelled, and the reads derive `running`.
-- A job inserted as queued gets its queue row from a trigger, whoever inserts it (the API, a bulk load, an
-- earlier release's API during the deploy), in the same statement and transaction as the job and its NOTIFY.
-- Deploy the workers with this migration: a worker of the earlier release can no longer claim (see DEPLOY.md).
-- depends: 0006.slab_yard

CREATE TABLE job_queue (
    job_id             uuid PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    stage              text NOT NULL,
    priority           smallint NOT NULL,
    run_after          timestamptz NOT NULL,
    attempts           integer NOT NULL DEFAULT 0,  -- attempts at this stage
    locked_by          text,                        -- the lease: set while a worker runs the stage
    locked_until       timestamptz,
    attempt_started_at timestamptz                  -- the running attempt's claim time
) WITH (fillfactor = 50);  -- room on each page for the new row versions of claims and heartbeats

-- Jobs queued and running right now move over with their leases; a running job's row says `queued` from now on.
INSERT INTO job_queue (job_id, stage, priority, run_after, attempts, locked_by, locked_until, attempt_started_at)
SELECT id, stage, priority, run_after, attempts, locked_by, locked_until, attempt_started_at
  FROM jobs
 WHERE status IN ('queued', 'running');
UPDATE jobs SET status = 'queued' WHERE status = 'running';

DROP INDEX jobs_claim_idx;
DROP INDEX jobs_lease_idx;
ALTER TABLE jobs DROP COLUMN locked_by, DROP COLUMN locked_until, DROP COLUMN attempt_started_at,
    DROP CONSTRAINT jobs_status_check,
    ADD CONSTRAINT jobs_status_check CHECK (status IN ('queued', 'succeeded', 'failed', 'cancelled'));

-- The claim reads only this: unleased rows in claim order (the name the index had on jobs). Heartbeats change only
-- locked_until, which no index covers, so they stay HOT; the rescuer scans the table (queued and running jobs).
CREATE INDEX jobs_claim_idx ON job_queue (priority DESC, run_after) WHERE locked_by IS NULL;

CREATE FUNCTION jobs_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO job_queue (job_id, stage, priority, run_after)
    SELECT id, stage, priority, run_after FROM inserted WHERE status = 'queued';
    RETURN NULL;
END $$;
-- Once per statement: a batch of submissions costs one call.
CREATE TRIGGER jobs_enqueue AFTER INSERT ON jobs REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION jobs_enqueue();
