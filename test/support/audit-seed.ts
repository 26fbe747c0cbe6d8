import { randomUUID } from "node:crypto";
import { AuditStore, type Verdict } from "../../src/ledger/audit-store.js";
import type { Ledger } from "../../src/ledger/ledger.js";

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
export function seedAuditRun(ledger: Ledger, at: number, items: SeedItem[]): string {
  const store = new AuditStore(ledger.db);
  const id = randomUUID();
  store.createRun(
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
  );
  for (const i of items) {
    const wrong = i.verdict === "incorrect";
    store.recordItem(
      id,
      {
        actionId: i.actionId,
        verdict: i.verdict,
        correctedOutput: wrong ? (i.corrected ?? null) : null,
        reasoning: wrong ? "The merchant is a coffee shop, not a restaurant." : "Looks right.",
        confidence: 0.9,
        outcome: wrong ? "corrected" : i.verdict === "unsure" ? "in_review" : "verified",
        pattern: null,
        reviewItemId: null,
      },
      at,
    );
    store.setAuditStatus(
      i.actionId,
      wrong ? "corrected" : i.verdict === "unsure" ? "in_review" : "verified",
    );
    if (wrong) {
      store.insertCorrection({
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
  store.finishRun(id, at, 0);
  return id;
}
