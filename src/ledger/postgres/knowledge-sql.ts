import { searchWords } from "../stores/knowledge.js";

/**
 * Turns arbitrary text into a safe to_tsquery argument: its words, each a quoted lexeme, joined
 * by | so any word can match and ts_rank ranks entries sharing more of them first (FTS5's OR on
 * SQLite). The words hold letters and digits only, so no tsquery operator or quote survives.
 * Returns undefined when no word is left.
 */
export function toTsQuery(text: string): string | undefined {
  const words = searchWords(text);
  if (words.length === 0) return undefined;
  return words.map((word) => `'${word}'`).join(" | ");
}

const ENTRY_COLUMNS = `e.id, e.scope, e.key, e.version, e.content, e.data, e.deleted, e.source_kind,
  e.source_ref, e.updated_at, e.embedding, e.embedding_model, v.note`;

const WITH_NOTE = `LEFT JOIN kb_versions v
  ON v.scope = e.scope AND v.key = e.key AND v.version = e.version`;

const ENTRY_VALUES = `($1, $2, $3, $4, $5, $6, $7, $8, $9)`;

/** On a changed text the embedding goes: the vector described the old text. */
const UPSERT = `INSERT INTO kb_entries
  (scope, key, version, content, data, deleted, source_kind, source_ref, updated_at)
  VALUES ${ENTRY_VALUES}
  ON CONFLICT (scope, key) DO UPDATE SET version = excluded.version, content = excluded.content,
    data = excluded.data, deleted = excluded.deleted, source_kind = excluded.source_kind,
    source_ref = excluded.source_ref, updated_at = excluded.updated_at,
    embedding = CASE WHEN kb_entries.content = excluded.content THEN kb_entries.embedding END,
    embedding_model = CASE WHEN kb_entries.content = excluded.content
      THEN kb_entries.embedding_model END`;

/**
 * The knowledge store's SQL on PostgreSQL. ts_rank's weights {D, C, B, A} make a key word (A)
 * count twice a content word (B), as bm25(kb_fts, 2.0, 1.0) does on SQLite; normalization 1
 * divides by the log of the length, so a short entry about the words ranks above a long one that
 * mentions them in passing, as bm25's length term does.
 */
export const KnowledgeSql = {
  current: `SELECT ${ENTRY_COLUMNS} FROM kb_entries e ${WITH_NOTE}`,
  versions: `SELECT scope, key, version, content, data, deleted, source_kind, source_ref,
    created_at, note FROM kb_versions`,
  lockEntry: "SELECT version FROM kb_entries WHERE scope = $1 AND key = $2 FOR UPDATE",
  insertVersion: `INSERT INTO kb_versions
    (scope, key, version, content, data, deleted, source_kind, source_ref, created_at, note)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
  upsertEntry: UPSERT,
  upsertEntryWithVector: `${UPSERT},
    embedding_vector = CASE WHEN kb_entries.content = excluded.content
      THEN kb_entries.embedding_vector END`,
  search: `SELECT ${ENTRY_COLUMNS}, ts_rank('{0.1, 0.2, 0.5, 1.0}', e.search, q, 1) AS score
    FROM kb_entries e ${WITH_NOTE}, to_tsquery('english', $1) q
    WHERE e.search @@ q AND NOT e.deleted AND ($2::text[] IS NULL OR e.scope = ANY($2::text[]))
    ORDER BY score DESC, e.id LIMIT $3`,
  nearest: `SELECT ${ENTRY_COLUMNS}, 1 - (e.embedding_vector <=> $2::vector) AS score
    FROM kb_entries e ${WITH_NOTE}
    WHERE NOT e.deleted AND e.embedding_model = $1 AND vector_dims(e.embedding_vector) = $3
      AND ($4::text[] IS NULL OR e.scope = ANY($4::text[]))
    ORDER BY e.embedding_vector <=> $2::vector, e.id LIMIT $5`,
};
