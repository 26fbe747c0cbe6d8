-- Retention: what a compressed action keeps in place of its bodies, the per-day aggregates that
-- replace old rows, and a record of each prune run. Times are ms since the epoch.

-- Compressed rows keep a short summary of input and output and the sha256 of each full body, so
-- a body kept elsewhere (an export, a backup) can still be matched to its action.
ALTER TABLE actions ADD COLUMN request_summary TEXT;
ALTER TABLE actions ADD COLUMN response_summary TEXT;
ALTER TABLE actions ADD COLUMN request_sha256 TEXT;
ALTER TABLE actions ADD COLUMN response_sha256 TEXT;
ALTER TABLE actions ADD COLUMN reasoning_sha256 TEXT;
ALTER TABLE actions ADD COLUMN compressed_at INTEGER;
-- Set when the row was counted into action_aggregates but kept, because a correction, a
-- person's ruling or an open review item refers to it; such a row is never counted again.
ALTER TABLE actions ADD COLUMN aggregated_at INTEGER;

-- One row per UTC day x agent x action_type. Every statistic is a sum, a count, a min or a max,
-- so a later batch for the same day merges in exactly (averages and deviations are derived).
CREATE TABLE action_aggregates (
  day TEXT NOT NULL,
  agent TEXT NOT NULL,
  action_type TEXT NOT NULL,
  count INTEGER NOT NULL,
  error_count INTEGER NOT NULL,
  corrected_count INTEGER NOT NULL,
  flagged_count INTEGER NOT NULL,
  -- rows aggregated without an audit verdict, only ever under retention.hard_cap_days
  unaudited_count INTEGER NOT NULL,
  confidence_count INTEGER NOT NULL,
  confidence_min REAL,
  confidence_max REAL,
  confidence_sum REAL NOT NULL,
  confidence_sum_sq REAL NOT NULL,
  tokens_in INTEGER NOT NULL,
  tokens_out INTEGER NOT NULL,
  latency_count INTEGER NOT NULL,
  latency_min REAL,
  latency_max REAL,
  latency_sum REAL NOT NULL,
  latency_sum_sq REAL NOT NULL,
  first_started_at INTEGER NOT NULL,
  last_started_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (day, agent, action_type)
) STRICT;

CREATE INDEX action_aggregates_agent ON action_aggregates (agent, day);

CREATE TABLE prune_runs (
  id TEXT PRIMARY KEY,
  -- cli | job
  trigger TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'done', 'paused', 'failed', 'interrupted')),
  pid INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER,
  size_before INTEGER NOT NULL,
  size_after INTEGER,
  -- JSON: the run's report (rows moved per tier, rows kept and why, vacuum)
  report TEXT,
  error TEXT
) STRICT;

CREATE INDEX prune_runs_started ON prune_runs (started_at);
