import { setTimeout as delay } from "node:timers/promises";
import {
  KnowledgeConflictError,
  type KnowledgeStore,
  type KnowledgeVersionRow,
} from "../ledger/stores/knowledge.js";
import { type KnowledgeEntry, type Provenance, toEntry, validateProvenance } from "./entry.js";

/** Enough for any real contention (each round lets at least one writer through). */
const MAX_ATTEMPTS = 10;
/**
 * The most a writer waits before deciding again after losing, in ms, doubling from 2. A random
 * part of it breaks lockstep: two writers that lost to each other would otherwise re-read and
 * re-append in the same rhythm and the same one could lose every round (seen under load).
 */
const MAX_BACKOFF_MS = 64;

export interface VersionValue {
  content: string;
  data: unknown;
  deleted?: boolean;
}

/**
 * The versions one change will write, decided from what the store holds: each new version is
 * its entry's latest (stored, or drafted earlier in the same change) + 1. Written together by
 * `commitDraft`, so a change of several entries lands whole or not at all.
 */
export class VersionDraft {
  readonly rows: KnowledgeVersionRow[] = [];
  private readonly latest = new Map<string, KnowledgeVersionRow | undefined>();

  constructor(
    readonly store: KnowledgeStore,
    private readonly now: () => number,
  ) {}

  /** The entry as this change leaves it so far: its drafted version, else the stored one. */
  async current(scope: string, key: string): Promise<KnowledgeVersionRow | undefined> {
    const id = `${scope}\u0000${key}`;
    if (!this.latest.has(id)) this.latest.set(id, await this.store.current(scope, key));
    return this.latest.get(id);
  }

  /** Reads the stored versions of many entries in one round trip (an import), before `current`. */
  async preload(entries: readonly { scope: string; key: string }[]): Promise<void> {
    const missing = entries.filter((e) => !this.latest.has(`${e.scope}\u0000${e.key}`));
    if (missing.length === 0) return;
    for (const e of missing) this.latest.set(`${e.scope}\u0000${e.key}`, undefined);
    for (const row of await this.store.currentMany(missing)) {
      this.latest.set(`${row.scope}\u0000${row.key}`, row);
    }
  }

  async write(
    scope: string,
    key: string,
    value: VersionValue,
    provenance: Provenance,
    note: string | null,
  ): Promise<KnowledgeEntry> {
    validateProvenance(provenance);
    const current = await this.current(scope, key);
    const row: KnowledgeVersionRow = {
      scope,
      key,
      version: (current?.version ?? 0) + 1,
      content: value.content,
      data: value.data ?? null,
      deleted: value.deleted ?? false,
      sourceKind: provenance.kind,
      sourceRef: provenance.ref,
      createdAt: provenance.at ?? this.now(),
      note,
    };
    this.rows.push(row);
    this.latest.set(`${scope}\u0000${key}`, row);
    return toEntry(row);
  }
}

/**
 * Decides a change with `plan` and writes it in one transaction. When another writer (another
 * daemon on the same PostgreSQL, a CLI beside the daemon) appended to one of its entries first,
 * the change is decided again from what is stored now: a put finds the new text, a rollback
 * writes on top of it. Version numbers therefore never repeat and never skip.
 */
export async function commitDraft<T>(
  store: KnowledgeStore,
  now: () => number,
  plan: (draft: VersionDraft) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const draft = new VersionDraft(store, now);
    const result = await plan(draft);
    if (draft.rows.length === 0) return result;
    try {
      await store.append(draft.rows);
      return result;
    } catch (error) {
      if (!(error instanceof KnowledgeConflictError) || attempt >= MAX_ATTEMPTS) throw error;
      await delay(Math.random() * Math.min(MAX_BACKOFF_MS, 2 ** attempt));
    }
  }
}
