-- Every runtime query, by name; store.py (the yard's: yard_store.py) has one typed function per query, of its name.
-- Channels: `studio_jobs` wakes workers (empty payload: a hint, the claim decides);
-- `studio_job_events` carries {"id","status","stage"} for live status streams.

-- name: insert_jobs
-- Enqueue and wake in one statement: the NOTIFY is delivered when this transaction commits, never before, and
-- PostgreSQL folds the identical notifications of one transaction into one. Submissions that arrive together
-- share the statement (the API's GroupCommit): one commit, one fsync, one hold of the global notify lock.
-- Each job's job_queue row comes from the jobs_enqueue trigger, in this statement (migration 0007).
-- A repeated Idempotency-Key inserts nothing for its row and returns no row for it; the caller then reads the
-- existing job. The jobs come as one JSON array (one parameter, parsed once).
WITH inserted AS (
    INSERT INTO jobs (id, spec, job_ref, owner, priority, run_after, max_attempts, idempotency_key,
                      request_sha256, warnings)
    SELECT id, spec, job_ref, owner, priority, coalesce(run_after, now()), max_attempts, idempotency_key,
           request_sha256, coalesce(warnings, '[]')
      FROM jsonb_to_recordset(%(jobs)s) AS n(id uuid, spec jsonb, job_ref text, owner text, priority smallint,
                                             run_after timestamptz, max_attempts integer, idempotency_key text,
                                             request_sha256 text, warnings jsonb)
    ON CONFLICT (coalesce(owner, ''), idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING id, status)
SELECT id, status, pg_notify('studio_jobs', '') AS notified FROM inserted;

-- name: get_job_by_idempotency_key
-- The job a retried submission already created (`running` while its queue row holds a lease).
SELECT j.id, CASE WHEN q.locked_by IS NOT NULL THEN 'running' ELSE j.status END AS status, j.stage, j.created_at,
       j.request_sha256
  FROM jobs j LEFT JOIN job_queue q ON q.job_id = j.id
 WHERE coalesce(j.owner, '') = coalesce(%(owner)s, '') AND j.idempotency_key = %(idempotency_key)s;

-- name: claim_jobs
-- Runnable jobs for these stages in priority order; SKIP LOCKED lets workers claim side by side.
-- A claim writes only the narrow job_queue rows and reads the job rows by primary key: the attempt's start is
-- kept on the queue row, its job_attempts row is written when it ends.
-- Spec and summary come back as JSON text: the worker hands them to the stage's process as they are.
-- Its commit does not wait for the WAL flush (synchronous_commit off for this transaction only): a claim lost
-- in a crash just leaves the job queued (the worker's lease-guarded result then changes nothing), and the
-- durable commit of that result flushes the claim with it. One fsync per batch instead of two.
-- store.claim_jobs writes the limit in as a literal: with a LIMIT parameter PostgreSQL plans every claim again
-- (its generic plan assumes a tenth of the queue comes back); with a literal it keeps one plan per limit.
WITH relaxed AS (
    SELECT set_config('synchronous_commit', 'off', true)),
candidate AS (
    SELECT job_id FROM job_queue
     WHERE locked_by IS NULL AND run_after <= now() AND stage = ANY(%(stages)s)
     ORDER BY priority DESC, run_after
     LIMIT %(limit)s
       FOR UPDATE SKIP LOCKED),
claimed AS (
    UPDATE job_queue q
       SET attempts = q.attempts + 1, locked_by = %(worker_id)s,
           locked_until = now() + make_interval(secs => %(lease_s)s), attempt_started_at = now()
      FROM candidate c
     WHERE q.job_id = c.job_id
 RETURNING q.job_id, q.stage, q.attempts)
SELECT j.id, c.stage, c.attempts, j.max_attempts, j.spec::text AS spec_json, j.summary::text AS summary_json,
       j.cancel_requested,
       pg_notify('studio_job_events', json_build_object('id', j.id, 'status', 'running', 'stage', c.stage)::text)
           AS notified
  FROM claimed c JOIN jobs j ON j.id = c.job_id CROSS JOIN relaxed;

-- name: extend_leases
-- Heartbeat: only jobs this worker still holds; the reply also carries cancel requests (kept on the job row).
UPDATE job_queue q
   SET locked_until = now() + make_interval(secs => %(lease_s)s)
  FROM jobs j
 WHERE q.job_id = ANY(%(ids)s) AND q.locked_by = %(worker_id)s AND j.id = q.job_id
RETURNING q.job_id AS id, j.cancel_requested;

-- name: transition_job
-- Every state change after a claim, guarded by the lease (River's "only while running" rule):
-- zero rows means another attempt owns the job now and this worker's result must be dropped.
-- A cancel requested while the stage ran turns a requeue into `cancelled`: the stage boundary.
-- The job row is written once for the stage's end; the queue row goes back unleased (requeued) or leaves the
-- queue (finished). The attempt's row takes the stage, attempt number and start from the held queue row.
WITH held AS (
    SELECT job_id, stage, attempts, attempt_started_at
      FROM job_queue
     WHERE job_id = %(id)s AND locked_by = %(worker_id)s
       FOR UPDATE),
job AS (
    UPDATE jobs j
       SET status = CASE WHEN j.cancel_requested AND %(status)s = 'queued' THEN 'cancelled' ELSE %(status)s END,
           stage = coalesce(%(stage)s, j.stage),
           attempts = CASE WHEN %(attempts_reset)s THEN 0
                           WHEN %(attempt_refund)s THEN greatest(h.attempts - 1, 0)
                           ELSE h.attempts END,
           run_after = now() + make_interval(secs => %(delay_s)s),
           cancel_requested = false, last_error = %(error)s,
           summary = coalesce(%(summary)s, j.summary),
           warnings = coalesce(%(warnings)s, j.warnings),
           started_at = coalesce(j.started_at, h.attempt_started_at),
           finished_at = CASE WHEN %(status)s IN ('succeeded', 'failed', 'cancelled')
                                   OR (j.cancel_requested AND %(status)s = 'queued') THEN now() END,
           updated_at = now()
      FROM held h
     WHERE j.id = h.job_id
 RETURNING j.id, j.status, j.stage, j.attempts, j.run_after),
requeued AS (
    UPDATE job_queue q
       SET stage = job.stage, attempts = job.attempts, run_after = job.run_after,
           locked_by = NULL, locked_until = NULL, attempt_started_at = NULL
      FROM job
     WHERE q.job_id = job.id AND job.status = 'queued'),
finished AS (
    DELETE FROM job_queue q USING job WHERE q.job_id = job.id AND job.status <> 'queued'),
attempt AS (
    INSERT INTO job_attempts (job_id, stage, attempt, worker_id, started_at, finished_at, outcome, error)
    SELECT h.job_id, h.stage, h.attempts, %(worker_id)s, coalesce(h.attempt_started_at, now()), now(),
           %(outcome)s, %(error)s
      FROM held h JOIN job ON job.id = h.job_id)
SELECT id, status, stage,
       pg_notify('studio_job_events', json_build_object('id', id, 'status', status, 'stage', stage)::text),
       CASE WHEN status = 'queued' THEN pg_notify('studio_jobs', '') END
  FROM job;

-- name: complete_jobs
-- Batch success for final stages: one statement (one commit) for many jobs, each guarded by its lease;
-- jobs missing from the result lost their lease and nothing changed for them. Their queue rows go; each job row
-- is written once.
WITH done AS (
    SELECT * FROM unnest(%(ids)s::uuid[], %(summaries)s::jsonb[], %(warnings)s::jsonb[]) AS d(id, summary, warnings)),
held AS (
    DELETE FROM job_queue q
     WHERE q.job_id = ANY(%(ids)s::uuid[]) AND q.locked_by = %(worker_id)s
 RETURNING q.job_id, q.stage, q.attempts, q.attempt_started_at),
job AS (
    UPDATE jobs j
       SET status = 'succeeded', attempts = h.attempts, cancel_requested = false, last_error = NULL,
           summary = coalesce(d.summary, j.summary), warnings = coalesce(d.warnings, j.warnings),
           started_at = coalesce(j.started_at, h.attempt_started_at), finished_at = now(), updated_at = now()
      FROM held h JOIN done d ON d.id = h.job_id
     WHERE j.id = h.job_id
 RETURNING j.id, j.status, j.stage),
attempt AS (
    INSERT INTO job_attempts (job_id, stage, attempt, worker_id, started_at, finished_at, outcome)
    SELECT job_id, stage, attempts, %(worker_id)s, coalesce(attempt_started_at, now()), now(), 'succeeded'
      FROM held)
SELECT id, status, stage,
       pg_notify('studio_job_events', json_build_object('id', id, 'status', status, 'stage', stage)::text)
  FROM job;

-- name: replace_artifact
-- A stage that runs again (retry, rescue) replaces its files: never two copies of one artifact.
INSERT INTO artifacts (job_id, name, stage, content_type, size_bytes, sha256, data)
VALUES (%(job_id)s, %(name)s, %(stage)s, %(content_type)s, %(size_bytes)s, %(sha256)s, %(data)s)
ON CONFLICT (job_id, name) DO UPDATE
   SET stage = excluded.stage, content_type = excluded.content_type, size_bytes = excluded.size_bytes,
       sha256 = excluded.sha256, data = excluded.data, created_at = now();

-- name: list_stage_files
-- The files an earlier stage produced (the PDF stage reuses the CAD stage's drawings).
SELECT name, content_type, data
  FROM artifacts
 WHERE job_id = %(id)s AND stage = %(stage)s
 ORDER BY name;

-- name: queue_statistics_stale
-- A burst of jobs into a queue whose statistics say it is (nearly) empty. Planned on those, a claim scans and sorts
-- every queued row (10 ms a claim at 30,000 queued, against 0.2 ms) until autovacuum analyzes the table, a minute
-- later at best. True when the live rows have outgrown the statistics: housekeeping then runs analyze_queue.
SELECT coalesce(s.n_live_tup > 1000 AND s.n_live_tup > 2 * greatest(c.reltuples, 0), false) AS stale
  FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
 WHERE c.oid = 'job_queue'::regclass;

-- name: analyze_queue
-- SKIP_LOCKED: another worker's housekeeping (or autovacuum) analyzing it now is as good.
ANALYZE (SKIP_LOCKED) job_queue;

-- name: rescue_jobs
-- Jobs whose lease expired belong to dead workers: requeue them, or fail them once their attempts are spent.
-- It scans job_queue (queued and running jobs only): no index on the lease, so heartbeats update in place (HOT).
WITH expired AS (
    SELECT job_id, stage, attempts, locked_by, attempt_started_at FROM job_queue
     WHERE locked_until < now()
       FOR UPDATE SKIP LOCKED),
job AS (
    UPDATE jobs j
       SET status = CASE WHEN e.attempts >= j.max_attempts THEN 'failed' ELSE 'queued' END,
           attempts = e.attempts,
           last_error = format('worker %%s stopped during the %%s stage (lease expired)', e.locked_by, e.stage),
           run_after = now(), started_at = coalesce(j.started_at, e.attempt_started_at), updated_at = now(),
           finished_at = CASE WHEN e.attempts >= j.max_attempts THEN now() END
      FROM expired e
     WHERE j.id = e.job_id
 RETURNING j.id, j.status, j.stage, j.last_error),
requeued AS (
    UPDATE job_queue q
       SET locked_by = NULL, locked_until = NULL, attempt_started_at = NULL, run_after = now()
      FROM job
     WHERE q.job_id = job.id AND job.status = 'queued'),
failed AS (
    DELETE FROM job_queue q USING job WHERE q.job_id = job.id AND job.status <> 'queued'),
attempt AS (
    INSERT INTO job_attempts (job_id, stage, attempt, worker_id, started_at, finished_at, outcome, error)
    SELECT e.job_id, e.stage, e.attempts, e.locked_by, coalesce(e.attempt_started_at, now()), now(), 'lost',
           job.last_error
      FROM expired e JOIN job ON job.id = e.job_id)
SELECT job.id, job.status, job.stage, e.locked_by,
       pg_notify('studio_job_events', json_build_object('id', job.id, 'status', job.status, 'stage', job.stage)::text),
       pg_notify('studio_jobs', '')
  FROM job JOIN expired e ON e.job_id = job.id;

-- name: get_job
-- One job for the API; `owner` NULL means no owner scoping (auth off, or an operator). A job is `running` while
-- its queue row holds a lease; attempts and the running attempt's start are on that row until the stage ends.
SELECT j.id, CASE WHEN q.locked_by IS NOT NULL THEN 'running' ELSE j.status END AS status, j.stage, j.job_ref,
       j.spec, j.priority, j.run_after, coalesce(q.attempts, j.attempts) AS attempts, j.max_attempts, j.summary,
       j.warnings, j.last_error, j.cancel_requested, j.created_at,
       greatest(j.updated_at, q.attempt_started_at) AS updated_at,
       coalesce(j.started_at, q.attempt_started_at) AS started_at, j.finished_at
  FROM jobs j LEFT JOIN job_queue q ON q.job_id = j.id
 WHERE j.id = %(id)s AND (%(owner)s::text IS NULL OR j.owner = %(owner)s);

-- name: list_job_attempts
-- Each attempt's timing and error, oldest first: the finished ones, then the one running now (its queue row).
SELECT stage, attempt, worker_id, started_at, finished_at, outcome, error
  FROM (SELECT id AS seq, stage, attempt, worker_id, started_at, finished_at, outcome, error
          FROM job_attempts
         WHERE job_id = %(id)s
        UNION ALL
        SELECT NULL, stage, attempts, locked_by, attempt_started_at, NULL, NULL, NULL
          FROM job_queue
         WHERE job_id = %(id)s AND locked_by IS NOT NULL AND attempt_started_at IS NOT NULL) a
 ORDER BY seq NULLS LAST;

-- name: list_artifacts
-- Artifact metadata without the bytes.
SELECT name, stage, content_type, size_bytes, sha256, created_at
  FROM artifacts
 WHERE job_id = %(id)s
 ORDER BY name;

-- name: get_artifact
-- One artifact's bytes, scoped by the job's owner.
SELECT a.name, a.content_type, a.size_bytes, a.sha256, a.data
  FROM artifacts a JOIN jobs j ON j.id = a.job_id
 WHERE a.job_id = %(id)s AND a.name = %(name)s AND (%(owner)s::text IS NULL OR j.owner = %(owner)s);

-- name: list_jobs
-- Newest first, keyset pagination on (created_at, id) so pages stay stable while jobs arrive.
SELECT j.id, CASE WHEN q.locked_by IS NOT NULL THEN 'running' ELSE j.status END AS status, j.stage, j.job_ref,
       coalesce(q.attempts, j.attempts) AS attempts, j.last_error, j.created_at,
       greatest(j.updated_at, q.attempt_started_at) AS updated_at, j.finished_at
  FROM jobs j LEFT JOIN job_queue q ON q.job_id = j.id
 WHERE (%(owner)s::text IS NULL OR j.owner = %(owner)s)
   AND (%(status)s::text IS NULL OR CASE WHEN q.locked_by IS NOT NULL THEN 'running' ELSE j.status END = %(status)s)
   AND (%(before_created_at)s::timestamptz IS NULL
        OR (j.created_at, j.id) < (%(before_created_at)s, %(before_id)s::uuid))
 ORDER BY j.created_at DESC, j.id DESC
 LIMIT %(limit)s;

-- name: cancel_job
-- Queued jobs cancel at once; running ones are asked to stop at the next stage boundary. The queue row is
-- locked first, so a claim racing this either comes before (the job is running) or finds no row.
WITH held AS (
    SELECT locked_by FROM job_queue WHERE job_id = %(id)s FOR UPDATE),
job AS (
    UPDATE jobs j
       SET status = CASE WHEN h.locked_by IS NULL THEN 'cancelled' ELSE j.status END,
           cancel_requested = (h.locked_by IS NOT NULL),
           finished_at = CASE WHEN h.locked_by IS NULL THEN now() ELSE j.finished_at END,
           updated_at = now()
      FROM (SELECT) one LEFT JOIN held h ON true
     WHERE j.id = %(id)s AND j.status = 'queued' AND (%(owner)s::text IS NULL OR j.owner = %(owner)s)
 RETURNING j.id, CASE WHEN h.locked_by IS NOT NULL THEN 'running' ELSE j.status END AS status, j.stage),
dequeued AS (
    DELETE FROM job_queue q USING job WHERE q.job_id = job.id AND job.status = 'cancelled')
SELECT id, status, stage,
       pg_notify('studio_job_events', json_build_object('id', id, 'status', status, 'stage', stage)::text)
  FROM job;

-- name: retry_job
-- A failed or cancelled job runs again from the stage it stopped in, with fresh attempts.
WITH job AS (
    UPDATE jobs
       SET status = 'queued', attempts = 0, run_after = now(), finished_at = NULL, cancel_requested = false,
           updated_at = now()
     WHERE id = %(id)s AND status IN ('failed', 'cancelled') AND (%(owner)s::text IS NULL OR owner = %(owner)s)
 RETURNING id, status, stage, priority, run_after),
queued AS (
    INSERT INTO job_queue (job_id, stage, priority, run_after)
    SELECT id, stage, priority, run_after FROM job)
SELECT id, status, stage,
       pg_notify('studio_job_events', json_build_object('id', id, 'status', status, 'stage', stage)::text),
       pg_notify('studio_jobs', '')
  FROM job;

-- name: delete_job
-- A job and (by cascade) its queue row, attempts and artifacts; a running job must be cancelled first. Its queue
-- row is locked first, so a claim racing this either comes before (the job is running) or finds no row.
WITH held AS (
    SELECT locked_by FROM job_queue WHERE job_id = %(id)s FOR UPDATE)
DELETE FROM jobs
 WHERE id = %(id)s AND NOT EXISTS (SELECT FROM held WHERE locked_by IS NOT NULL)
   AND (%(owner)s::text IS NULL OR owner = %(owner)s)
RETURNING id;

-- name: job_exists
-- Tells 404 (no such job) from 409 (a job in the wrong state) for cancel, retry and delete.
SELECT CASE WHEN q.locked_by IS NOT NULL THEN 'running' ELSE j.status END AS status
  FROM jobs j LEFT JOIN job_queue q ON q.job_id = j.id
 WHERE j.id = %(id)s AND (%(owner)s::text IS NULL OR j.owner = %(owner)s);

-- name: prune_jobs
-- Retention: finished jobs older than the retention period go, with their artifacts.
DELETE FROM jobs
 WHERE id IN (SELECT id FROM jobs
               WHERE status IN ('succeeded', 'failed', 'cancelled')
                 AND finished_at < now() - %(days)s * interval '1 day'
               LIMIT %(limit)s)
RETURNING id;

-- name: queue_stats
-- Depth by status and stage, and the age of the oldest runnable job.
SELECT s.status, s.stage, count(*) AS jobs,
       extract(epoch FROM now() - min(s.run_after) FILTER (WHERE s.status = 'queued' AND s.run_after <= now()))::float8
           AS oldest_s
  FROM (SELECT CASE WHEN q.locked_by IS NOT NULL THEN 'running' ELSE j.status END AS status, j.stage, j.run_after
          FROM jobs j LEFT JOIN job_queue q ON q.job_id = j.id) s
 GROUP BY s.status, s.stage
 ORDER BY s.status, s.stage;

-- name: ping
-- Health check: the database answers.
SELECT 1 AS ok;

-- name: list_cutout_prices
-- Cutout prices by type.
SELECT type, description, price_each::text AS price_each FROM catalogue_cutouts ORDER BY type;

-- name: stage_duration_buckets
-- Stage attempt durations grouped into histogram buckets (upper bounds, seconds) for /metrics.
SELECT stage, outcome,
       width_bucket(extract(epoch FROM finished_at - started_at)::float8, %(bounds)s::float8[]) AS bucket,
       count(*) AS attempts, sum(extract(epoch FROM finished_at - started_at))::float8 AS total_s
  FROM job_attempts
 WHERE finished_at IS NOT NULL
 GROUP BY 1, 2, 3;

-- name: throughput
-- Jobs finished per status in the last `minutes` minutes.
SELECT status, count(*) AS jobs
  FROM jobs
 WHERE finished_at > now() - make_interval(mins => %(minutes)s)
 GROUP BY status;

-- name: count_active_jobs
-- Queued and running jobs of one owner (NULL: the jobs submitted without auth), for the per-owner cap. Active
-- jobs are the rows of job_queue, few next to the finished jobs.
SELECT count(*) AS jobs
  FROM job_queue q JOIN jobs j ON j.id = q.job_id
 WHERE j.owner IS NOT DISTINCT FROM %(owner)s::text;

-- name: get_catalogue
-- Every price list, by currency, as one JSON document shaped like engine.pricing.Catalogue (money as text:
-- exact); NULL when the shop has none.
SELECT json_build_object(
           'default_currency', (SELECT currency FROM price_lists WHERE is_default),
           'price_lists', json_object_agg(l.currency, json_strip_nulls(json_build_object(
               'currency', l.currency,
               'area_unit', l.area_unit,
               'length_unit', l.length_unit,
               'tax', l.tax,
               'tax_rate', l.tax_rate::text,
               'prices_include_tax', l.prices_include_tax,
               'measure_rounding', l.measure_rounding::text,
               'measure_rounding_unit', l.measure_rounding_unit,
               'fabrication_per_area', l.fabrication_per_area::text,
               'drip_groove_per_length', l.drip_groove_per_length::text,
               'materials', (SELECT coalesce(json_object_agg(i.name, json_strip_nulls(json_build_object(
                                        'price_per_area', i.price::text, 'price_per_slab', i.price_per_slab::text))),
                                    '{}')
                               FROM price_list_items i WHERE i.currency = l.currency AND i.kind = 'material'),
               'finish_per_area', (SELECT coalesce(json_object_agg(i.name, i.price::text), '{}')
                                     FROM price_list_items i WHERE i.currency = l.currency AND i.kind = 'finish'),
               'edge_per_length', (SELECT coalesce(json_object_agg(i.name, i.price::text), '{}')
                                     FROM price_list_items i
                                    WHERE i.currency = l.currency AND i.kind = 'edge_profile'),
               'cutout_each', (SELECT coalesce(json_object_agg(i.name, i.price::text), '{}')
                                 FROM price_list_items i WHERE i.currency = l.currency AND i.kind = 'cutout'),
               'cutout_edge_per_length', (SELECT coalesce(json_object_agg(i.name, i.price::text), '{}')
                                            FROM price_list_items i
                                           WHERE i.currency = l.currency AND i.kind = 'cutout_edge')))))::text
           AS catalogue
  FROM price_lists l
HAVING count(*) > 0;

-- name: list_catalogue_materials
-- Materials with their stable id and swatch, in id order (the web app preselects the first): the fields the
-- frontend's pickers read (density in g/cm³, price per m²) beside Studio's own.
SELECT id, name, type, density_kg_m3::float8 AS density_kg_m3, thicknesses_mm::float8[] AS thicknesses_mm,
       price_per_m2::text AS price_per_m2, price_per_slab::text AS price_per_slab,
       (density_kg_m3 / 1000)::float8 AS density, coalesce(price_per_m2, 0)::float8 AS cost_sqm, texture, color
  FROM catalogue_materials ORDER BY id;

-- name: list_catalogue_finishes
-- Surface finishes with their id, in id order.
SELECT id, name, description, surcharge_per_m2::text AS surcharge_per_m2, surcharge_per_m2::float8 AS cost_sqm
  FROM catalogue_finishes ORDER BY id;

-- name: list_catalogue_edge_profiles
-- Edge profiles with their id, in id order.
SELECT id, name, description, price_per_m::text AS price_per_m, price_per_m::float8 AS cost_m
  FROM catalogue_edge_profiles ORDER BY id;

-- name: catalogue_names_by_id
-- The names behind the ids a client sent (POST /api/pricing/calculate names items by id); NULL when unknown.
SELECT (SELECT name FROM catalogue_materials WHERE id = %(material_id)s) AS material,
       (SELECT name FROM catalogue_finishes WHERE id = %(finish_id)s) AS finish,
       (SELECT name FROM catalogue_edge_profiles WHERE id = %(profile_id)s) AS profile;

-- ---- the slab yard (pipeline/yard.py, yard_store.py, api/slabs.py) ------------------------------------------------
-- `owner` NULL means no owner scoping (auth off, or an operator), as for jobs.

-- name: insert_slab
-- A slab or remnant into the yard, on hand; a code already on a live slab of the owner is a conflict (no row).
INSERT INTO slabs (code, owner, material_name, material_type, thickness, length, width, units, kind, defects, notes)
VALUES (%(code)s, %(owner)s, %(material_name)s, %(material_type)s, %(thickness)s, %(length)s, %(width)s, %(units)s,
        %(kind)s, %(defects)s, %(notes)s)
ON CONFLICT (coalesce(owner, ''), code) WHERE status <> 'consumed' DO NOTHING
RETURNING *, false AS has_photo;

-- name: list_slabs
-- The yard newest first, keyset pagination on (created_at, id) as for jobs; filters are optional.
SELECT s.*, EXISTS (SELECT 1 FROM slab_photos p WHERE p.slab_id = s.id) AS has_photo
  FROM slabs s
 WHERE (%(owner)s::text IS NULL OR s.owner = %(owner)s)
   AND (%(status)s::text IS NULL OR s.status = %(status)s)
   AND (%(kind)s::text IS NULL OR s.kind = %(kind)s)
   AND (%(material)s::text IS NULL OR lower(s.material_name) = lower(%(material)s))
   AND (%(before_created_at)s::timestamptz IS NULL
        OR (s.created_at, s.id) < (%(before_created_at)s, %(before_id)s::uuid))
 ORDER BY s.created_at DESC, s.id DESC
 LIMIT %(limit)s;

-- name: get_slab
-- One slab for the API.
SELECT s.*, EXISTS (SELECT 1 FROM slab_photos p WHERE p.slab_id = s.id) AS has_photo
  FROM slabs s
 WHERE s.id = %(id)s AND (%(owner)s::text IS NULL OR s.owner = %(owner)s);

-- name: update_slab
-- A correction to an on-hand slab (fields left NULL stay), or on_hand -> consumed (cut or broken outside Studio).
-- No row: no such slab, or it is not on hand (the caller tells which); a code taken raises unique_violation.
UPDATE slabs s
   SET code = coalesce(%(code)s, code), material_name = coalesce(%(material_name)s, material_name),
       material_type = coalesce(%(material_type)s, material_type), thickness = coalesce(%(thickness)s, thickness),
       length = coalesce(%(length)s, length), width = coalesce(%(width)s, width), units = coalesce(%(units)s, units),
       kind = coalesce(%(kind)s, kind), defects = coalesce(%(defects)s, defects), notes = coalesce(%(notes)s, notes),
       status = coalesce(%(status)s, status), updated_at = now()
 WHERE s.id = %(id)s AND s.status = 'on_hand' AND (%(owner)s::text IS NULL OR s.owner = %(owner)s)
RETURNING s.*, EXISTS (SELECT 1 FROM slab_photos p WHERE p.slab_id = s.id) AS has_photo;

-- name: delete_slab
-- A slab leaves the yard (and its photo, by cascade); an allocated one must be released by its job first.
DELETE FROM slabs
 WHERE id = %(id)s AND status <> 'allocated' AND (%(owner)s::text IS NULL OR owner = %(owner)s)
RETURNING id;

-- name: put_slab_photo
-- The slab's photo, replacing the one before.
INSERT INTO slab_photos (slab_id, content_type, size_bytes, sha256, data)
SELECT id, %(content_type)s, %(size_bytes)s, %(sha256)s, %(data)s
  FROM slabs
 WHERE id = %(id)s AND (%(owner)s::text IS NULL OR owner = %(owner)s)
ON CONFLICT (slab_id) DO UPDATE
   SET content_type = excluded.content_type, size_bytes = excluded.size_bytes, sha256 = excluded.sha256,
       data = excluded.data, created_at = now()
RETURNING slab_id, content_type, size_bytes, sha256;

-- name: get_slab_photo
-- The photo's bytes, scoped by the slab's owner.
SELECT p.content_type, p.size_bytes, p.sha256, p.data
  FROM slab_photos p JOIN slabs s ON s.id = p.slab_id
 WHERE p.slab_id = %(id)s AND (%(owner)s::text IS NULL OR s.owner = %(owner)s);

-- name: list_stock_slabs
-- What an inventory job is nested on: the on-hand slabs of its owner's yard in its material (by name) and
-- thickness (within 0.5 mm), remnants first and the smallest first (offcuts get used up): at most `remnants`
-- remnants and `full` full slabs, so a yard full of offcuts still offers its full slabs.
SELECT id, code, length, width, units, kind, defects
  FROM (SELECT s.*, row_number() OVER (PARTITION BY s.kind ORDER BY s.length * s.width
                                           * CASE s.units WHEN 'in' THEN 645.16 ELSE 1 END, s.code) AS n
          FROM slabs s
         WHERE s.status = 'on_hand'
           AND coalesce(s.owner, '') = coalesce((SELECT owner FROM jobs WHERE id = %(job_id)s), '')
           AND lower(s.material_name) = lower(%(material)s)
           AND abs(s.thickness * CASE s.units WHEN 'in' THEN 25.4 ELSE 1 END - %(thickness_mm)s) <= 0.5) s
 WHERE n <= CASE kind WHEN 'remnant' THEN %(remnants)s ELSE %(full)s END
 ORDER BY kind = 'full', n;

-- name: allocate_slabs
-- A finished CAD stage takes the slabs it was nested on, in the transaction that records its result. SKIP LOCKED:
-- a slab another job is taking right now counts as gone, never waited on; fewer rows than asked means another
-- job took one, and the caller rolls back and nests again on what is left.
UPDATE slabs
   SET status = 'allocated', allocated_to = %(job_id)s, updated_at = now()
 WHERE id IN (SELECT id FROM slabs
               WHERE id = ANY(%(ids)s) AND status = 'on_hand'
                 FOR UPDATE SKIP LOCKED)
RETURNING id, code;

-- name: lock_job_for_confirm
-- The job being confirmed, locked so two confirmations of it run one after the other (`running` while its queue
-- row holds a lease).
SELECT id, CASE WHEN EXISTS (SELECT FROM job_queue q WHERE q.job_id = jobs.id AND q.locked_by IS NOT NULL)
                THEN 'running' ELSE status END AS status,
       owner, summary, jsonb_typeof(spec->'slab_stock') = 'string' AS from_inventory
  FROM jobs
 WHERE id = %(id)s AND (%(owner)s::text IS NULL OR owner = %(owner)s)
   FOR UPDATE;

-- name: consume_slabs
-- Confirmation: the job's slabs are cut. It holds them (allocated to it), or they went back on hand when it
-- failed and it was retried since; a slab consumed or held by another job is missing from the result.
UPDATE slabs
   SET status = 'consumed', allocated_to = %(job_id)s, updated_at = now()
 WHERE id IN (SELECT id FROM slabs
               WHERE coalesce(owner, '') = coalesce(%(owner)s, '') AND code = ANY(%(codes)s)
                 AND (status = 'on_hand' OR (status = 'allocated' AND allocated_to = %(job_id)s))
                 FOR UPDATE)
RETURNING id, code, units;

-- name: count_consumed_by
-- A confirmation already made: the slabs this job consumed.
SELECT count(*) AS slabs FROM slabs WHERE allocated_to = %(job_id)s AND status = 'consumed';

-- name: insert_remnants
-- The usable offcuts of a confirmed job, on hand as remnants of their slab (its material, thickness and units).
-- The code is the slab's with -R1, -R2...; a code already live in the yard gets a short suffix of the new id.
INSERT INTO slabs (id, code, owner, material_name, material_type, thickness, length, width, units, kind, parent_id)
SELECT r.id,
       CASE WHEN EXISTS (SELECT 1 FROM slabs x WHERE coalesce(x.owner, '') = coalesce(%(owner)s, '')
                                                 AND x.code = r.code AND x.status <> 'consumed')
            THEN left(r.code, 55) || '-' || left(r.id::text, 8) ELSE r.code END,
       %(owner)s, p.material_name, p.material_type, p.thickness, r.length, r.width, p.units, 'remnant', p.id
  FROM jsonb_to_recordset(%(remnants)s) AS r(id uuid, parent uuid, code text, length float8, width float8)
  JOIN slabs p ON p.id = r.parent
RETURNING *, false AS has_photo;
