-- The scheduler's state: runs (with their checkpoints), every decision it made, GPU leases, and
-- per-job state that must survive a restart (how long a job has been due).

CREATE TABLE scheduler_runs (
  id            TEXT PRIMARY KEY,
  job           TEXT NOT NULL,
  mode          TEXT NOT NULL CHECK (mode IN ('normal', 'degraded')),
  -- running: a holder is working on it (heartbeat_at says it is alive); paused / interrupted:
  -- resumable from checkpoint; done / failed: finished.
  status        TEXT NOT NULL CHECK (status IN ('running', 'paused', 'interrupted', 'done', 'failed')),
  holder        TEXT,
  forced        INTEGER NOT NULL DEFAULT 0,
  attempts      INTEGER NOT NULL DEFAULT 1,
  started_at    INTEGER NOT NULL,
  heartbeat_at  INTEGER NOT NULL,
  finished_at   INTEGER,
  checkpoint    TEXT,
  checkpoint_at INTEGER,
  summary       TEXT,
  error         TEXT,
  last_log      TEXT
) STRICT;

CREATE INDEX scheduler_runs_job ON scheduler_runs (job, started_at DESC);
CREATE INDEX scheduler_runs_open ON scheduler_runs (status) WHERE status IN ('running', 'paused', 'interrupted');

CREATE TABLE scheduler_decisions (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  at        INTEGER NOT NULL,
  job       TEXT NOT NULL,
  run_id    TEXT,
  decision  TEXT NOT NULL CHECK (decision IN
              ('start', 'resume', 'pause', 'skip', 'degraded', 'done', 'fail', 'release', 'interrupted')),
  reason    TEXT NOT NULL,
  details   TEXT
) STRICT;

CREATE INDEX scheduler_decisions_job ON scheduler_decisions (job, at DESC);

-- One row per GPU ever leased. A lease is held while expires_at > now; the holder renews it
-- (heartbeat) while its job runs, so a crashed holder's lease simply runs out.
CREATE TABLE gpu_leases (
  gpu          INTEGER PRIMARY KEY,
  holder       TEXT NOT NULL,
  job          TEXT NOT NULL,
  run_id       TEXT,
  acquired_at  INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE scheduler_job_state (
  job        TEXT PRIMARY KEY,
  -- When the job first became due (interval and backlog met) without being able to run.
  due_since  INTEGER,
  updated_at INTEGER NOT NULL
) STRICT;

-- Learned artefacts the scheduler keeps for cheap use every evaluation (the quiet-hours profile).
CREATE TABLE scheduler_state (
  key        TEXT PRIMARY KEY,
  value      TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
