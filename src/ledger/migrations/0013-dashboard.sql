-- The dashboard's actions table filters by model and by error status over millions of rows, newest
-- first: without these, a rare model or a quiet error rate means walking the whole started_at index.
CREATE INDEX actions_model_started ON actions (model, started_at);
CREATE INDEX actions_errors_started ON actions (started_at) WHERE status = 'error';
