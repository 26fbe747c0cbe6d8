import type pg from "pg";
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
import { appendVersions } from "./knowledge-append.js";
import { KnowledgeSql, toTsQuery } from "./knowledge-sql.js";
import { inTransaction } from "./transaction.js";

interface VersionRecord {
  scope: string;
  key: string;
  version: number;
  content: string;
  data: string | null;
  deleted: boolean;
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
    deleted: r.deleted,
    sourceKind: r.source_kind,
    sourceRef: r.source_ref,
    createdAt: r.created_at,
    note: r.note,
  };
}

function toCurrent(r: EntryRecord): KnowledgeCurrentRow {
  return {
    ...toVersion({ ...r, created_at: r.updated_at }),
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

/** SQLSTATEs after which the same append, re-read and re-decided, can succeed. */
const CONFLICTS = new Set(["23505", "40P01", "40001"]);

/**
 * The knowledge base on PostgreSQL (migrations/0003-knowledge.sql): full text with tsvector, a
 * GIN index and ts_rank; vectors with pgvector where the server has it, else ranked in memory.
 * Versions stay gap-free with several daemons: `append` locks each entry's row (FOR UPDATE)
 * before checking its version, and UNIQUE (scope, key, version) catches two first versions.
 */
export class PostgresKnowledgeStore implements KnowledgeStore {
  private vectorColumn: Promise<boolean> | undefined;

  constructor(private readonly pool: pg.Pool) {}

  async append(rows: KnowledgeVersionRow[]): Promise<void> {
    if (rows.length === 0) return;
    // One order for every writer, so two appends touching the same entries cannot deadlock;
    // the sort is stable, so several versions of one entry stay in version order.
    const ordered = [...rows].sort((a, b) => compare(a.scope, b.scope) || compare(a.key, b.key));
    const vectors = await this.hasVectorColumn();
    try {
      await inTransaction(this.pool, async (client) => {
        await appendVersions(client, ordered, vectors);
      });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === "string" && CONFLICTS.has(code)) {
        const first = ordered[0]!;
        throw new KnowledgeConflictError(first.scope, first.key, first.version);
      }
      throw error;
    }
  }

  async current(scope: string, key: string): Promise<KnowledgeCurrentRow | undefined> {
    const { rows } = await this.pool.query<EntryRecord>({
      name: "ns_kb_current",
      text: `${KnowledgeSql.current} WHERE e.scope = $1 AND e.key = $2`,
      values: [scope, key],
    });
    return rows[0] ? toCurrent(rows[0]) : undefined;
  }

  async currentMany(
    entries: readonly { scope: string; key: string }[],
  ): Promise<KnowledgeCurrentRow[]> {
    if (entries.length === 0) return [];
    const { rows } = await this.pool.query<EntryRecord>(KnowledgeSql.currentMany, [
      entries.map((e) => e.scope),
      entries.map((e) => e.key),
    ]);
    return rows.map(toCurrent);
  }

  async versions(scope: string, key: string): Promise<KnowledgeVersionRow[]> {
    const { rows } = await this.pool.query<VersionRecord>({
      name: "ns_kb_versions",
      text: `${KnowledgeSql.versions} WHERE scope = $1 AND key = $2 ORDER BY version`,
      values: [scope, key],
    });
    return rows.map(toVersion);
  }

  async version(
    scope: string,
    key: string,
    version: number,
  ): Promise<KnowledgeVersionRow | undefined> {
    const { rows } = await this.pool.query<VersionRecord>({
      name: "ns_kb_version",
      text: `${KnowledgeSql.versions} WHERE scope = $1 AND key = $2 AND version = $3`,
      values: [scope, key, version],
    });
    return rows[0] ? toVersion(rows[0]) : undefined;
  }

  async bySource(kind: ProvenanceKind, ref: string): Promise<KnowledgeVersionRow[]> {
    const { rows } = await this.pool.query<VersionRecord>(
      `${KnowledgeSql.versions} WHERE source_kind = $1 AND source_ref = $2 ORDER BY id`,
      [kind, ref],
    );
    return rows.map(toVersion);
  }

  async list(filter: KnowledgeListFilter = {}): Promise<KnowledgeCurrentRow[]> {
    const params: unknown[] = [];
    let where = "";
    if (filter.scopes) {
      params.push(filter.scopes);
      where += ` AND e.scope = ANY($${params.length}::text[])`;
    }
    if (filter.key !== undefined) {
      params.push(filter.key);
      where += ` AND e.key = $${params.length}`;
    }
    if (!filter.includeDeleted) where += " AND NOT e.deleted";
    params.push(filter.limit ?? null);
    const sql = `${KnowledgeSql.current} WHERE true${where}
      ORDER BY e.scope, e.key LIMIT $${params.length}`;
    const { rows } = await this.pool.query<EntryRecord>(sql, params);
    return rows.map(toCurrent);
  }

  async searchText(
    text: string,
    scopes: string[] | undefined,
    limit: number,
  ): Promise<KnowledgeMatch[]> {
    const query = toTsQuery(text);
    if (!query) return [];
    const { rows } = await this.pool.query<EntryRecord & { score: number }>({
      name: "ns_kb_search",
      text: KnowledgeSql.search,
      values: [query, scopes ?? null, limit],
    });
    return rows.map((row) => ({ entry: toCurrent(row), score: row.score }));
  }

  async needingEmbedding(model: string, limit: number): Promise<KnowledgeCurrentRow[]> {
    const { rows } = await this.pool.query<EntryRecord>(
      `${KnowledgeSql.current} WHERE NOT e.deleted
        AND (e.embedding IS NULL OR e.embedding_model IS DISTINCT FROM $1) ORDER BY e.id LIMIT $2`,
      [model, limit],
    );
    return rows.map(toCurrent);
  }

  async setEmbedding(
    id: number,
    content: string,
    vector: Float32Array,
    model: string,
  ): Promise<void> {
    const bytes = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
    if (await this.hasVectorColumn()) {
      await this.pool.query(
        `UPDATE kb_entries SET embedding = $1, embedding_model = $2, embedding_vector = $5::vector
         WHERE id = $3 AND content = $4`,
        [bytes, model, id, content, `[${Array.from(vector).join(",")}]`],
      );
      return;
    }
    await this.pool.query(
      "UPDATE kb_entries SET embedding = $1, embedding_model = $2 WHERE id = $3 AND content = $4",
      [bytes, model, id, content],
    );
  }

  async hasEmbeddings(model: string, scopes: string[] | undefined): Promise<boolean> {
    const { rows } = await this.pool.query<{ found: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM kb_entries WHERE NOT deleted AND embedding_model = $1
        AND ($2::text[] IS NULL OR scope = ANY($2::text[]))) AS found`,
      [model, scopes ?? null],
    );
    return rows[0]?.found === true;
  }

  async nearest(
    model: string,
    vector: Float32Array,
    scopes: string[] | undefined,
    limit: number,
  ): Promise<KnowledgeMatch[]> {
    if (await this.hasVectorColumn()) {
      const { rows } = await this.pool.query<EntryRecord & { score: number }>(
        KnowledgeSql.nearest,
        [model, `[${Array.from(vector).join(",")}]`, vector.length, scopes ?? null, limit],
      );
      return rows.map((row) => ({ entry: toCurrent(row), score: row.score }));
    }
    const { rows } = await this.pool.query<EntryRecord>(
      `${KnowledgeSql.current} WHERE NOT e.deleted AND e.embedding_model = $1
        AND ($2::text[] IS NULL OR e.scope = ANY($2::text[])) ORDER BY e.id`,
      [model, scopes ?? null],
    );
    return rankBySimilarity(rows.map(toCurrent), vector, limit);
  }

  /** Whether 0003-knowledge.sql could add the pgvector column (the server had the extension). */
  hasVectorColumn(): Promise<boolean> {
    this.vectorColumn ??= this.pool
      .query<{ found: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()
          AND table_name = 'kb_entries' AND column_name = 'embedding_vector') AS found`,
      )
      .then(({ rows }) => rows[0]?.found === true);
    // A failed look-up is asked again next time, not remembered.
    this.vectorColumn.catch(() => {
      this.vectorColumn = undefined;
    });
    return this.vectorColumn;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
