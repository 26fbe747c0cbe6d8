import { NightshiftError } from "../../errors.js";

/** Who wrote a version: an audit run, a correction, a person or an import (with a ref each). */
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
  /** Set on versions made by rollback or revert ("rollback to v2", "revert of run X"). */
  note: string | null;
}

/** The current version of an entry, with its index id and its embedding. */
export interface KnowledgeCurrentRow extends KnowledgeVersionRow {
  id: number;
  embedding: Float32Array | null;
  embeddingModel: string | null;
}

/** An entry found by a search; `score` is the engine's own, higher is better. */
export interface KnowledgeMatch {
  entry: KnowledgeCurrentRow;
  score: number;
}

export interface KnowledgeListFilter {
  scopes?: string[];
  key?: string;
  includeDeleted?: boolean;
  limit?: number;
}

/**
 * The knowledge base's storage: an append-only history of versions per (scope, key) and the
 * current version of each, searchable by full text and (optionally) by embedding.
 *
 * Versions are numbered 1, 2, 3 … per entry with no gaps and no duplicates, even with several
 * daemons writing one PostgreSQL ledger: `append` is optimistic. The caller reads the current
 * version, decides, and appends version current + 1; if another writer got there first, nothing
 * is written and `append` throws KnowledgeConflictError, so the caller reads again and decides
 * again.
 */
export interface KnowledgeStore {
  /** The current version (live or tombstone), or undefined if the entry never existed. */
  current(scope: string, key: string): Promise<KnowledgeCurrentRow | undefined>;
  /** The current versions of several entries in one read; entries that never existed are left out. */
  currentMany(entries: readonly { scope: string; key: string }[]): Promise<KnowledgeCurrentRow[]>;
  /** Every version of an entry, oldest first. */
  versions(scope: string, key: string): Promise<KnowledgeVersionRow[]>;
  version(scope: string, key: string, version: number): Promise<KnowledgeVersionRow | undefined>;
  /** Every version one source wrote (e.g. one audit run), in the order written. */
  bySource(kind: ProvenanceKind, ref: string): Promise<KnowledgeVersionRow[]>;
  /** Current entries (tombstones only when asked), by scope then key. */
  list(filter?: KnowledgeListFilter): Promise<KnowledgeCurrentRow[]>;
  /**
   * Appends versions, each becoming its entry's current one, all in one transaction (several
   * rows of one entry go in version order). Each row's version must be its entry's current
   * version + 1 (1 for a new entry), else nothing is written and KnowledgeConflictError is
   * thrown. A changed text drops the entry's embedding: the vector described the old text.
   */
  append(rows: KnowledgeVersionRow[]): Promise<void>;
  /**
   * Live entries of the given scopes (all when absent) sharing words with `text`, best first.
   * `text` is arbitrary user text, never query syntax: each engine makes its own safe query.
   */
  searchText(text: string, scopes: string[] | undefined, limit: number): Promise<KnowledgeMatch[]>;
  /** Live entries with no embedding from `model` (new, changed, or made by another model). */
  needingEmbedding(model: string, limit: number): Promise<KnowledgeCurrentRow[]>;
  /** Stores a vector unless the entry's text changed since it was read. */
  setEmbedding(id: number, content: string, vector: Float32Array, model: string): Promise<void>;
  /** Whether any live entry of the given scopes has an embedding from `model`. */
  hasEmbeddings(model: string, scopes: string[] | undefined): Promise<boolean>;
  /** Live embedded entries nearest to `vector` by cosine similarity (the score), best first. */
  nearest(
    model: string,
    vector: Float32Array,
    scopes: string[] | undefined,
    limit: number,
  ): Promise<KnowledgeMatch[]>;
}

/** Another writer appended to the entry first; read it again and decide again. */
export class KnowledgeConflictError extends NightshiftError {
  override readonly name = "KnowledgeConflictError";
  constructor(scope: string, key: string, version: number) {
    super(
      `knowledge entry ${scope}/${key} changed while version ${version} was being written; try again`,
      { status: 409, code: "conflict" },
    );
  }
}

/** Terms beyond this add little to the ranking and make long stage inputs slow to match. */
const MAX_TERMS = 32;

/**
 * The words of arbitrary text (a stage's input, a person's query), lowercased and unique, for the
 * engines' full-text queries. Nothing but letters and digits survives, so no word can carry query
 * syntax (quotes, operators, column filters) into either engine.
 */
export function searchWords(text: string): string[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...new Set(words)].slice(0, MAX_TERMS);
}

/** Cosine similarity; 0 when either vector is zero or their lengths differ. */
export function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** Ranks rows by cosine similarity in memory: the engines' way when the database cannot. */
export function rankBySimilarity(
  rows: KnowledgeCurrentRow[],
  vector: Float32Array,
  limit: number,
): KnowledgeMatch[] {
  return rows
    .map((entry) => ({ entry, score: cosine(vector, entry.embedding!) }))
    .sort((a, b) => b.score - a.score)
    .slice(0, limit);
}
