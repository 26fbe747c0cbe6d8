-- The unified action log on PostgreSQL: the same columns as SQLite's 0001-actions.sql, so one
-- action reads back the same from either engine and `ledger migrate` can compare checksums.
-- Times are milliseconds since the epoch; bodies are JSON text (text, not jsonb: jsonb would
-- reorder keys and refuse the \u0000 escape that hostile bodies carry, and costs ingest speed).
-- Ids sort bytewise (COLLATE "C") as in SQLite, whatever the database's locale.
CREATE TABLE actions (
  id text COLLATE "C" PRIMARY KEY,
  trace_id text COLLATE "C" NOT NULL,
  parent_id text COLLATE "C",
  agent text NOT NULL,
  action_type text NOT NULL,
  model text,
  upstream text,
  gpu integer,
  started_at bigint NOT NULL,
  ended_at bigint,
  latency_ms double precision,
  status text NOT NULL CHECK (status IN ('ok', 'error')),
  error text,
  request text,
  response text,
  reasoning text,
  confidence double precision,
  flags text NOT NULL DEFAULT '[]',
  tokens_in bigint,
  tokens_out bigint,
  load_duration bigint,
  prompt_eval_duration bigint,
  eval_duration bigint,
  total_duration bigint,
  input_key text,
  meta text,
  audit_status text,
  tier text NOT NULL DEFAULT 'detailed' CHECK (tier IN ('detailed', 'compressed'))
);

CREATE INDEX actions_started ON actions (started_at);
CREATE INDEX actions_agent_started ON actions (agent, started_at);
CREATE INDEX actions_trace ON actions (trace_id);
CREATE INDEX actions_parent ON actions (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX actions_input_key ON actions (input_key) WHERE input_key IS NOT NULL;
CREATE INDEX actions_audit_status ON actions (audit_status, started_at);

-- Flags as rows, so "all actions with flag X since T" is one index range scan.
CREATE TABLE action_flags (
  flag text NOT NULL,
  started_at bigint NOT NULL,
  action_id text COLLATE "C" NOT NULL,
  PRIMARY KEY (flag, started_at, action_id)
);

CREATE INDEX action_flags_action ON action_flags (action_id);
