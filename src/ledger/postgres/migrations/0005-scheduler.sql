-- The scheduler's state on PostgreSQL, shared by every daemon of the ledger: the same tables and
-- columns as SQLite's 0003-scheduler.sql. Times are the schedulers' clocks in ms since the epoch
-- (see src/ledger/stores/scheduler.ts for why not the server's clock); JSON is kept as text.

CREATE TABLE scheduler_runs (
  id            text COLLATE "C" PRIMARY KEY,
  job           text NOT NULL,
  mode          text NOT NULL CHECK (mode IN ('normal', 'degraded')),
  -- running: a holder is working on it (heartbeat_at says it is alive); paused / interrupted:
  -- resumable from checkpoint; done / failed: finished.
  status        text NOT NULL CHECK (status IN ('running', 'paused', 'interrupted', 'done', 'failed')),
  holder        text,
  forced        boolean NOT NULL DEFAULT false,
  attempts      integer NOT NULL DEFAULT 1,
  started_at    bigint NOT NULL,
  heartbeat_at  bigint NOT NULL,
  finished_at   bigint,
  checkpoint    text,
  checkpoint_at bigint,
  summary       text,
  error         text,
  last_log      text
);

CREATE INDEX scheduler_runs_job ON scheduler_runs (job, started_at DESC);
CREATE INDEX scheduler_runs_open ON scheduler_runs (job, status)
  WHERE status IN ('running', 'paused', 'interrupted');
CREATE INDEX scheduler_runs_done ON scheduler_runs (job, finished_at DESC) WHERE status = 'done';

CREATE TABLE scheduler_decisions (
  id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at        bigint NOT NULL,
  job       text NOT NULL,
  run_id    text,
  decision  text NOT NULL CHECK (decision IN
              ('start', 'resume', 'pause', 'skip', 'degraded', 'done', 'fail', 'release', 'interrupted')),
  reason    text NOT NULL,
  details   text
);

CREATE INDEX scheduler_decisions_job ON scheduler_decisions (job, at DESC);
CREATE INDEX scheduler_decisions_at ON scheduler_decisions (at DESC, id DESC);

-- One row per GPU ever leased, whichever machine holds it. A lease is held while expires_at > now;
-- the holder renews it while its job runs, so a holder that died (kill -9, power cut) simply
-- loses it at expiry and the next taker's conditional upsert wins.
CREATE TABLE gpu_leases (
  gpu          integer PRIMARY KEY,
  holder       text NOT NULL,
  job          text NOT NULL,
  run_id       text,
  acquired_at  bigint NOT NULL,
  heartbeat_at bigint NOT NULL,
  expires_at   bigint NOT NULL
);

CREATE TABLE scheduler_job_state (
  job        text PRIMARY KEY,
  -- When the job first became due (interval and backlog met) without being able to run.
  due_since  bigint,
  updated_at bigint NOT NULL
);

-- Learned artefacts the scheduler keeps for cheap use every evaluation (the quiet-hours profile).
CREATE TABLE scheduler_state (
  key        text PRIMARY KEY,
  value      text NOT NULL,
  updated_at bigint NOT NULL
);
