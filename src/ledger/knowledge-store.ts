import type { Statement } from "better-sqlite3";
import type { Db } from "./db.js";

export type ProvenanceKind = "audit_run" | "correction" | "person" | "import";

/** One version of one knowledge entry, as stored (camelCase; see kb_versions). */
export interface KnowledgeVersionRow {
  scope: string;
  key: string;
  version: number;
  content: string;
  data: unknown;
  deleted: boolean;
  sourceKind: ProvenanceKind;
  sourceRef: string;
  createdAt: number;
  note: string | null;
}

/** The current version of an entry plus its index id and embedding. */
export interface KnowledgeCurrentRow extends KnowledgeVersionRow {
  id: number;
  embedding: Float32Array | null;
  embeddingModel: string | null;
}

export interface FtsMatch {
  id: number;
  /** bm25: lower is better (SQLite's convention). */
  rank: number;
}

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

interface EntryRecord extends Omit<VersionRecord, "created_at" | "note"> {
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

function toCurrent(r: EntryRecord): KnowledgeCurrentRow {
  return {
    ...toVersion({ ...r, created_at: r.updated_at, note: null }),
    id: r.id,
    embedding:
      r.embedding === null
        ? null
        : new Float32Array(
            r.embedding.buffer.slice(
              r.embedding.byteOffset,
              r.embedding.byteOffset + r.embedding.byteLength,
            ),
          ),
    embeddingModel: r.embedding_model,
  };
}

/** The knowledge base's tables (0004-knowledge.sql). The only place their SQL lives. */
export class KnowledgeStore {
  private readonly insertVersion: Statement;
  private readonly upsertEntry: Statement;
  private readonly selectEntry: Statement<[string, string], EntryRecord>;
  private readonly selectEntryById: Statement<[number], EntryRecord>;
  private readonly selectVersions: Statement<[string, string], VersionRecord>;
  private readonly selectVersion: Statement<[string, string, number], VersionRecord>;
  private readonly selectBySource: Statement<[string, string], VersionRecord>;
  private readonly updateEmbedding: Statement;

  constructor(readonly db: Db) {
    this.insertVersion = db.prepare(`INSERT INTO kb_versions
      (scope, key, version, content, data, deleted, source_kind, source_ref, created_at, note)
      VALUES (@scope, @key, @version, @content, @data, @deleted, @source_kind, @source_ref, @created_at, @note)`);
    // A changed entry loses its embedding: the vector described the old text.
    this.upsertEntry = db.prepare(`INSERT INTO kb_entries
      (scope, key, version, content, data, deleted, source_kind, source_ref, updated_at)
      VALUES (@scope, @key, @version, @content, @data, @deleted, @source_kind, @source_ref, @created_at)
      ON CONFLICT (scope, key) DO UPDATE SET version = excluded.version, content = excluded.content,
        data = excluded.data, deleted = excluded.deleted, source_kind = excluded.source_kind,
        source_ref = excluded.source_ref, updated_at = excluded.updated_at,
        embedding = CASE WHEN kb_entries.content = excluded.content THEN kb_entries.embedding END,
        embedding_model = CASE WHEN kb_entries.content = excluded.content
          THEN kb_entries.embedding_model END`);
    this.selectEntry = db.prepare("SELECT * FROM kb_entries WHERE scope = ? AND key = ?");
    this.selectEntryById = db.prepare("SELECT * FROM kb_entries WHERE id = ?");
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
  }

  /** Appends a version and makes it the entry's current one, in one transaction. */
  write(row: KnowledgeVersionRow): void {
    const record = {
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
    this.db.transaction(() => {
      this.insertVersion.run(record);
      this.upsertEntry.run(record);
    })();
  }

  /** Runs `work` in one transaction (nested calls join the outer one). */
  transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }

  current(scope: string, key: string): KnowledgeCurrentRow | undefined {
    const row = this.selectEntry.get(scope, key);
    return row ? toCurrent(row) : undefined;
  }

  currentById(id: number): KnowledgeCurrentRow | undefined {
    const row = this.selectEntryById.get(id);
    return row ? toCurrent(row) : undefined;
  }

  versions(scope: string, key: string): KnowledgeVersionRow[] {
    return this.selectVersions.all(scope, key).map(toVersion);
  }

  version(scope: string, key: string, version: number): KnowledgeVersionRow | undefined {
    const row = this.selectVersion.get(scope, key, version);
    return row ? toVersion(row) : undefined;
  }

  /** Every version one source wrote (e.g. one audit run), oldest first. */
  bySource(kind: ProvenanceKind, ref: string): KnowledgeVersionRow[] {
    return this.selectBySource.all(kind, ref).map(toVersion);
  }

  /** Current entries, optionally of some scopes and with tombstones, by scope then key. */
  list(
    filter: { scopes?: string[]; key?: string; includeDeleted?: boolean; limit?: number } = {},
  ): KnowledgeCurrentRow[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.scopes) {
      where.push(`scope IN (${filter.scopes.map(() => "?").join(", ") || "NULL"})`);
      params.push(...filter.scopes);
    }
    if (filter.key !== undefined) {
      where.push("key = ?");
      params.push(filter.key);
    }
    if (!filter.includeDeleted) where.push("deleted = 0");
    params.push(filter.limit ?? -1);
    const sql = `SELECT * FROM kb_entries${where.length ? ` WHERE ${where.join(" AND ")}` : ""}
      ORDER BY scope, key LIMIT ?`;
    return (this.db.prepare(sql).all(params) as EntryRecord[]).map(toCurrent);
  }

  /**
   * Full-text matches among live entries of the given scopes, best first. `match` must already
   * be a safe FTS5 query (see src/knowledge/search.ts); the key column weighs double.
   */
  matchText(match: string, scopes: string[] | undefined, limit: number): FtsMatch[] {
    const params: unknown[] = [match];
    let scopeSql = "";
    if (scopes) {
      scopeSql = ` AND e.scope IN (${scopes.map(() => "?").join(", ") || "NULL"})`;
      params.push(...scopes);
    }
    params.push(limit);
    const sql = `SELECT e.id AS id, bm25(kb_fts, 2.0, 1.0) AS rank
      FROM kb_fts JOIN kb_entries e ON e.id = kb_fts.rowid
      WHERE kb_fts MATCH ? AND e.deleted = 0${scopeSql} ORDER BY rank LIMIT ?`;
    return this.db.prepare(sql).all(params) as FtsMatch[];
  }

  /** Live entries with no embedding from `model` (new, changed, or made by another model). */
  needingEmbedding(model: string, limit: number): KnowledgeCurrentRow[] {
    return (
      this.db
        .prepare(
          `SELECT * FROM kb_entries WHERE deleted = 0
           AND (embedding IS NULL OR embedding_model IS NOT ?) ORDER BY id LIMIT ?`,
        )
        .all(model, limit) as EntryRecord[]
    ).map(toCurrent);
  }

  /** Stores a vector unless the entry's text changed since it was read. */
  setEmbedding(id: number, content: string, vector: Float32Array, model: string): void {
    this.updateEmbedding.run(
      Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength),
      model,
      id,
      content,
    );
  }

  /** Live embedded entries of the given scopes for one model, for vector ranking. */
  embedded(model: string, scopes: string[] | undefined): KnowledgeCurrentRow[] {
    const params: unknown[] = [model];
    let scopeSql = "";
    if (scopes) {
      scopeSql = ` AND scope IN (${scopes.map(() => "?").join(", ") || "NULL"})`;
      params.push(...scopes);
    }
    return (
      this.db
        .prepare(`SELECT * FROM kb_entries WHERE deleted = 0 AND embedding_model = ?${scopeSql}`)
        .all(params) as EntryRecord[]
    ).map(toCurrent);
  }
}
