import { type Clock, systemClock } from "../clock.js";
import { NightshiftError, NotFoundError } from "../errors.js";
import type { Db } from "../ledger/db.js";
import {
  type KnowledgeCurrentRow,
  KnowledgeStore,
  type KnowledgeVersionRow,
  type ProvenanceKind,
} from "../ledger/knowledge-store.js";
import type { KnowledgeHit, KnowledgeQuery, KnowledgeSource } from "../runtime/knowledge.js";
import { cosine, type Embedder, fuseRankings, toFtsQuery } from "./search.js";

export type { ProvenanceKind } from "../ledger/knowledge-store.js";

/** The scope every agent reads besides its own. */
export const SHARED_SCOPE = "shared";

/**
 * Who wrote a version and on what authority: an audit run (ref = run id), a correction
 * (ref = correction id), a person (ref = their name) or an import (ref = the file).
 */
export interface Provenance {
  kind: ProvenanceKind;
  ref: string;
  /** ms since the epoch; defaults to the knowledge base's clock. */
  at?: number;
}

/** One version of an entry. `deleted` marks a tombstone (the entry was removed). */
export interface KnowledgeEntry {
  scope: string;
  key: string;
  version: number;
  content: string;
  /** Optional structured data, e.g. a finance rule {match, field, value, category, stage}. */
  data: unknown;
  deleted: boolean;
  provenance: Required<Provenance>;
  /** Set on versions made by rollback or revert. */
  note: string | null;
}

export interface EntryInput {
  scope: string;
  key: string;
  content: string;
  data?: unknown;
}

export interface SearchOptions {
  text: string;
  /** Scopes to search; all scopes when absent. */
  scopes?: string[];
  limit?: number;
}

export interface SearchResult {
  hits: KnowledgeHit[];
  /** "fts" or "hybrid" (full text fused with embeddings). */
  mode: "fts" | "hybrid";
  /** Why the semantic half was skipped, when it was (e.g. the embedder was down). */
  warning?: string;
}

export interface RevertReport {
  runId: string;
  /** Entries put back to the version before the run (or tombstoned, if the run created them). */
  reverted: { scope: string; key: string; from: number; to: number; deleted: boolean }[];
  /** Entries the run wrote that someone changed since; left alone, with the reason. */
  skipped: { scope: string; key: string; reason: string }[];
}

export interface KnowledgeBaseOptions {
  clock?: Clock;
  /** Enables hybrid (full text + vector) ranking; without it, search is full text only. */
  embedder?: Embedder;
  /** Told when a search falls back to full text (the embedder failed); the search still answers. */
  onWarning?: (message: string) => void;
}

const KEY_PATTERN = /^[^\s][^\n]{0,199}$/;
const SCOPE_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,63}$/i;

function toEntry(row: KnowledgeVersionRow): KnowledgeEntry {
  return {
    scope: row.scope,
    key: row.key,
    version: row.version,
    content: row.content,
    data: row.data,
    deleted: row.deleted,
    provenance: { kind: row.sourceKind, ref: row.sourceRef, at: row.createdAt },
    note: row.note,
  };
}

/**
 * The versioned knowledge base the agents read. Every change (put, delete, rollback, revert) is
 * a new version with its provenance; nothing is ever overwritten, so any state can be restored.
 * Writes are synchronous SQLite transactions; search is async only because embeddings are.
 */
export class KnowledgeBase implements KnowledgeSource {
  readonly store: KnowledgeStore;
  private readonly clock: Clock;

  /** `ledger`: the opened Ledger (only its database is used). */
  constructor(
    ledger: { db: Db },
    private readonly options: KnowledgeBaseOptions = {},
  ) {
    this.store = new KnowledgeStore(ledger.db);
    this.clock = options.clock ?? systemClock;
  }

  get embedder(): Embedder | undefined {
    return this.options.embedder;
  }

  /**
   * Writes a new version of (scope, key). Writing what the entry already says (same content and
   * data, not deleted) writes nothing and returns the current version, so a resumed audit that
   * writes its pattern again does not add versions.
   */
  put(input: EntryInput, provenance: Provenance, note: string | null = null): KnowledgeEntry {
    validateEntry(input);
    return this.store.transaction(() => {
      const current = this.store.current(input.scope, input.key);
      const data = input.data ?? null;
      if (
        current &&
        !current.deleted &&
        current.content === input.content &&
        JSON.stringify(current.data) === JSON.stringify(data)
      ) {
        return toEntry({ ...current, note: null });
      }
      return this.writeVersion(
        input.scope,
        input.key,
        { content: input.content, data },
        provenance,
        note,
      );
    });
  }

  /** Removes an entry by writing a tombstone version; its history stays. */
  remove(scope: string, key: string, provenance: Provenance): KnowledgeEntry {
    return this.store.transaction(() => {
      const current = this.requireCurrent(scope, key);
      if (current.deleted) {
        throw new NightshiftError(`knowledge entry ${scope}/${key} is already deleted`, {
          status: 409,
          code: "conflict",
        });
      }
      return this.writeVersion(
        scope,
        key,
        { content: current.content, data: current.data, deleted: true },
        provenance,
        "deleted",
      );
    });
  }

  /** The current version, or undefined if the entry never existed or is deleted. */
  get(scope: string, key: string): KnowledgeEntry | undefined {
    const current = this.store.current(scope, key);
    return current && !current.deleted ? this.currentEntry(current) : undefined;
  }

  /** Every version of an entry, oldest first (tombstones included). */
  history(scope: string, key: string): KnowledgeEntry[] {
    return this.store.versions(scope, key).map(toEntry);
  }

  /** Scopes holding a given key (live or not): lets the CLI find KEY without --scope. */
  scopesOf(key: string): string[] {
    return this.store.list({ key, includeDeleted: true }).map((row) => row.scope);
  }

  list(
    filter: { scope?: string; includeDeleted?: boolean; limit?: number } = {},
  ): KnowledgeEntry[] {
    return this.store
      .list({
        ...(filter.scope === undefined ? {} : { scopes: [filter.scope] }),
        includeDeleted: filter.includeDeleted ?? false,
        ...(filter.limit === undefined ? {} : { limit: filter.limit }),
      })
      .map((row) => this.currentEntry(row));
  }

  /** Every version one source wrote, oldest first (e.g. the patterns of one audit run). */
  writtenBy(kind: ProvenanceKind, ref: string): KnowledgeEntry[] {
    return this.store.bySource(kind, ref).map(toEntry);
  }

  /**
   * Writes a new version equal to `version` of the entry (content, data and deletion state), so
   * the rollback itself is history and can be rolled back too.
   */
  rollback(scope: string, key: string, version: number, provenance: Provenance): KnowledgeEntry {
    return this.store.transaction(() => {
      const current = this.requireCurrent(scope, key);
      const target = this.store.version(scope, key, version);
      if (!target) {
        throw new NotFoundError(
          `knowledge entry ${scope}/${key} has no version ${version} (versions 1 to ${current.version}); see \`nightshift kb history ${key}\``,
        );
      }
      if (target.version === current.version) {
        throw new NightshiftError(
          `knowledge entry ${scope}/${key} is already at version ${version}`,
          {
            status: 409,
            code: "conflict",
          },
        );
      }
      return this.writeVersion(scope, key, target, provenance, `rollback to v${version}`);
    });
  }

  /**
   * Undoes everything one audit run wrote. For each entry whose latest version came from the
   * run, restores the version before the run's first write to it; entries the run created become
   * tombstones. An entry someone else changed after the run (a person, another run) is left
   * alone and reported in `skipped`: their later edit wins over an automatic undo. Reverting twice
   * reverts nothing the second time. Throws NotFoundError if the run wrote no knowledge at all.
   */
  revertRun(runId: string, provenance: Provenance): RevertReport {
    return this.store.transaction(() => {
      const written = this.store.bySource("audit_run", runId);
      if (written.length === 0) {
        throw new NotFoundError(`audit run ${runId} wrote no knowledge entries; nothing to revert`);
      }
      const report: RevertReport = { runId, reverted: [], skipped: [] };
      const entries = new Map<string, KnowledgeVersionRow>();
      for (const row of written) {
        const id = `${row.scope}\u0000${row.key}`;
        if (!entries.has(id)) entries.set(id, row);
      }
      for (const first of entries.values()) {
        this.revertEntry(first, runId, provenance, report);
      }
      return report;
    });
  }

  private revertEntry(
    first: KnowledgeVersionRow,
    runId: string,
    provenance: Provenance,
    report: RevertReport,
  ): void {
    const { scope, key } = first;
    const current = this.requireCurrent(scope, key);
    if (current.sourceKind !== "audit_run" || current.sourceRef !== runId) {
      const by = `${current.sourceKind.replace("_", " ")} ${current.sourceRef}`;
      const latest = this.store.version(scope, key, current.version);
      const undone = latest?.note === `revert of run ${runId}`;
      report.skipped.push({
        scope,
        key,
        reason: undone
          ? "already reverted"
          : `changed after the run (v${current.version} by ${by}); roll it back by hand if needed`,
      });
      return;
    }
    const before =
      first.version > 1 ? this.store.version(scope, key, first.version - 1) : undefined;
    const restored = before ?? { content: current.content, data: current.data, deleted: true };
    const entry = this.writeVersion(scope, key, restored, provenance, `revert of run ${runId}`);
    report.reverted.push({
      scope,
      key,
      from: current.version,
      to: entry.version,
      deleted: entry.deleted,
    });
  }

  /** Full-text search (FTS5, bm25) only; synchronous. */
  searchText(options: SearchOptions): KnowledgeHit[] {
    const match = toFtsQuery(options.text);
    if (!match) return [];
    const limit = clampLimit(options.limit);
    return this.store.matchText(match, options.scopes, limit).flatMap((m) => {
      const row = this.store.currentById(m.id);
      return row ? [toHit(row, -m.rank)] : [];
    });
  }

  /**
   * Full text, fused with vector similarity when an embedder is configured and entries have
   * vectors. If embedding the query fails, answers from full text alone with a warning.
   */
  async searchDetailed(options: SearchOptions): Promise<SearchResult> {
    const embedder = this.options.embedder;
    if (!embedder) return { hits: this.searchText(options), mode: "fts" };
    const limit = clampLimit(options.limit);
    const candidates = this.store.embedded(embedder.model, options.scopes);
    if (candidates.length === 0) return { hits: this.searchText(options), mode: "fts" };
    let query: Float32Array;
    try {
      [query] = (await embedder.embed([options.text])) as [Float32Array];
    } catch (error) {
      const warning = `semantic search skipped: ${(error as Error).message}`;
      this.options.onWarning?.(warning);
      return { hits: this.searchText(options), mode: "fts", warning };
    }
    const textIds = this.searchText({ ...options, limit: limit * 4 }).map((h) => this.idOf(h));
    const vectorIds = candidates
      .map((row) => ({ id: row.id, similarity: cosine(query, row.embedding!) }))
      .sort((a, b) => b.similarity - a.similarity)
      .slice(0, limit * 4)
      .map((c) => c.id);
    const fused = [...fuseRankings([textIds, vectorIds])]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit);
    const hits = fused.flatMap(([id, score]) => {
      const row = this.store.currentById(id);
      return row && !row.deleted ? [toHit(row, score)] : [];
    });
    return { hits, mode: "hybrid" };
  }

  async searchScoped(options: SearchOptions): Promise<KnowledgeHit[]> {
    return (await this.searchDetailed(options)).hits;
  }

  /** KnowledgeSource: the asking agent's own entries and the shared ones. */
  async search(query: KnowledgeQuery): Promise<KnowledgeHit[]> {
    const scopes = query.agent === SHARED_SCOPE ? [SHARED_SCOPE] : [query.agent, SHARED_SCOPE];
    return this.searchScoped({ text: query.text, scopes, limit: query.limit ?? 5 });
  }

  /**
   * Embeds live entries that have no vector from the configured model (new or changed since),
   * in batches. Returns how many were embedded; 0 without an embedder. Errors propagate: the
   * entries stay searchable by full text and are embedded on the next call.
   */
  async embedPending(options: { batchSize?: number; signal?: AbortSignal } = {}): Promise<number> {
    const embedder = this.options.embedder;
    if (!embedder) return 0;
    let done = 0;
    for (;;) {
      const batch = this.store.needingEmbedding(embedder.model, options.batchSize ?? 32);
      if (batch.length === 0) return done;
      const vectors = await embedder.embed(batch.map(embeddingText), options.signal);
      batch.forEach((row, i) => {
        this.store.setEmbedding(row.id, row.content, vectors[i]!, embedder.model);
      });
      done += batch.length;
    }
  }

  private idOf(hit: KnowledgeHit): number {
    return this.store.current(hit.scope, hit.key)!.id;
  }

  private currentEntry(row: KnowledgeCurrentRow): KnowledgeEntry {
    const version = this.store.version(row.scope, row.key, row.version);
    return toEntry(version ?? { ...row, note: null });
  }

  private requireCurrent(scope: string, key: string): KnowledgeCurrentRow {
    const current = this.store.current(scope, key);
    if (!current) {
      throw new NotFoundError(
        `no knowledge entry ${scope}/${key}; see \`nightshift kb list --scope ${scope}\``,
      );
    }
    return current;
  }

  private writeVersion(
    scope: string,
    key: string,
    value: { content: string; data: unknown; deleted?: boolean },
    provenance: Provenance,
    note: string | null,
  ): KnowledgeEntry {
    validateProvenance(provenance);
    const current = this.store.current(scope, key);
    const row: KnowledgeVersionRow = {
      scope,
      key,
      version: (current?.version ?? 0) + 1,
      content: value.content,
      data: value.data ?? null,
      deleted: value.deleted ?? false,
      sourceKind: provenance.kind,
      sourceRef: provenance.ref,
      createdAt: provenance.at ?? this.clock.now(),
      note,
    };
    this.store.write(row);
    return toEntry(row);
  }
}

function embeddingText(row: { key: string; content: string }): string {
  return `${row.key}: ${row.content}`;
}

function toHit(row: KnowledgeCurrentRow, score: number): KnowledgeHit {
  return { key: row.key, scope: row.scope, content: row.content, version: row.version, score };
}

function clampLimit(limit: number | undefined): number {
  return Math.min(Math.max(Math.trunc(limit ?? 10), 1), 200);
}

function validateEntry(input: EntryInput): void {
  if (!SCOPE_PATTERN.test(input.scope)) {
    throw new NightshiftError(
      `invalid knowledge scope "${input.scope}": use an agent name or "shared" (letters, digits, . _ -)`,
    );
  }
  if (!KEY_PATTERN.test(input.key)) {
    throw new NightshiftError(
      `invalid knowledge key "${input.key}": one line of 1 to 200 characters, not starting with a space`,
    );
  }
  if (input.content.trim() === "") {
    throw new NightshiftError(`knowledge entry ${input.scope}/${input.key} needs some content`);
  }
}

const KINDS: ProvenanceKind[] = ["audit_run", "correction", "person", "import"];

function validateProvenance(provenance: Provenance): void {
  if (!KINDS.includes(provenance.kind)) {
    throw new NightshiftError(
      `unknown provenance kind "${provenance.kind}"; use ${KINDS.join(", ")}`,
    );
  }
  if (provenance.ref.trim() === "") {
    throw new NightshiftError(
      `provenance ${provenance.kind} needs a ref (run id, correction id, person or file)`,
    );
  }
}

/** The `--json` and API shape: snake_case field names, ISO timestamps. */
export function knowledgeEntryToJson(entry: KnowledgeEntry): Record<string, unknown> {
  return {
    scope: entry.scope,
    key: entry.key,
    version: entry.version,
    content: entry.content,
    data: entry.data,
    deleted: entry.deleted,
    provenance: {
      kind: entry.provenance.kind,
      ref: entry.provenance.ref,
      at: new Date(entry.provenance.at).toISOString(),
    },
    note: entry.note,
  };
}
