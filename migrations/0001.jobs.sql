-- Jobs, their stage attempts and their artifacts. The database is the only broker and the only store.
-- depends:

CREATE TABLE jobs (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),  -- unguessable, never sequential
    status           text NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    stage            text NOT NULL DEFAULT 'cad' CHECK (stage IN ('cad', 'pdf')),
    spec             jsonb NOT NULL,
    job_ref          text NOT NULL,            -- the shop's own job id (spec.job.id)
    owner            text,                     -- the token's `sub` when auth is on
    priority         smallint NOT NULL DEFAULT 0,  -- higher runs first
    run_after        timestamptz NOT NULL DEFAULT now(),
    attempts         integer NOT NULL DEFAULT 0,   -- attempts at the current stage
    max_attempts     integer NOT NULL DEFAULT 3 CHECK (max_attempts > 0),
    locked_by        text,
    locked_until     timestamptz,
    cancel_requested boolean NOT NULL DEFAULT false,
    summary          jsonb,
    warnings         jsonb NOT NULL DEFAULT '[]',
    last_error       text,
    idempotency_key  text,
    request_sha256   text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz
);

-- The claim query reads only this: runnable jobs in claim order.
CREATE INDEX jobs_claim_idx ON jobs (priority DESC, run_after, created_at) WHERE status = 'queued';
-- The rescuer reads only this: running jobs by lease expiry.
CREATE INDEX jobs_lease_idx ON jobs (locked_until) WHERE status = 'running';
CREATE INDEX jobs_created_idx ON jobs (created_at DESC, id DESC);
CREATE INDEX jobs_finished_idx ON jobs (finished_at) WHERE finished_at IS NOT NULL;
CREATE UNIQUE INDEX jobs_idempotency_idx ON jobs (coalesce(owner, ''), idempotency_key)
    WHERE idempotency_key IS NOT NULL;

CREATE TABLE job_attempts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id      uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    stage       text NOT NULL,
    attempt     integer NOT NULL,
    worker_id   text NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    outcome     text CHECK (outcome IN ('succeeded', 'retry', 'failed', 'released', 'lost', 'cancelled')),
    error       text
);
CREATE INDEX job_attempts_job_idx ON job_attempts (job_id, id);

CREATE TABLE artifacts (
    job_id       uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    name         text NOT NULL,
    stage        text NOT NULL,
    content_type text NOT NULL,
    size_bytes   integer NOT NULL,
    sha256       text NOT NULL,
    data         bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, name)
);
