import { NightshiftError } from "../errors.js";
import type { KnowledgeVersionRow, ProvenanceKind } from "../ledger/stores/knowledge.js";
import type { KnowledgeHit } from "../runtime/knowledge.js";

export type { ProvenanceKind } from "../ledger/stores/knowledge.js";

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

export function toEntry(row: KnowledgeVersionRow): KnowledgeEntry {
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

const KEY_PATTERN = /^[^\s][^\n]{0,199}$/;
const SCOPE_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,63}$/i;

export function validateEntry(input: EntryInput): void {
  if (!SCOPE_PATTERN.test(input.scope)) {
    throw new NightshiftError(
      `invalid knowledge scope "${input.scope}": use an agent name or "shared" (letters, digits, . _ -)`,
    );
  }
  // NUL: PostgreSQL's text cannot hold it, and no entry means one; refused on both engines alike.
  if (!KEY_PATTERN.test(input.key) || input.key.includes("\u0000")) {
    throw new NightshiftError(
      `invalid knowledge key "${input.key.replaceAll("\u0000", "\\0")}": one line of 1 to 200 characters, not starting with a space`,
    );
  }
  if (input.content.trim() === "") {
    throw new NightshiftError(`knowledge entry ${input.scope}/${input.key} needs some content`);
  }
  if (input.content.includes("\u0000")) {
    throw new NightshiftError(
      `knowledge entry ${input.scope}/${input.key}: the content holds a NUL character (\\0); remove it`,
    );
  }
}

const KINDS: ProvenanceKind[] = ["audit_run", "correction", "person", "import"];

export function validateProvenance(provenance: Provenance): void {
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
