-- The knowledge base on PostgreSQL: the same columns as SQLite's 0004-knowledge.sql. Every change
-- is a row in kb_versions (append-only history); kb_entries holds the current version of each
-- (scope, key). A deletion is a version too (deleted, a tombstone). data is JSON text (text, not
-- jsonb: jsonb reorders keys, and the knowledge base compares data as written).
-- scope and key sort bytewise (COLLATE "C") as in SQLite, whatever the database's locale.
CREATE TABLE kb_versions (
  id bigserial PRIMARY KEY,
  scope text COLLATE "C" NOT NULL,
  key text COLLATE "C" NOT NULL,
  version integer NOT NULL CHECK (version >= 1),
  content text NOT NULL,
  data text,
  deleted boolean NOT NULL DEFAULT false,
  source_kind text NOT NULL CHECK (source_kind IN ('audit_run', 'correction', 'person', 'import')),
  source_ref text NOT NULL,
  created_at bigint NOT NULL,
  note text,
  -- Two daemons appending the same version of one entry: the second fails here and retries.
  UNIQUE (scope, key, version)
);

CREATE INDEX kb_versions_source ON kb_versions (source_kind, source_ref, id);

-- The full-text index: the key weighs more than the content (weights A and B, ranked by
-- ts_rank), as SQLite's bm25 weighs the key column double. 'english' stems as FTS5's porter does.
CREATE TABLE kb_entries (
  id bigserial PRIMARY KEY,
  scope text COLLATE "C" NOT NULL,
  key text COLLATE "C" NOT NULL,
  version integer NOT NULL,
  content text NOT NULL,
  data text,
  deleted boolean NOT NULL DEFAULT false,
  source_kind text NOT NULL,
  source_ref text NOT NULL,
  updated_at bigint NOT NULL,
  -- float32 vector of key + content (little-endian bytes, as in SQLite), and the model that made it
  embedding bytea,
  embedding_model text,
  search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', key), 'A') || setweight(to_tsvector('english', content), 'B')
  ) STORED,
  UNIQUE (scope, key)
);

CREATE INDEX kb_entries_search ON kb_entries USING gin (search) WHERE NOT deleted;
CREATE INDEX kb_entries_embedding_model ON kb_entries (embedding_model) WHERE NOT deleted;

-- Vectors in the database where pgvector is installed on the server: a second column of type
-- vector beside the bytes, ranked with its cosine distance. Without it (or without the right to
-- create it) the knowledge base ranks vectors in memory, as on SQLite. Nothing else depends on it.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') THEN
    BEGIN
      CREATE EXTENSION IF NOT EXISTS vector;
      ALTER TABLE kb_entries ADD COLUMN embedding_vector vector;
    EXCEPTION WHEN insufficient_privilege OR feature_not_supported OR undefined_file THEN
      RAISE NOTICE 'pgvector not usable (%); knowledge vectors are ranked in memory', SQLERRM;
    END;
  END IF;
END
$$;
