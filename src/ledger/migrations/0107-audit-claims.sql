-- One audit run at a time: the run that is running names its holder (a token per process
-- attempt), the holder's host, and when the holder last said it is alive, so a run whose
-- process died can be taken over. Runs left "running" by a version without claims are paused,
-- so the next audit resumes them.
ALTER TABLE audit_runs ADD COLUMN owner TEXT;
ALTER TABLE audit_runs ADD COLUMN host TEXT;
ALTER TABLE audit_runs ADD COLUMN heartbeat_at INTEGER;
UPDATE audit_runs SET status = 'paused' WHERE status = 'running';
CREATE UNIQUE INDEX audit_runs_one_running ON audit_runs (status) WHERE status = 'running';
