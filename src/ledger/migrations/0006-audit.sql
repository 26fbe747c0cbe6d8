-- The night-shift audit: its runs, the items each run reviews, the corrections it (or a person)
-- made, and the cross-agent insights it noted. Times are ms since the epoch; bodies are JSON text.
CREATE TABLE audit_runs (
  id TEXT PRIMARY KEY,
  seed TEXT NOT NULL,
  -- every reviewer call of the run is an action in this trace (agent "auditor")
  trace_id TEXT NOT NULL,
  mode TEXT NOT NULL CHECK (mode IN ('normal', 'degraded')),
  reviewer_role TEXT NOT NULL,
  reviewer_model TEXT NOT NULL,
  window_start INTEGER NOT NULL,
  window_end INTEGER NOT NULL,
  sample_rate REAL NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'paused', 'done', 'failed')),
  batches INTEGER NOT NULL,
  next_batch INTEGER NOT NULL DEFAULT 0,
  started_at INTEGER NOT NULL,
  finished_at INTEGER,
  -- actions in the window marked audit_status = 'passed' when the run finished
  passed INTEGER,
  error TEXT
) STRICT;

CREATE INDEX audit_runs_status ON audit_runs (status, started_at);

-- One row per selected action. The verdict columns are written in the same transaction that
-- advances audit_runs.next_batch, so a killed run never reviews an item twice.
CREATE TABLE audit_items (
  run_id TEXT NOT NULL REFERENCES audit_runs (id),
  action_id TEXT NOT NULL,
  agent TEXT NOT NULL,
  -- low_confidence | requires_audit | check_failed | error | sample
  reason TEXT NOT NULL,
  batch INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  -- the day agent's own confidence, for the calibration table
  confidence_before REAL,
  verdict TEXT CHECK (verdict IN ('correct', 'incorrect', 'unsure')),
  corrected_output TEXT,
  reasoning TEXT,
  confidence REAL,
  -- what the verdict led to: verified | corrected | in_review | ruled
  outcome TEXT,
  pattern TEXT,
  pattern_written INTEGER NOT NULL DEFAULT 0,
  review_item_id TEXT,
  reviewed_at INTEGER,
  PRIMARY KEY (run_id, action_id)
) STRICT;

CREATE INDEX audit_items_batch ON audit_items (run_id, batch);
CREATE INDEX audit_items_action ON audit_items (action_id);

-- Never pruned: retention keeps every correction whatever its age.
CREATE TABLE corrections (
  id TEXT PRIMARY KEY,
  -- NULL for a person's correction made outside an audit run
  run_id TEXT,
  action_id TEXT NOT NULL,
  agent TEXT NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('audit', 'person')),
  original TEXT,
  corrected TEXT,
  reasoning TEXT,
  reviewer_model TEXT,
  confidence_before REAL,
  confidence_after REAL,
  created_at INTEGER NOT NULL,
  -- NULL until the owning agent's handler ran; a resumed run applies what is still NULL
  applied_at INTEGER,
  apply_note TEXT,
  apply_error TEXT,
  UNIQUE (run_id, action_id)
) STRICT;

CREATE INDEX corrections_action ON corrections (action_id);
CREATE INDEX corrections_pending ON corrections (created_at) WHERE applied_at IS NULL;

CREATE TABLE insights (
  id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES audit_runs (id),
  batch INTEGER NOT NULL,
  action_ids TEXT NOT NULL,
  agents TEXT NOT NULL,
  description TEXT NOT NULL,
  confidence REAL NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (run_id, batch, description)
) STRICT;

CREATE INDEX insights_run ON insights (run_id);
