-- Retention on PostgreSQL, as SQLite's 0007-retention.sql: what a compressed action keeps in place
-- of its bodies, the per-day aggregates that replace old rows, and a record of each prune run.
-- Times are milliseconds since the epoch. Adding columns without a default rewrites nothing.
ALTER TABLE actions
  ADD COLUMN request_summary text,
  ADD COLUMN response_summary text,
  ADD COLUMN request_sha256 text,
  ADD COLUMN response_sha256 text,
  ADD COLUMN reasoning_sha256 text,
  ADD COLUMN compressed_at bigint,
  -- Set when the row was counted into action_aggregates but kept, because a correction, a
  -- person's ruling or an open review item refers to it; such a row is never counted again.
  ADD COLUMN aggregated_at bigint;

-- One row per UTC day x agent x action_type; every statistic merges by sum, min or max.
-- COLLATE "C": listed in the same (bytewise) order as on SQLite, whatever the database's locale.
CREATE TABLE action_aggregates (
  day text COLLATE "C" NOT NULL,
  agent text COLLATE "C" NOT NULL,
  action_type text COLLATE "C" NOT NULL,
  count bigint NOT NULL,
  error_count bigint NOT NULL,
  corrected_count bigint NOT NULL,
  flagged_count bigint NOT NULL,
  unaudited_count bigint NOT NULL,
  confidence_count bigint NOT NULL,
  confidence_min double precision,
  confidence_max double precision,
  confidence_sum double precision NOT NULL,
  confidence_sum_sq double precision NOT NULL,
  tokens_in bigint NOT NULL,
  tokens_out bigint NOT NULL,
  latency_count bigint NOT NULL,
  latency_min double precision,
  latency_max double precision,
  latency_sum double precision NOT NULL,
  latency_sum_sq double precision NOT NULL,
  first_started_at bigint NOT NULL,
  last_started_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (day, agent, action_type)
);

CREATE INDEX action_aggregates_agent ON action_aggregates (agent, day);

-- host and pid say which daemon ran it: several machines share this ledger.
CREATE TABLE prune_runs (
  id text PRIMARY KEY,
  trigger text NOT NULL,
  status text NOT NULL CHECK (status IN ('running', 'done', 'paused', 'failed', 'interrupted')),
  host text NOT NULL,
  pid integer NOT NULL,
  started_at bigint NOT NULL,
  finished_at bigint,
  size_before bigint NOT NULL,
  size_after bigint,
  report text,
  error text
);

CREATE INDEX prune_runs_started ON prune_runs (started_at);
