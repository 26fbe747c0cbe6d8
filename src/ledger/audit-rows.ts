import type {
  ActionAuditItem,
  AuditItem,
  AuditRun,
  AuditRunStatus,
  CandidateRow,
  Correction,
  Insight,
  ItemOutcome,
  NewCorrection,
  RunClaim,
  Verdict,
} from "./stores/audit.js";

/**
 * Rows of the audit tables to the store's types, for both engines: SQLite and PostgreSQL keep
 * the same snake_case columns, times as integers (int8 parsed to numbers) and bodies as JSON text.
 */
export type Row = Record<string, unknown>;

export const json = (value: unknown): string | null =>
  value === undefined || value === null ? null : JSON.stringify(value);
const parse = (text: unknown): unknown =>
  text === null || text === undefined ? null : JSON.parse(String(text));
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function toRun(r: Row): AuditRun {
  return {
    id: String(r.id),
    seed: String(r.seed),
    traceId: String(r.trace_id),
    mode: r.mode as AuditRun["mode"],
    reviewerRole: String(r.reviewer_role),
    reviewerModel: String(r.reviewer_model),
    windowStart: Number(r.window_start),
    windowEnd: Number(r.window_end),
    sampleRate: Number(r.sample_rate),
    status: r.status as AuditRunStatus,
    batches: Number(r.batches),
    nextBatch: Number(r.next_batch),
    startedAt: Number(r.started_at),
    finishedAt: num(r.finished_at),
    passed: num(r.passed),
    error: str(r.error),
    host: str(r.host),
    heartbeatAt: num(r.heartbeat_at),
  };
}

export function toItem(r: Row): AuditItem {
  return {
    runId: String(r.run_id),
    actionId: String(r.action_id),
    agent: String(r.agent),
    reason: String(r.reason),
    batch: Number(r.batch),
    startedAt: Number(r.started_at),
    confidenceBefore: num(r.confidence_before),
    verdict: (r.verdict as Verdict | null) ?? null,
    correctedOutput: parse(r.corrected_output),
    reasoning: str(r.reasoning),
    confidence: num(r.confidence),
    outcome: (r.outcome as ItemOutcome | null) ?? null,
    pattern: parse(r.pattern),
    patternWritten: Number(r.pattern_written) === 1,
    reviewItemId: str(r.review_item_id),
    reviewedAt: num(r.reviewed_at),
  };
}

export function toActionItem(r: Row): ActionAuditItem {
  return {
    runId: String(r.run_id),
    reviewerModel: String(r.reviewer_model),
    reason: String(r.reason),
    confidenceBefore: num(r.confidence_before),
    verdict: (r.verdict as Verdict | null) ?? null,
    confidence: num(r.confidence),
    reasoning: str(r.reasoning),
    correctedOutput: parse(r.corrected_output),
    outcome: (r.outcome as ItemOutcome | null) ?? null,
    reviewItemId: str(r.review_item_id),
    reviewedAt: num(r.reviewed_at),
  };
}

export function toCorrection(r: Row): Correction {
  return {
    id: String(r.id),
    runId: str(r.run_id),
    actionId: String(r.action_id),
    agent: String(r.agent),
    source: r.source as Correction["source"],
    original: parse(r.original),
    corrected: parse(r.corrected),
    reasoning: str(r.reasoning),
    reviewerModel: str(r.reviewer_model),
    confidenceBefore: num(r.confidence_before),
    confidenceAfter: num(r.confidence_after),
    createdAt: Number(r.created_at),
    appliedAt: num(r.applied_at),
    applyNote: str(r.apply_note),
    applyError: str(r.apply_error),
  };
}

export function toInsight(r: Row): Insight {
  return {
    id: String(r.id),
    runId: String(r.run_id),
    batch: Number(r.batch),
    actionIds: parse(r.action_ids) as string[],
    agents: parse(r.agents) as string[],
    description: String(r.description),
    confidence: Number(r.confidence),
    createdAt: Number(r.created_at),
  };
}

export function toCandidate(r: Row): CandidateRow {
  return {
    id: String(r.id),
    agent: String(r.agent),
    actionType: String(r.action_type),
    model: str(r.model),
    status: r.status as CandidateRow["status"],
    flags: JSON.parse(String(r.flags)) as string[],
    confidence: num(r.confidence),
    startedAt: Number(r.started_at),
    parentId: str(r.parent_id),
    meta: parse(r.meta) as Record<string, unknown> | null,
  };
}

/**
 * Whether `claim` may take the unfinished run: yes when it is not running (paused, failed), when
 * it is already this owner's, or when its holder stopped sending heartbeats (a dead daemon).
 */
export function mayClaim(run: AuditRun, owner: string | null, claim: RunClaim): boolean {
  if (run.status !== "running" || owner === claim.owner) return true;
  if (claim.holderGone?.(run.host)) return true;
  const beat = run.heartbeatAt ?? run.startedAt;
  return claim.now - beat > claim.staleAfterMs;
}

/** The columns candidates are read with (no bodies). */
export const CANDIDATE_COLUMNS =
  "id, agent, action_type, model, status, flags, confidence, started_at, parent_id, meta";

export const DEFAULT_CANDIDATE_PAGE = 5000;

/**
 * A correction's and an insight's values in their tables' column order, as both engines insert
 * them: corrections (id, run_id, action_id, agent, source, original, corrected, reasoning,
 * reviewer_model, confidence_before, confidence_after, created_at); insights (id, run_id, batch,
 * action_ids, agents, description, confidence, created_at).
 */
export function correctionValues(x: NewCorrection): unknown[] {
  return [
    x.id,
    x.runId,
    x.actionId,
    x.agent,
    x.source,
    json(x.original),
    json(x.corrected),
    x.reasoning,
    x.reviewerModel,
    x.confidenceBefore,
    x.confidenceAfter,
    x.createdAt,
  ];
}

export function insightValues(i: Insight): unknown[] {
  return [
    i.id,
    i.runId,
    i.batch,
    JSON.stringify(i.actionIds),
    JSON.stringify(i.agents),
    i.description,
    i.confidence,
    i.createdAt,
  ];
}
