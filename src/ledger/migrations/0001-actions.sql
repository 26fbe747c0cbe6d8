-- The unified action log: one row per logged step (a gateway call, a runtime stage or attempt,
-- a job's step). Times are milliseconds since the epoch; bodies are JSON text.
CREATE TABLE actions (
  id TEXT PRIMARY KEY,
  trace_id TEXT NOT NULL,
  parent_id TEXT,
  agent TEXT NOT NULL,
  action_type TEXT NOT NULL,
  model TEXT,
  upstream TEXT,
  gpu INTEGER,
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  latency_ms REAL,
  status TEXT NOT NULL CHECK (status IN ('ok', 'error')),
  error TEXT,
  request TEXT,
  response TEXT,
  reasoning TEXT,
  confidence REAL,
  flags TEXT NOT NULL DEFAULT '[]',
  tokens_in INTEGER,
  tokens_out INTEGER,
  load_duration INTEGER,
  prompt_eval_duration INTEGER,
  eval_duration INTEGER,
  total_duration INTEGER,
  -- sha256 of the stage's canonical input, so an agent can find its earlier work on the same input
  input_key TEXT,
  -- component-specific details (checks run, confidence derivation, attempt number), JSON
  meta TEXT,
  -- NULL until an audit run covers it: verified | corrected | in_review | ruled | passed
  audit_status TEXT,
  -- retention tier: detailed rows keep bodies; compressed rows keep summaries and hashes
  tier TEXT NOT NULL DEFAULT 'detailed' CHECK (tier IN ('detailed', 'compressed'))
) STRICT;

CREATE INDEX actions_started ON actions (started_at);
CREATE INDEX actions_agent_started ON actions (agent, started_at);
CREATE INDEX actions_trace ON actions (trace_id);
CREATE INDEX actions_parent ON actions (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX actions_input_key ON actions (input_key) WHERE input_key IS NOT NULL;
CREATE INDEX actions_audit_status ON actions (audit_status, started_at);

-- Flags as rows, so "all actions with flag X since T" is one index range scan.
CREATE TABLE action_flags (
  flag TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  action_id TEXT NOT NULL,
  PRIMARY KEY (flag, started_at, action_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX action_flags_action ON action_flags (action_id);
