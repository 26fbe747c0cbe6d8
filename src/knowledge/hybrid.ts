import type { KnowledgeCurrentRow, KnowledgeMatch } from "../ledger/stores/knowledge.js";
import type { KnowledgeHit } from "../runtime/knowledge.js";
import { fuseRankings } from "./search.js";

/** Reciprocal rank fusion of the two rankings; rows come from the searches themselves. */
export function fuse(
  text: KnowledgeMatch[],
  near: KnowledgeMatch[],
  limit: number,
): KnowledgeHit[] {
  const rows = new Map<number, KnowledgeCurrentRow>();
  for (const m of [...text, ...near]) rows.set(m.entry.id, m.entry);
  const ranked = fuseRankings([text.map((m) => m.entry.id), near.map((m) => m.entry.id)]);
  return [...ranked]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([id, score]) => toHit(rows.get(id)!, score));
}

export function embeddingText(row: { key: string; content: string }): string {
  return `${row.key}: ${row.content}`;
}

export function toHit(row: KnowledgeCurrentRow, score: number): KnowledgeHit {
  return { key: row.key, scope: row.scope, content: row.content, version: row.version, score };
}

export function clampLimit(limit: number | undefined): number {
  return Math.min(Math.max(Math.trunc(limit ?? 10), 1), 200);
}
