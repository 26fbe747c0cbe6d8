-- The review queue, feedback on actions, and corrections on their way to plain agents, with the
-- same columns as SQLite's 0005-review.sql and 0010-plain-agents.sql. JSON is text (see
-- 0001-actions.sql); times are milliseconds since the epoch.

-- A person's decision is final: once status leaves 'open' the row is never decided again (the
-- decision is a conditional UPDATE, so two daemons deciding at once: one wins).
CREATE TABLE review_items (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  action_id text COLLATE "C",
  kind text NOT NULL CHECK (kind IN
    ('audit_unsure', 'low_confidence_verdict', 'contradicts_person', 'duplicate_suspect', 'other')),
  agent text NOT NULL,
  title text NOT NULL,
  original text,
  proposed text,
  reasoning text,
  confidence double precision,
  opened_by text NOT NULL,
  context text,
  created_at bigint NOT NULL,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'rejected', 'edited')),
  decided_by text,
  decided_at bigint,
  decision_output text,
  decision_reason text,
  applied_note text
);

CREATE INDEX review_items_status ON review_items (status, created_at);
CREATE INDEX review_items_action ON review_items (action_id, decided_at) WHERE action_id IS NOT NULL;
-- One open item per action and kind, across daemons: opening again finds the existing one.
CREATE UNIQUE INDEX review_items_open_once ON review_items (action_id, kind)
  WHERE status = 'open' AND action_id IS NOT NULL;

CREATE TABLE action_feedback (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  action_id text COLLATE "C" NOT NULL,
  created_at bigint NOT NULL,
  given_by text NOT NULL,
  confidence double precision CHECK (confidence IS NULL OR (confidence >= 0 AND confidence <= 1)),
  flags text NOT NULL DEFAULT '[]',
  reasoning text,
  scores text NOT NULL DEFAULT '{}'
);

CREATE INDEX action_feedback_action ON action_feedback (action_id, created_at);

-- One row per correction handed to a plain agent, carrying the correction itself (the agent
-- receives it whoever made it: the audit or a person's review decision). Delivered until the agent
-- acknowledges it or its webhook answers 2xx; after that never sent again.
CREATE TABLE correction_deliveries (
  correction_id text COLLATE "C" PRIMARY KEY,
  agent text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'acknowledged', 'failed')),
  created_at bigint NOT NULL,
  acknowledged_at bigint,
  acknowledged_via text,
  note text,
  attempts integer NOT NULL DEFAULT 0,
  -- the webhook's next try; also a lease, pushed ahead while a try is in flight
  next_attempt_at bigint,
  last_error text,
  action_id text COLLATE "C" NOT NULL,
  source text NOT NULL CHECK (source IN ('audit', 'person')),
  run_id text,
  original text,
  corrected text,
  reasoning text,
  reviewer_model text,
  confidence_after double precision
);

CREATE INDEX correction_deliveries_agent ON correction_deliveries (agent, status, created_at);
CREATE INDEX correction_deliveries_due ON correction_deliveries (agent, next_attempt_at)
  WHERE status = 'pending';

CREATE TABLE delivery_attempts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  correction_id text COLLATE "C" NOT NULL,
  delivery_id text NOT NULL,
  url text NOT NULL,
  attempted_at bigint NOT NULL,
  http_status integer,
  error text,
  duration_ms double precision
);

CREATE INDEX delivery_attempts_correction ON delivery_attempts (correction_id, attempted_at);
