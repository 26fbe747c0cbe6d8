-- Plain agents (any HTTP client): feedback on their actions after the fact, and the delivery of
-- corrections to agents that run outside nightshift, by pull (/v0/corrections) or signed webhook.
CREATE TABLE action_feedback (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  action_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  -- who gave it: a person's name, an eval's name, or the agent itself
  given_by TEXT NOT NULL,
  confidence REAL CHECK (confidence IS NULL OR (confidence >= 0 AND confidence <= 1)),
  -- JSON array of flags added to the action
  flags TEXT NOT NULL DEFAULT '[]',
  reasoning TEXT,
  -- JSON object: name → number (a thumbs up is 1, down 0; an eval's score as it is)
  scores TEXT NOT NULL DEFAULT '{}'
) STRICT;

CREATE INDEX action_feedback_action ON action_feedback (action_id, created_at);

-- One row per correction handed to a plain agent. A correction is delivered until the agent
-- acknowledges it (pull) or its webhook answers 2xx; after that it is never sent again.
CREATE TABLE correction_deliveries (
  correction_id TEXT PRIMARY KEY,
  agent TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'acknowledged', 'failed')),
  created_at INTEGER NOT NULL,
  acknowledged_at INTEGER,
  -- 'pull' (POST /v0/corrections/:id/ack) or 'webhook' (a 2xx reply)
  acknowledged_via TEXT,
  note TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  -- the webhook's next try; also a lease, pushed ahead while a try is in flight
  next_attempt_at INTEGER,
  last_error TEXT
) STRICT;

CREATE INDEX correction_deliveries_agent ON correction_deliveries (agent, status, created_at);
CREATE INDEX correction_deliveries_due ON correction_deliveries (next_attempt_at)
  WHERE status = 'pending';

-- Every webhook delivery attempt, kept for the user to see what was sent and what came back.
CREATE TABLE delivery_attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  correction_id TEXT NOT NULL,
  delivery_id TEXT NOT NULL,
  url TEXT NOT NULL,
  attempted_at INTEGER NOT NULL,
  http_status INTEGER,
  error TEXT,
  duration_ms REAL
) STRICT;

CREATE INDEX delivery_attempts_correction ON delivery_attempts (correction_id, attempted_at);
