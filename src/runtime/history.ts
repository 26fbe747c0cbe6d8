import { createHash } from "node:crypto";
import type { Action, AuditStatus } from "../ledger/actions.js";
import type { ActionReads } from "../ledger/stores/index.js";
import type { RecentActions } from "./recent-actions.js";

/**
 * "Trace its own step back": what the agent did before on the same input, or earlier in the same
 * run. A stage's prompt builder gets this view and may put it in the prompt ("last time X failed
 * check Y; the audit corrected it to Z").
 */

/** JSON with object keys sorted, so equal values give equal text whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}

/** The ledger's input_key of a stage run: sha256 of the canonical JSON of {stage, input}. */
export function inputKey(stage: string, input: unknown): string {
  return createHash("sha256")
    .update(canonicalJson({ stage, input: input ?? null }))
    .digest("hex");
}

export interface PastStep {
  actionId: string;
  traceId: string;
  /** The stage name, or "attempt" / "model_call" for steps inside a stage. */
  actionType: string;
  /** For attempts: the approach tried ("primary" or an alternative's name). */
  approach: string | null;
  model: string | null;
  startedAt: number;
  status: "ok" | "error";
  error: string | null;
  output: unknown;
  confidence: number | null;
  flags: string[];
  failedChecks: string[];
  /** What the night-shift audit made of it; "corrected" means the output was wrong. */
  auditStatus: AuditStatus | null;
}

export interface StageHistory {
  /** Earlier stage runs and attempts of this agent on the same stage and input, newest first. */
  sameInput: PastStep[];
  /** Steps already taken in this run before this stage (earlier stages, their attempts and calls). */
  sameTrace: PastStep[];
}

export const emptyHistory: StageHistory = { sameInput: [], sameTrace: [] };

/** The two ledger reads history needs, on either engine. */
export type HistoryStore = Pick<ActionReads, "byInputKey" | "trace">;

/**
 * Reads history from the ledger (committed actions) merged with `recent` (actions this runtime
 * wrote that may still be queued in the batched writer). The two reads go out together: on
 * PostgreSQL each is a round trip.
 */
export async function loadHistory(
  store: HistoryStore,
  recent: RecentActions,
  agent: string,
  key: string,
  traceId: string,
  limit = 20,
): Promise<StageHistory> {
  const [byKey, inTrace] = await Promise.all([
    store.byInputKey(agent, key, limit),
    store.trace(traceId),
  ]);
  const sameInput = merge(byKey, recent.withInputKey(agent, key))
    .filter((a) => a.traceId !== traceId)
    .sort((a, b) => b.startedAt - a.startedAt || (a.id < b.id ? 1 : -1))
    .slice(0, limit)
    .map(toPastStep);
  const sameTrace = merge(inTrace, recent.inTrace(traceId))
    .filter((a) => a.parentId !== null)
    .sort((a, b) => a.startedAt - b.startedAt || (a.id < b.id ? -1 : 1))
    .map(toPastStep);
  return { sameInput, sameTrace };
}

function merge(committed: Action[], queued: Action[]): Action[] {
  if (queued.length === 0) return committed;
  const seen = new Set(committed.map((a) => a.id));
  return [...committed, ...queued.filter((a) => !seen.has(a.id))];
}

export function toPastStep(action: Action): PastStep {
  const meta = action.meta ?? {};
  const derivation = meta.confidence as
    | { checks?: { name: string; passed: boolean }[] }
    | undefined;
  const failedChecks = (derivation?.checks ?? []).filter((c) => !c.passed).map((c) => c.name);
  const response = action.response as { output?: unknown } | null;
  return {
    actionId: action.id,
    traceId: action.traceId,
    actionType: action.actionType,
    approach: typeof meta.approach === "string" ? meta.approach : null,
    model: action.model,
    startedAt: action.startedAt,
    status: action.status,
    error: action.error,
    output:
      response && typeof response === "object" && "output" in response
        ? response.output
        : action.response,
    confidence: action.confidence,
    flags: action.flags,
    failedChecks,
    auditStatus: action.auditStatus,
  };
}

/**
 * A short text a prompt can include: what was tried on this input before, what failed, and what
 * the audit corrected. Empty when there is nothing to say.
 */
export function describeHistory(history: StageHistory, max = 5): string {
  const lines: string[] = [];
  for (const step of history.sameInput.filter((s) => s.actionType !== "model_call").slice(0, max)) {
    const when = new Date(step.startedAt).toISOString();
    const what = step.approach
      ? `attempt (${step.approach}, ${step.model ?? "?"})`
      : step.actionType;
    const outcome =
      step.status === "error"
        ? `failed: ${step.error ?? "error"}`
        : `answered ${JSON.stringify(step.output)} with confidence ${step.confidence ?? "?"}`;
    const checks = step.failedChecks.length
      ? `; failed checks: ${step.failedChecks.join(", ")}`
      : "";
    const audit =
      step.auditStatus === "corrected"
        ? "; the audit CORRECTED this answer, it was wrong"
        : step.auditStatus === "verified"
          ? "; the audit verified it"
          : "";
    lines.push(`- ${when} ${what} ${outcome}${checks}${audit}`);
  }
  return lines.length ? `Earlier work on this same input:\n${lines.join("\n")}` : "";
}
