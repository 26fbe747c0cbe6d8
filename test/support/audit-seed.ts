import { randomUUID } from "node:crypto";
import type { Ledger } from "../../src/ledger/ledger.js";
import { sqliteStoresOf } from "../../src/ledger/sqlite/stores-of.js";
import type { ItemResult, NewCorrection, Verdict } from "../../src/ledger/stores/index.js";

export interface SeedItem {
  actionId: string;
  agent: string;
  /** The audited action's start: the learning curve counts it on this day. */
  startedAt: number;
  confidenceBefore: number;
  verdict: Verdict;
  /** For an incorrect verdict: the output the reviewer proposes; recorded as a correction. */
  corrected?: unknown;
  original?: unknown;
}

/**
 * Writes a finished audit run through the audit's own store, as `nightshift audit run` leaves
 * it: its items with verdicts and outcomes, and a correction for each wrong one.
 */
export async function seedAuditRun(ledger: Ledger, at: number, items: SeedItem[]): Promise<string> {
  const store = sqliteStoresOf(ledger).audit;
  const id = randomUUID();
  const claim = { owner: "seed", host: "seed", now: at, staleAfterMs: 0 };
  await store.createRun(
    {
      id,
      seed: "seed",
      traceId: randomUUID(),
      mode: "normal",
      reviewerRole: "reviewer",
      reviewerModel: "qwen2.5:32b",
      windowStart: Math.min(...items.map((i) => i.startedAt)),
      windowEnd: at,
      sampleRate: 1,
      batches: 1,
      startedAt: at,
    },
    items.map((i) => ({ ...i, reason: "low_confidence", batch: 0 })),
    claim,
  );
  const results: ItemResult[] = [];
  const corrections: NewCorrection[] = [];
  const statuses: { actionId: string; status: "corrected" | "in_review" | "verified" }[] = [];
  for (const i of items) {
    const wrong = i.verdict === "incorrect";
    results.push({
      actionId: i.actionId,
      verdict: i.verdict,
      correctedOutput: wrong ? (i.corrected ?? null) : null,
      reasoning: wrong ? "The merchant is a coffee shop, not a restaurant." : "Looks right.",
      confidence: 0.9,
      outcome: wrong ? "corrected" : i.verdict === "unsure" ? "in_review" : "verified",
      pattern: null,
      reviewItemId: null,
    });
    statuses.push({
      actionId: i.actionId,
      status: wrong ? "corrected" : i.verdict === "unsure" ? "in_review" : "verified",
    });
    if (wrong) {
      corrections.push({
        id: randomUUID(),
        runId: id,
        actionId: i.actionId,
        agent: i.agent,
        source: "audit",
        original: i.original ?? null,
        corrected: i.corrected ?? null,
        reasoning: "The merchant is a coffee shop, not a restaurant.",
        reviewerModel: "qwen2.5:32b",
        confidenceBefore: i.confidenceBefore,
        confidenceAfter: 0.9,
        createdAt: at,
      });
    }
  }
  await store.commitBatch({
    runId: id,
    owner: "seed",
    batch: 0,
    results,
    corrections,
    statuses,
    insights: [],
    at,
  });
  await store.finishRun(id, "seed", at);
  return id;
}
