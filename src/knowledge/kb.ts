import { type Clock, systemClock } from "../clock.js";
import { NightshiftError, NotFoundError } from "../errors.js";
import type { KnowledgeStore, ProvenanceKind } from "../ledger/stores/knowledge.js";
import type { KnowledgeHit, KnowledgeQuery, KnowledgeSource } from "../runtime/knowledge.js";
import { commitDraft, type VersionDraft } from "./draft.js";
import {
  type EntryInput,
  type KnowledgeEntry,
  type Provenance,
  type RevertReport,
  type SearchOptions,
  type SearchResult,
  SHARED_SCOPE,
  toEntry,
  validateEntry,
} from "./entry.js";
import { clampLimit, embeddingText, fuse, toHit } from "./hybrid.js";
import { draftRevert } from "./revert.js";
import type { Embedder } from "./search.js";

export * from "./entry.js";

export interface KnowledgeBaseOptions {
  clock?: Clock;
  /** Enables hybrid (full text + vector) ranking; without it, search is full text only. */
  embedder?: Embedder;
  /** Told when a search falls back to full text (the embedder failed); the search still answers. */
  onWarning?: (message: string) => void;
}

/** What a put did: the entry's version after it, and whether that version is new. */
export interface PutResult {
  entry: KnowledgeEntry;
  changed: boolean;
}

/**
 * The versioned knowledge base the agents read. Every change (put, delete, rollback, revert) is
 * a new version with its provenance; nothing is ever overwritten, so any state can be restored.
 * It works on either ledger engine through the KnowledgeStore seam.
 */
export class KnowledgeBase implements KnowledgeSource {
  private readonly clock: Clock;
  private readonly now = () => this.clock.now();

  constructor(
    readonly store: KnowledgeStore,
    private readonly options: KnowledgeBaseOptions = {},
  ) {
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
  async put(
    input: EntryInput,
    provenance: Provenance,
    note: string | null = null,
  ): Promise<KnowledgeEntry> {
    return (await this.putMany([input], provenance, note))[0]!.entry;
  }

  /** Puts several entries in one transaction: all are written or none (e.g. one import file). */
  async putMany(
    inputs: EntryInput[],
    provenance: Provenance,
    note: string | null = null,
  ): Promise<PutResult[]> {
    for (const input of inputs) validateEntry(input);
    return commitDraft(this.store, this.now, async (draft) => {
      if (inputs.length > 1) await draft.preload(inputs);
      const results: PutResult[] = [];
      for (const input of inputs) results.push(await draftPut(draft, input, provenance, note));
      return results;
    });
  }

  /** Removes an entry by writing a tombstone version; its history stays. */
  async remove(scope: string, key: string, provenance: Provenance): Promise<KnowledgeEntry> {
    return commitDraft(this.store, this.now, async (draft) => {
      const current = requireCurrent(scope, key, await draft.current(scope, key));
      if (current.deleted) {
        throw new NightshiftError(`knowledge entry ${scope}/${key} is already deleted`, {
          status: 409,
          code: "conflict",
        });
      }
      const value = { content: current.content, data: current.data, deleted: true };
      return draft.write(scope, key, value, provenance, "deleted");
    });
  }

  /** The current version, or undefined if the entry never existed or is deleted. */
  async get(scope: string, key: string): Promise<KnowledgeEntry | undefined> {
    const current = await this.store.current(scope, key);
    return current && !current.deleted ? toEntry(current) : undefined;
  }

  /** Every version of an entry, oldest first (tombstones included). */
  async history(scope: string, key: string): Promise<KnowledgeEntry[]> {
    return (await this.store.versions(scope, key)).map(toEntry);
  }

  /** Scopes holding a given key (live or not): lets the CLI find KEY without --scope. */
  async scopesOf(key: string): Promise<string[]> {
    return (await this.store.list({ key, includeDeleted: true })).map((row) => row.scope);
  }

  async list(
    filter: { scope?: string; includeDeleted?: boolean; limit?: number } = {},
  ): Promise<KnowledgeEntry[]> {
    const rows = await this.store.list({
      ...(filter.scope === undefined ? {} : { scopes: [filter.scope] }),
      includeDeleted: filter.includeDeleted ?? false,
      ...(filter.limit === undefined ? {} : { limit: filter.limit }),
    });
    return rows.map(toEntry);
  }

  /** Every version one source wrote, oldest first (e.g. the patterns of one audit run). */
  async writtenBy(kind: ProvenanceKind, ref: string): Promise<KnowledgeEntry[]> {
    return (await this.store.bySource(kind, ref)).map(toEntry);
  }

  /**
   * Writes a new version equal to `version` of the entry (content, data and deletion state), so
   * the rollback itself is history and can be rolled back too.
   */
  async rollback(
    scope: string,
    key: string,
    version: number,
    provenance: Provenance,
  ): Promise<KnowledgeEntry> {
    return commitDraft(this.store, this.now, async (draft) => {
      const current = requireCurrent(scope, key, await draft.current(scope, key));
      const target = await this.store.version(scope, key, version);
      if (!target) {
        throw new NotFoundError(
          `knowledge entry ${scope}/${key} has no version ${version} (versions 1 to ${current.version}); see \`nightshift kb history ${key}\``,
        );
      }
      if (target.version === current.version) {
        throw new NightshiftError(
          `knowledge entry ${scope}/${key} is already at version ${version}`,
          { status: 409, code: "conflict" },
        );
      }
      return draft.write(scope, key, target, provenance, `rollback to v${version}`);
    });
  }

  /** Undoes everything one audit run wrote, in one transaction (see draftRevert). */
  async revertRun(runId: string, provenance: Provenance): Promise<RevertReport> {
    return commitDraft(this.store, this.now, (draft) => draftRevert(draft, runId, provenance));
  }

  /** Full-text search only (FTS5 with bm25 on SQLite, tsvector with ts_rank on PostgreSQL). */
  async searchText(options: SearchOptions): Promise<KnowledgeHit[]> {
    const matches = await this.store.searchText(
      options.text,
      options.scopes,
      clampLimit(options.limit),
    );
    return matches.map((m) => toHit(m.entry, m.score));
  }

  /**
   * Full text, fused with vector similarity when an embedder is configured and entries have
   * vectors. If embedding the query fails, answers from full text alone with a warning.
   */
  async searchDetailed(options: SearchOptions): Promise<SearchResult> {
    const embedder = this.options.embedder;
    if (!embedder || !(await this.store.hasEmbeddings(embedder.model, options.scopes))) {
      return { hits: await this.searchText(options), mode: "fts" };
    }
    const limit = clampLimit(options.limit);
    let query: Float32Array;
    try {
      [query] = (await embedder.embed([options.text])) as [Float32Array];
    } catch (error) {
      const warning = `semantic search skipped: ${(error as Error).message}`;
      this.options.onWarning?.(warning);
      return { hits: await this.searchText(options), mode: "fts", warning };
    }
    const [text, near] = await Promise.all([
      this.store.searchText(options.text, options.scopes, limit * 4),
      this.store.nearest(embedder.model, query, options.scopes, limit * 4),
    ]);
    return { hits: fuse(text, near, limit), mode: "hybrid" };
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
      const batch = await this.store.needingEmbedding(embedder.model, options.batchSize ?? 32);
      if (batch.length === 0) return done;
      const vectors = await embedder.embed(batch.map(embeddingText), options.signal);
      for (const [i, row] of batch.entries()) {
        await this.store.setEmbedding(row.id, row.content, vectors[i]!, embedder.model);
      }
      done += batch.length;
    }
  }
}

async function draftPut(
  draft: VersionDraft,
  input: EntryInput,
  provenance: Provenance,
  note: string | null,
): Promise<PutResult> {
  const current = await draft.current(input.scope, input.key);
  const data = input.data ?? null;
  if (
    current &&
    !current.deleted &&
    current.content === input.content &&
    JSON.stringify(current.data) === JSON.stringify(data)
  ) {
    return { entry: toEntry(current), changed: false };
  }
  const value = { content: input.content, data };
  const entry = await draft.write(input.scope, input.key, value, provenance, note);
  return { entry, changed: true };
}

function requireCurrent<T>(scope: string, key: string, current: T | undefined): T {
  if (!current) {
    throw new NotFoundError(
      `no knowledge entry ${scope}/${key}; see \`nightshift kb list --scope ${scope}\``,
    );
  }
  return current;
}
