-- The resource monitor on PostgreSQL. Several machines share one ledger and each daemon samples
-- its own machine, so every row carries its host (monitor.host, else the machine's hostname) and
-- every key starts with it: two machines' samples at the same instant are two rows, and one
-- machine's rollups and quiet hours never mix with another's. Times are ms since the epoch.

-- One row per sample of a host; a second sample at the same (host, ts) replaces the first.
CREATE TABLE monitor_samples (
  host text NOT NULL,
  ts bigint NOT NULL,
  cpu_pct double precision,
  ram_pct double precision,
  ram_used_mb double precision,
  disk_read_bps double precision,
  disk_write_bps double precision,
  -- true when a person was at work during the sample's interval, NULL when unknown
  user_active boolean,
  -- the latest user activity known at sampling time (gateway or logind), NULL when none
  last_active_at bigint,
  source text NOT NULL DEFAULT 'sampler' CHECK (source IN ('sampler', 'import')),
  PRIMARY KEY (host, ts)
);

-- One row per GPU per sample. vendor: nvidia | amd.
CREATE TABLE monitor_gpu_samples (
  host text NOT NULL,
  ts bigint NOT NULL,
  gpu integer NOT NULL,
  vendor text,
  util_pct double precision,
  mem_used_mb double precision,
  mem_total_mb double precision,
  power_w double precision,
  temp_c double precision,
  PRIMARY KEY (host, ts, gpu),
  FOREIGN KEY (host, ts) REFERENCES monitor_samples (host, ts) ON DELETE CASCADE
);

-- Hourly rollups per host: one row per hour (start, ms), metric and GPU (-1 for host metrics),
-- kept for ever. The 'idle' metric's avg is the share of the hour's samples that were idle,
-- which is what the quiet-hours learner reads once the raw rows are gone.
CREATE TABLE monitor_rollups (
  host text NOT NULL,
  hour bigint NOT NULL,
  metric text NOT NULL,
  gpu integer NOT NULL DEFAULT -1,
  samples integer NOT NULL,
  avg double precision,
  max double precision,
  p95 double precision,
  PRIMARY KEY (host, hour, metric, gpu)
);

-- Each host's learned quiet-hours profile, relearned daily and read at every scheduler check.
CREATE TABLE monitor_quiet_hours (
  host text PRIMARY KEY,
  profile jsonb NOT NULL,
  learned_at bigint NOT NULL
);

-- "When was the user last active?" is asked by every idle-gate check and every hour's rollup;
-- these keep it an index lookup instead of a scan of months of samples.
CREATE INDEX monitor_samples_active ON monitor_samples (host, ts) WHERE user_active;
CREATE INDEX monitor_samples_last_active ON monitor_samples (host, ts)
  WHERE last_active_at IS NOT NULL;
-- Covering for the quiet-hours learner, which reads one metric's averages across all history.
CREATE INDEX monitor_rollups_metric ON monitor_rollups (host, metric, gpu, hour) INCLUDE (avg);
