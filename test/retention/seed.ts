import type { Action, AuditStatus, NewAction } from "../../src/ledger/actions.js";
import type { Ledger } from "../../src/ledger/ledger.js";
import { sqliteStores } from "../../src/ledger/select.js";
import type { RetentionStore } from "../../src/ledger/stores/index.js";

export const DAY_MS = 86_400_000;
/** The reference time of every retention test: noon, so day boundaries are far away. */
export const NOW = Date.parse("2026-06-01T12:00:00Z");

export function daysAgo(days: number): number {
  return NOW - days * DAY_MS;
}

export interface SeedSpec {
  ageDays: number;
  status: AuditStatus | null;
  flags?: string[];
  agent?: string;
  actionType?: string;
  confidence?: number | null;
  error?: boolean;
  tokensIn?: number;
  tokensOut?: number;
  latencyMs?: number;
}

/** A chat call as the gateway logs it, with bodies of a few KB like a real one. */
export function chatAction(spec: SeedSpec, n = 0): NewAction {
  const startedAt = daysAgo(spec.ageDays) + n;
  return {
    agent: spec.agent ?? "finance",
    actionType: spec.actionType ?? "chat",
    model: "qwen2.5:7b",
    startedAt,
    endedAt: startedAt + (spec.latencyMs ?? 800),
    latencyMs: spec.latencyMs ?? 800,
    status: spec.error ? "error" : "ok",
    error: spec.error ? "upstream closed the connection" : null,
    request: {
      model: "qwen2.5:7b",
      messages: [
        { role: "system", content: `You categorize bank transactions. ${"Rules. ".repeat(200)}` },
        {
          role: "user",
          content: `Categorize transaction #${n}: COFFEE SHOP 4.50 ${"x".repeat(600)}`,
        },
      ],
    },
    response: {
      model: "qwen2.5:7b",
      message: { role: "assistant", content: `{"category":"dining","n":${n}} ${"y".repeat(900)}` },
      done: true,
    },
    reasoning: `The merchant name says coffee. ${"Because. ".repeat(150)}`,
    confidence: spec.confidence === undefined ? 0.9 : spec.confidence,
    flags: spec.flags ?? [],
    tokensIn: spec.tokensIn ?? 1200,
    tokensOut: spec.tokensOut ?? 40,
    meta: { attempt: 1, prompt_copy: "p".repeat(2000), checks: ["schema"] },
  };
}

/** Inserts one action per spec through the ledger's own API and sets its audit status. */
export function seed(ledger: Ledger, specs: SeedSpec[]): Action[] {
  const actions = ledger.actions.insert(specs.map((spec, i) => chatAction(spec, i)));
  specs.forEach((spec, i) => {
    if (spec.status !== null) ledger.actions.setAuditStatus([actions[i]!.id], spec.status);
  });
  return actions;
}

/** Retention's store over a SQLite ledger, as the CLI and the daemon get it from the seam. */
export function retentionOf(ledger: Ledger): RetentionStore {
  return sqliteStores(ledger).retention;
}
