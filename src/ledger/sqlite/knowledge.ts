import type { Statement, Transaction } from "better-sqlite3";
import type { Db } from "../db.js";
import type { Ledger } from "../ledger.js";
import {
  KnowledgeConflictError,
  type KnowledgeCurrentRow,
  type KnowledgeListFilter,
  type KnowledgeMatch,
  type KnowledgeStore,
  type KnowledgeVersionRow,
  type ProvenanceKind,
  rankBySimilarity,
} from "../stores/knowledge.js";
import { toFtsQuery } from "./fts-query.js";

interface VersionRecord {
  scope: string;
  key: string;
  version: number;
  content: string;
  data: string | null;
  deleted: number;
  source_kind: ProvenanceKind;
  source_ref: string;
  created_at: number;
  note: string | null;
}

interface EntryRecord extends Omit<VersionRecord, "created_at"> {
  id: number;
  updated_at: number;
  embedding: Buffer | null;
  embedding_model: string | null;
}

function toVersion(r: VersionRecord): KnowledgeVersionRow {
  return {
    scope: r.scope,
    key: r.key,
    version: r.version,
    content: r.content,
    data: r.data === null ? null : JSON.parse(r.data),
    deleted: r.deleted === 1,
    sourceKind: r.source_kind,
    sourceRef: r.source_ref,
    createdAt: r.created_at,
    note: r.note,
  };
}

/** A float32 vector from its little-endian bytes (copied: the Buffer may share a pool). */
export function vectorFromBytes(bytes: Buffer): Float32Array {
  return new Float32Array(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  );
}

function toCurrent(r: EntryRecord): KnowledgeCurrentRow {
  return {
    ...toVersion({ ...r, created_at: r.updated_at }),
    id: r.id,
    embedding: r.embedding === null ? null : vectorFromBytes(r.embedding),
    embeddingModel: r.embedding_model,
  };
}

function toRecord(row: KnowledgeVersionRow) {
  return {
    scope: row.scope,
    key: row.key,
    version: row.version,
    content: row.content,
    data: row.data === null || row.data === undefined ? null : JSON.stringify(row.data),
    deleted: row.deleted ? 1 : 0,
    source_kind: row.sourceKind,
    source_ref: row.sourceRef,
    created_at: row.createdAt,
    note: row.note,
  };
}

/** The current version with the note of the version it is (kept in kb_versions only). */
const CURRENT = `SELECT e.*, v.note AS note FROM kb_entries e
  LEFT JOIN kb_versions v ON v.scope = e.scope AND v.key = e.key AND v.version = e.version`;

function scopeFilter(column: string, scopes: string[] | undefined, params: unknown[]): string {
  if (!scopes) return "";
  params.push(...scopes);
  return ` AND ${column} IN (${scopes.map(() => "?").join(", ") || "NULL"})`;
}

/** The knowledge base's tables on SQLite (migrations/0004-knowledge.sql, FTS5 with bm25). */
export class SqliteKnowledgeStore implements KnowledgeStore {
  private readonly insertVersion: Statement;
  private readonly upsertEntry: Statement;
  private readonly selectCurrentVersion: Statement<[string, string], { version: number }>;
  private readonly selectEntry: Statement<[string, string], EntryRecord>;
  private readonly selectVersions: Statement<[string, string], VersionRecord>;
  private readonly selectVersion: Statement<[string, string, number], VersionRecord>;
  private readonly selectBySource: Statement<[string, string], VersionRecord>;
  private readonly updateEmbedding: Statement;
  private readonly appendAll: Transaction<(rows: KnowledgeVersionRow[]) => void>;

  constructor(readonly db: Db) {
    this.insertVersion = db.prepare(`INSERT INTO kb_versions
      (scope, key, version, content, data, deleted, source_kind, source_ref, created_at, note)
      VALUES (@scope, @key, @version, @content, @data, @deleted, @source_kind, @source_ref, @created_at, @note)`);
    this.upsertEntry = db.prepare(`INSERT INTO kb_entries
      (scope, key, version, content, data, deleted, source_kind, source_ref, updated_at)
      VALUES (@scope, @key, @version, @content, @data, @deleted, @source_kind, @source_ref, @created_at)
      ON CONFLICT (scope, key) DO UPDATE SET version = excluded.version, content = excluded.content,
        data = excluded.data, deleted = excluded.deleted, source_kind = excluded.source_kind,
        source_ref = excluded.source_ref, updated_at = excluded.updated_at,
        embedding = CASE WHEN kb_entries.content = excluded.content THEN kb_entries.embedding END,
        embedding_model = CASE WHEN kb_entries.content = excluded.content
          THEN kb_entries.embedding_model END`);
    this.selectCurrentVersion = db.prepare(
      "SELECT version FROM kb_entries WHERE scope = ? AND key = ?",
    );
    this.selectEntry = db.prepare(`${CURRENT} WHERE e.scope = ? AND e.key = ?`);
    this.selectVersions = db.prepare(
      "SELECT * FROM kb_versions WHERE scope = ? AND key = ? ORDER BY version",
    );
    this.selectVersion = db.prepare(
      "SELECT * FROM kb_versions WHERE scope = ? AND key = ? AND version = ?",
    );
    this.selectBySource = db.prepare(
      "SELECT * FROM kb_versions WHERE source_kind = ? AND source_ref = ? ORDER BY id",
    );
    this.updateEmbedding = db.prepare(
      "UPDATE kb_entries SET embedding = ?, embedding_model = ? WHERE id = ? AND content = ?",
    );
    this.appendAll = db.transaction((rows: KnowledgeVersionRow[]) => {
      for (const row of rows) {
        const current = this.selectCurrentVersion.get(row.scope, row.key)?.version ?? 0;
        if (row.version !== current + 1) {
          throw new KnowledgeConflictError(row.scope, row.key, row.version);
        }
        const record = toRecord(row);
        this.insertVersion.run(record);
        this.upsertEntry.run(record);
      }
    });
  }

  async append(rows: KnowledgeVersionRow[]): Promise<void> {
    // IMMEDIATE: the write lock is taken before the version check, so another process (a CLI
    // beside the daemon) cannot append between the check and the insert.
    this.appendAll.immediate(rows);
  }

  async current(scope: string, key: string): Promise<KnowledgeCurrentRow | undefined> {
    const row = this.selectEntry.get(scope, key);
    return row ? toCurrent(row) : undefined;
  }

  async currentMany(
    entries: readonly { scope: string; key: string }[],
  ): Promise<KnowledgeCurrentRow[]> {
    // An embedded file: one prepared lookup per entry costs microseconds, no round trip.
    const rows: KnowledgeCurrentRow[] = [];
    for (const { scope, key } of entries) {
      const row = this.selectEntry.get(scope, key);
      if (row) rows.push(toCurrent(row));
    }
    return rows;
  }

  async versions(scope: string, key: string): Promise<KnowledgeVersionRow[]> {
    return this.selectVersions.all(scope, key).map(toVersion);
  }

  async version(
    scope: string,
    key: string,
    version: number,
  ): Promise<KnowledgeVersionRow | undefined> {
    const row = this.selectVersion.get(scope, key, version);
    return row ? toVersion(row) : undefined;
  }

  async bySource(kind: ProvenanceKind, ref: string): Promise<KnowledgeVersionRow[]> {
    return this.selectBySource.all(kind, ref).map(toVersion);
  }

  async list(filter: KnowledgeListFilter = {}): Promise<KnowledgeCurrentRow[]> {
    const params: unknown[] = [];
    let where = scopeFilter("e.scope", filter.scopes, params);
    if (filter.key !== undefined) {
      where += " AND e.key = ?";
      params.push(filter.key);
    }
    if (!filter.includeDeleted) where += " AND e.deleted = 0";
    params.push(filter.limit ?? -1);
    const sql = `${CURRENT} WHERE 1 = 1${where} ORDER BY e.scope, e.key LIMIT ?`;
    return (this.db.prepare(sql).all(params) as EntryRecord[]).map(toCurrent);
  }

  /** FTS5 with bm25 (lower is better, so the score is its negation); the key weighs double. */
  async searchText(
    text: string,
    scopes: string[] | undefined,
    limit: number,
  ): Promise<KnowledgeMatch[]> {
    const match = toFtsQuery(text);
    if (!match) return [];
    const params: unknown[] = [match];
    const scopeSql = scopeFilter("e.scope", scopes, params);
    params.push(limit);
    const sql = `SELECT e.*, v.note AS note, bm25(kb_fts, 2.0, 1.0) AS rank
      FROM kb_fts JOIN kb_entries e ON e.id = kb_fts.rowid
      LEFT JOIN kb_versions v ON v.scope = e.scope AND v.key = e.key AND v.version = e.version
      WHERE kb_fts MATCH ? AND e.deleted = 0${scopeSql} ORDER BY rank, e.id LIMIT ?`;
    const rows = this.db.prepare(sql).all(params) as (EntryRecord & { rank: number })[];
    return rows.map((row) => ({ entry: toCurrent(row), score: -row.rank }));
  }

  async needingEmbedding(model: string, limit: number): Promise<KnowledgeCurrentRow[]> {
    const sql = `${CURRENT} WHERE e.deleted = 0
      AND (e.embedding IS NULL OR e.embedding_model IS NOT ?) ORDER BY e.id LIMIT ?`;
    return (this.db.prepare(sql).all(model, limit) as EntryRecord[]).map(toCurrent);
  }

  async setEmbedding(
    id: number,
    content: string,
    vector: Float32Array,
    model: string,
  ): Promise<void> {
    const bytes = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
    this.updateEmbedding.run(bytes, model, id, content);
  }

  async hasEmbeddings(model: string, scopes: string[] | undefined): Promise<boolean> {
    const params: unknown[] = [model];
    const scopeSql = scopeFilter("scope", scopes, params);
    const sql = `SELECT EXISTS (SELECT 1 FROM kb_entries
      WHERE deleted = 0 AND embedding_model = ?${scopeSql}) AS found`;
    return (this.db.prepare(sql).get(params) as { found: number }).found === 1;
  }

  /** SQLite has no vector index: every embedded entry is ranked in memory, as before the seam. */
  async nearest(
    model: string,
    vector: Float32Array,
    scopes: string[] | undefined,
    limit: number,
  ): Promise<KnowledgeMatch[]> {
    const params: unknown[] = [model];
    const scopeSql = scopeFilter("e.scope", scopes, params);
    const sql = `${CURRENT} WHERE e.deleted = 0 AND e.embedding_model = ?${scopeSql} ORDER BY e.id`;
    const rows = (this.db.prepare(sql).all(params) as EntryRecord[]).map(toCurrent);
    return rankBySimilarity(rows, vector, limit);
  }
}

const opened = new WeakMap<Db, SqliteKnowledgeStore>();

/** The knowledge store of an opened SQLite `Ledger` (one per database, statements prepared once). */
export function sqliteKnowledgeStore(ledger: Ledger): SqliteKnowledgeStore {
  let store = opened.get(ledger.db);
  if (!store) {
    store = new SqliteKnowledgeStore(ledger.db);
    opened.set(ledger.db, store);
  }
  return store;
}
