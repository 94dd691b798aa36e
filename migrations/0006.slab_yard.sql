-- The slab yard: the slabs and remnants a shop holds, so a job with `"slab_stock": "inventory"` is nested on them.
-- A slab is on_hand, allocated to one job (its CAD stage chose it; the job holds it until confirmed) or consumed
-- (cut). Sizes are in the slab's own units; defect zones (cracks, fissures, pits) are rectangles or polygons in
-- slab coordinates that no piece may cover. The photo lives in its own table so listing slabs never reads it.
-- depends: 0005.price_lists

CREATE TABLE slabs (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    code           text NOT NULL CHECK (length(code) BETWEEN 1 AND 64),  -- what the shop writes on the slab
    owner          text,                                                  -- the token's `sub`, as jobs have it
    material_name  text NOT NULL,
    material_type  text,
    thickness      double precision NOT NULL CHECK (thickness > 0),
    length         double precision NOT NULL CHECK (length > 0),
    width          double precision NOT NULL CHECK (width > 0),
    units          text NOT NULL DEFAULT 'mm' CHECK (units IN ('mm', 'in')),
    kind           text NOT NULL DEFAULT 'full' CHECK (kind IN ('full', 'remnant')),
    status         text NOT NULL DEFAULT 'on_hand' CHECK (status IN ('on_hand', 'allocated', 'consumed')),
    defects        jsonb NOT NULL DEFAULT '[]',
    allocated_to   uuid REFERENCES jobs (id) ON DELETE SET NULL,  -- the job holding it (or that consumed it)
    parent_id      uuid REFERENCES slabs (id) ON DELETE SET NULL, -- a remnant's slab of origin
    notes          text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (status <> 'allocated' OR allocated_to IS NOT NULL)
);
-- One live slab per code and owner; a consumed slab's code may be used again.
CREATE UNIQUE INDEX slabs_code_idx ON slabs (coalesce(owner, ''), code) WHERE status <> 'consumed';
-- A job's stock: the on-hand slabs of one owner and material, remnants first.
CREATE INDEX slabs_stock_idx ON slabs (coalesce(owner, ''), lower(material_name), kind) WHERE status = 'on_hand';
CREATE INDEX slabs_allocated_idx ON slabs (allocated_to) WHERE allocated_to IS NOT NULL;
CREATE INDEX slabs_created_idx ON slabs (created_at DESC, id DESC);

CREATE TABLE slab_photos (
    slab_id      uuid PRIMARY KEY REFERENCES slabs (id) ON DELETE CASCADE,
    content_type text NOT NULL,
    size_bytes   integer NOT NULL,
    sha256       text NOT NULL,
    data         bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- A job that fails, is cancelled or is deleted gives its slabs back, on every path that ends it (the worker, the
-- API's cancel, the lease rescuer, retention) without each of those statements having to know about slabs. A
-- deleted job's FK sets allocated_to to NULL; this puts an allocated slab without a job back on hand.
CREATE FUNCTION slabs_release_orphans() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.allocated_to IS NULL AND NEW.status = 'allocated' THEN
        NEW.status := 'on_hand';
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER slabs_release_orphans BEFORE UPDATE OF allocated_to ON slabs
    FOR EACH ROW EXECUTE FUNCTION slabs_release_orphans();

CREATE FUNCTION jobs_release_slabs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE slabs SET allocated_to = NULL WHERE allocated_to = NEW.id AND status = 'allocated';
    RETURN NULL;
END $$;
-- Only a change into failed or cancelled runs the function: claims and heartbeats pay for the WHEN test alone.
CREATE TRIGGER jobs_release_slabs AFTER UPDATE OF status ON jobs
    FOR EACH ROW WHEN (NEW.status IN ('failed', 'cancelled') AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION jobs_release_slabs();
