-- The human review queue: what the audit (or an agent) could not settle alone. A person's
-- decision is final: once status leaves 'open' the row is never decided again.
CREATE TABLE review_items (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  action_id TEXT,
  kind TEXT NOT NULL CHECK (kind IN
    ('audit_unsure', 'low_confidence_verdict', 'contradicts_person', 'duplicate_suspect', 'other')),
  agent TEXT NOT NULL,
  title TEXT NOT NULL,
  -- JSON: the action's output as it stands, and what the opener proposes instead
  original TEXT,
  proposed TEXT,
  reasoning TEXT,
  confidence REAL,
  -- who opened it, e.g. 'audit:<run id>' or 'finance'
  opened_by TEXT NOT NULL,
  -- extra JSON for the person (trace context, the other transaction of a duplicate pair, ...)
  context TEXT,
  created_at INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'rejected', 'edited')),
  decided_by TEXT,
  decided_at INTEGER,
  -- JSON: the output the person settled on (proposed on accept, theirs on edit, original on reject)
  decision_output TEXT,
  decision_reason TEXT,
  -- what applying the decision did (the handler's note), or why nothing was applied
  applied_note TEXT
) STRICT;

CREATE INDEX review_items_status ON review_items (status, created_at);
CREATE INDEX review_items_action ON review_items (action_id, decided_at) WHERE action_id IS NOT NULL;
-- One open item per action and kind: reopening (a resumed audit) finds the existing one.
CREATE UNIQUE INDEX review_items_open_once ON review_items (action_id, kind)
  WHERE status = 'open' AND action_id IS NOT NULL;
