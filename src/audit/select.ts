import { createHash } from "node:crypto";
import type { AuditStore, CandidateRow } from "../ledger/stores/index.js";

/**
 * Which actions a run reviews: every flagged or failed one, plus a deterministic random sample of
 * the rest. The sample is what keeps the audit honest about what nobody flagged (a day model that
 * is confidently wrong is only ever caught there), and it is drawn per agent so a busy agent
 * cannot crowd a quiet one out of the night's review.
 */
export const AUDITOR_AGENT = "auditor";

/** Flags that put an action in every run, in order of precedence for the item's reason. */
const FLAG_REASONS = ["requires_audit", "check_failed", "low_confidence"] as const;

/**
 * Gateway endpoints and runtime steps whose output is not a model's answer. The audit reviews
 * what a model said (chat, generate, completions, runtime stages and attempts); an embedding or
 * a model listing has nothing a reviewer could judge.
 */
const NOT_REVIEWABLE = new Set([
  "embed",
  "embeddings",
  "openai-embeddings",
  "tags",
  "ps",
  "show",
  "version",
  "models",
  "pull",
  "push",
  "create",
  "copy",
  "delete",
  "unload",
  "proxy",
  "passthrough",
  "job",
  // Inside a runtime stage: the stage action carries the outcome and shows these as its trace.
  "attempt",
  "model_call",
]);

export type SelectionReason = (typeof FLAG_REASONS)[number] | "error" | "sample";

export interface SelectedAction {
  actionId: string;
  agent: string;
  reason: SelectionReason;
  startedAt: number;
  confidence: number | null;
}

export interface SelectionOptions {
  since: number;
  until: number;
  seed: string;
  sampleRate: number;
}

export interface Selection {
  items: SelectedAction[];
  /** Candidates in the window (not yet audited, not the auditor's) and how many were reviewable. */
  considered: number;
  reviewable: number;
}

export function isReviewable(
  row: Pick<CandidateRow, "actionType" | "model" | "agent" | "flags" | "status">,
): boolean {
  if (row.agent === AUDITOR_AGENT) return false;
  const type = row.actionType.toLowerCase();
  if (NOT_REVIEWABLE.has(type) || type.includes("embed")) return false;
  // A runtime stage that got no valid reply names no winning model, yet it is exactly what the
  // audit promises to review; only an unflagged call that never named a model has nothing to judge.
  return row.model !== null || flagReason(row) !== null;
}

export function flagReason(row: Pick<CandidateRow, "flags" | "status">): SelectionReason | null {
  for (const reason of FLAG_REASONS) {
    if (row.flags.includes(reason)) return reason;
  }
  if (row.flags.some((flag) => flag.startsWith("check_failed"))) return "check_failed";
  if (row.status === "error") return "error";
  return null;
}

/** A number in [0, 1) fixed by the seed and the action id: the same seed draws the same sample. */
export function sampleKey(seed: string, actionId: string): number {
  const digest = createHash("sha256").update(`${seed}\u0000${actionId}`).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/**
 * Per agent, the `rate` share of its unflagged actions (rounded, and at least one where the agent
 * has any), taken in order of their sample key; so the draw is reproducible from the seed and
 * spread across agents.
 */
export async function selectForAudit(
  store: Pick<AuditStore, "candidates">,
  options: SelectionOptions,
): Promise<Selection> {
  const items: SelectedAction[] = [];
  const rest = new Map<string, { key: number; row: CandidateRow }[]>();
  // Parents start before their children, so a scan in time order has seen a call's attempt
  // before the call; a gateway call made by a runtime attempt is part of that stage.
  const attempts = new Set<string>();
  let considered = 0;
  let reviewable = 0;
  for await (const row of store.candidates(options.since, options.until)) {
    if (row.agent === AUDITOR_AGENT) continue;
    considered++;
    if (row.actionType === "attempt") attempts.add(row.id);
    if (!isReviewable(row) || (row.parentId !== null && attempts.has(row.parentId))) continue;
    reviewable++;
    const reason = flagReason(row);
    if (reason) {
      items.push(toSelected(row, reason));
      continue;
    }
    const pool = rest.get(row.agent) ?? [];
    pool.push({ key: sampleKey(options.seed, row.id), row });
    rest.set(row.agent, pool);
  }
  for (const pool of rest.values()) {
    const quota = sampleQuota(pool.length, options.sampleRate);
    pool.sort((a, b) => a.key - b.key);
    for (const { row } of pool.slice(0, quota)) items.push(toSelected(row, "sample"));
  }
  items.sort((a, b) => a.startedAt - b.startedAt || a.actionId.localeCompare(b.actionId));
  return { items, considered, reviewable };
}

export function sampleQuota(count: number, rate: number): number {
  if (count === 0 || rate <= 0) return 0;
  return Math.min(count, Math.max(1, Math.round(count * rate)));
}

function toSelected(row: CandidateRow, reason: SelectionReason): SelectedAction {
  return {
    actionId: row.id,
    agent: row.agent,
    reason,
    startedAt: row.startedAt,
    confidence: row.confidence,
  };
}
