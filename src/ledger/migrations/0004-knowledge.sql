-- The knowledge base. Every change is a row in kb_versions (history is append-only); kb_entries
-- holds the current version of each (scope, key) so reads and the full-text index stay small.
-- scope is an agent name or 'shared'. A deletion is a version too (deleted = 1, a tombstone).
CREATE TABLE kb_versions (
  id INTEGER PRIMARY KEY,
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  version INTEGER NOT NULL,
  content TEXT NOT NULL,
  -- optional structured data (e.g. a finance categorization rule), JSON
  data TEXT,
  deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
  -- provenance: who wrote this version and on what authority
  source_kind TEXT NOT NULL CHECK (source_kind IN ('audit_run', 'correction', 'person', 'import')),
  source_ref TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  -- why, for versions made by rollback or revert ("rollback to v2", "revert of run X")
  note TEXT,
  UNIQUE (scope, key, version)
) STRICT;

CREATE INDEX kb_versions_source ON kb_versions (source_kind, source_ref);

CREATE TABLE kb_entries (
  id INTEGER PRIMARY KEY,
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  version INTEGER NOT NULL,
  content TEXT NOT NULL,
  data TEXT,
  deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
  source_kind TEXT NOT NULL,
  source_ref TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  -- float32 vector of key + content, and the model that made it; NULL until embedded
  embedding BLOB,
  embedding_model TEXT,
  UNIQUE (scope, key)
) STRICT;

-- External-content FTS over the live (non-deleted) current versions, kept in sync by triggers so
-- no code path can forget it.
CREATE VIRTUAL TABLE kb_fts USING fts5(
  key, content, content = 'kb_entries', content_rowid = 'id', tokenize = 'porter unicode61'
);

CREATE TRIGGER kb_entries_ai AFTER INSERT ON kb_entries WHEN new.deleted = 0 BEGIN
  INSERT INTO kb_fts (rowid, key, content) VALUES (new.id, new.key, new.content);
END;

CREATE TRIGGER kb_entries_ad AFTER DELETE ON kb_entries WHEN old.deleted = 0 BEGIN
  INSERT INTO kb_fts (kb_fts, rowid, key, content) VALUES ('delete', old.id, old.key, old.content);
END;

-- One trigger with both statements: SQLite fires separate triggers in an unspecified order, and
-- the delete must come before the insert of the same rowid.
CREATE TRIGGER kb_entries_au AFTER UPDATE OF key, content, deleted ON kb_entries BEGIN
  INSERT INTO kb_fts (kb_fts, rowid, key, content)
    SELECT 'delete', old.id, old.key, old.content WHERE old.deleted = 0;
  INSERT INTO kb_fts (rowid, key, content) SELECT new.id, new.key, new.content WHERE new.deleted = 0;
END;
