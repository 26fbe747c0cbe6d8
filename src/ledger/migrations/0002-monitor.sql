-- Resource monitor. Times are milliseconds since the epoch. Raw samples are kept for
-- monitor.raw_retention_days; hourly rollups are kept for ever, so the quiet-hours profile keeps
-- its history after the raw rows are pruned.

-- One row per sample of the host. ts is the key: a second sample (an import of the same history)
-- at the same instant replaces the first rather than doubling it.
CREATE TABLE monitor_samples (
  ts INTEGER PRIMARY KEY,
  cpu_pct REAL,
  ram_pct REAL,
  ram_used_mb REAL,
  disk_read_bps REAL,
  disk_write_bps REAL,
  -- 1 when a person was at work during the sample's interval, 0 when not, NULL when unknown
  user_active INTEGER CHECK (user_active IN (0, 1)),
  -- the latest user activity known at sampling time (gateway or logind), NULL when none
  last_active_at INTEGER,
  source TEXT NOT NULL DEFAULT 'sampler' CHECK (source IN ('sampler', 'import'))
) STRICT;

-- One row per GPU per sample. vendor: nvidia | amd.
CREATE TABLE monitor_gpu_samples (
  ts INTEGER NOT NULL REFERENCES monitor_samples (ts) ON DELETE CASCADE,
  gpu INTEGER NOT NULL,
  vendor TEXT,
  util_pct REAL,
  mem_used_mb REAL,
  mem_total_mb REAL,
  power_w REAL,
  temp_c REAL,
  PRIMARY KEY (ts, gpu)
) STRICT, WITHOUT ROWID;

-- Hourly rollups: one row per hour (start, ms), metric and GPU (-1 for host metrics). The
-- 'idle' metric is the fraction of the hour's samples that passed the idle thresholds, which is
-- what the quiet-hours learner reads once the raw rows are gone.
CREATE TABLE monitor_rollups (
  hour INTEGER NOT NULL,
  metric TEXT NOT NULL,
  gpu INTEGER NOT NULL DEFAULT -1,
  samples INTEGER NOT NULL,
  avg REAL,
  max REAL,
  p95 REAL,
  PRIMARY KEY (hour, metric, gpu)
) STRICT, WITHOUT ROWID;

-- "When was the user last active?" is asked by every idle-gate check and every hour's rollup;
-- these keep it a lookup instead of a scan of months of samples.
CREATE INDEX monitor_samples_active ON monitor_samples (ts) WHERE user_active = 1;
CREATE INDEX monitor_samples_last_active ON monitor_samples (ts) WHERE last_active_at IS NOT NULL;
-- Covering for the quiet-hours learner, which reads one metric's averages across all history.
CREATE INDEX monitor_rollups_metric ON monitor_rollups (metric, gpu, hour, avg);
