-- The night-shift audit on PostgreSQL: the same tables and columns as SQLite's 0006-audit.sql
-- (+ 0107-audit-claims.sql), so a run reads back the same from either engine. Times are ms since
-- the epoch; bodies are JSON text. Ids sort bytewise (COLLATE "C") as in SQLite.
CREATE TABLE audit_runs (
  id text COLLATE "C" PRIMARY KEY,
  seed text NOT NULL,
  trace_id text COLLATE "C" NOT NULL,
  mode text NOT NULL CHECK (mode IN ('normal', 'degraded')),
  reviewer_role text NOT NULL,
  reviewer_model text NOT NULL,
  window_start bigint NOT NULL,
  window_end bigint NOT NULL,
  sample_rate double precision NOT NULL,
  status text NOT NULL CHECK (status IN ('running', 'paused', 'done', 'failed')),
  batches integer NOT NULL,
  next_batch integer NOT NULL DEFAULT 0,
  started_at bigint NOT NULL,
  finished_at bigint,
  passed integer,
  error text,
  -- the claim: a token per process attempt, its host, and its last sign of life
  owner text,
  host text,
  heartbeat_at bigint
);

CREATE INDEX audit_runs_status ON audit_runs (status, started_at);
-- One audit run at a time across every daemon sharing this database: a second running row
-- cannot exist, whatever a claimant's code does.
CREATE UNIQUE INDEX audit_runs_one_running ON audit_runs (status) WHERE status = 'running';

CREATE TABLE audit_items (
  run_id text COLLATE "C" NOT NULL REFERENCES audit_runs (id),
  action_id text COLLATE "C" NOT NULL,
  agent text NOT NULL,
  reason text NOT NULL,
  batch integer NOT NULL,
  started_at bigint NOT NULL,
  confidence_before double precision,
  verdict text CHECK (verdict IN ('correct', 'incorrect', 'unsure')),
  corrected_output text,
  reasoning text,
  confidence double precision,
  outcome text,
  pattern text,
  pattern_written integer NOT NULL DEFAULT 0,
  review_item_id text,
  reviewed_at bigint,
  PRIMARY KEY (run_id, action_id)
);

CREATE INDEX audit_items_batch ON audit_items (run_id, batch);
CREATE INDEX audit_items_action ON audit_items (action_id);
CREATE INDEX audit_items_reviewed ON audit_items (started_at) WHERE verdict IS NOT NULL;

-- Never pruned: retention keeps every correction whatever its age.
CREATE TABLE corrections (
  id text COLLATE "C" PRIMARY KEY,
  run_id text COLLATE "C",
  action_id text COLLATE "C" NOT NULL,
  agent text NOT NULL,
  source text NOT NULL CHECK (source IN ('audit', 'person')),
  original text,
  corrected text,
  reasoning text,
  reviewer_model text,
  confidence_before double precision,
  confidence_after double precision,
  created_at bigint NOT NULL,
  applied_at bigint,
  apply_note text,
  apply_error text,
  UNIQUE (run_id, action_id)
);

CREATE INDEX corrections_action ON corrections (action_id);
CREATE INDEX corrections_pending ON corrections (created_at) WHERE applied_at IS NULL;

CREATE TABLE insights (
  id text COLLATE "C" PRIMARY KEY,
  run_id text COLLATE "C" NOT NULL REFERENCES audit_runs (id),
  batch integer NOT NULL,
  action_ids text NOT NULL,
  agents text NOT NULL,
  description text NOT NULL,
  confidence double precision NOT NULL,
  created_at bigint NOT NULL,
  UNIQUE (run_id, batch, description)
);

CREATE INDEX insights_run ON insights (run_id);
