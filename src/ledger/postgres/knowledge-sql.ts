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

const ENTRY_ARRAYS = `$1::text[], $2::text[], $3::int4[], $4::text[], $5::text[], $6::bool[],
  $7::text[], $8::text[], $9::int8[]`;

/**
 * One statement for a whole change: every version into kb_versions (the data-modifying WITH
 * runs whether or not it is read) and each entry's last version into kb_entries. On a changed
 * text the embedding goes: the vector described the old text.
 */
const APPEND = `WITH versions AS (
    INSERT INTO kb_versions
      (scope, key, version, content, data, deleted, source_kind, source_ref, created_at, note)
    SELECT * FROM unnest($10::text[], $11::text[], $12::int4[], $13::text[], $14::text[],
      $15::bool[], $16::text[], $17::text[], $18::int8[], $19::text[])
  )
  INSERT INTO kb_entries
    (scope, key, version, content, data, deleted, source_kind, source_ref, updated_at)
  SELECT * FROM unnest(${ENTRY_ARRAYS})
  ON CONFLICT (scope, key) DO UPDATE SET version = excluded.version, content = excluded.content,
    data = excluded.data, deleted = excluded.deleted, source_kind = excluded.source_kind,
    source_ref = excluded.source_ref, updated_at = excluded.updated_at,
    embedding = CASE WHEN kb_entries.content = excluded.content THEN kb_entries.embedding END,
    embedding_model = CASE WHEN kb_entries.content = excluded.content
      THEN kb_entries.embedding_model END`;

/** The given (scope, key) pairs, as a join target; COLLATE "C" as the columns are. */
const PAIRS = `unnest($1::text[], $2::text[]) AS w(scope, key)
  ON e.scope = w.scope COLLATE "C" AND e.key = w.key COLLATE "C"`;

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
  currentMany: `SELECT ${ENTRY_COLUMNS} FROM kb_entries e JOIN ${PAIRS} ${WITH_NOTE}`,
  // Locked in one order for every writer, so two changes touching the same entries cannot
  // deadlock; waits for another writer's transaction on them, then reads what it committed.
  lockMany: `SELECT e.scope, e.key, e.version FROM kb_entries e JOIN ${PAIRS}
    ORDER BY e.scope, e.key FOR UPDATE OF e`,
  append: APPEND,
  appendWithVector: `${APPEND},
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
