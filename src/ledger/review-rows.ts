import type {
  Delivery,
  DeliveryAttempt,
  DeliveryStatus,
  Feedback,
  ReviewFilter,
  ReviewItem,
  ReviewKind,
  ReviewStatus,
} from "./stores/review.js";

/*
 * Rows of the review domain's tables as the stores return them. Both engines have the same
 * columns (SQLite 0005/0010, PostgreSQL 0004), so one mapping serves both.
 */

export type Row = Record<string, unknown>;
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

export interface ReviewRecord {
  id: number;
  action_id: string | null;
  kind: ReviewKind;
  agent: string;
  title: string;
  original: string | null;
  proposed: string | null;
  reasoning: string | null;
  confidence: number | null;
  opened_by: string;
  context: string | null;
  created_at: number;
  status: ReviewStatus;
  decided_by: string | null;
  decided_at: number | null;
  decision_output: string | null;
  decision_reason: string | null;
  applied_note: string | null;
}

/** JSON text for a column, or NULL; the same on both engines (text, not jsonb). */
export function jsonColumn(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

function parse(text: unknown): unknown {
  return text === null || text === undefined ? null : JSON.parse(String(text));
}

/** A review_items row as an item. */
export function rowToReviewItem(r: ReviewRecord): ReviewItem {
  return {
    id: Number(r.id),
    actionId: r.action_id,
    kind: r.kind,
    agent: r.agent,
    title: r.title,
    original: parse(r.original),
    proposed: parse(r.proposed),
    reasoning: r.reasoning,
    confidence: r.confidence,
    openedBy: r.opened_by,
    context: parse(r.context),
    createdAt: Number(r.created_at),
    status: r.status,
    decidedBy: r.decided_by,
    decidedAt: r.decided_at === null ? null : Number(r.decided_at),
    decisionOutput: parse(r.decision_output),
    decisionReason: r.decision_reason,
    appliedNote: r.applied_note,
  };
}

/** The WHERE of a list, with `placeholder(n)` for the n-th parameter (? or $n). */
export function reviewWhere(
  filter: ReviewFilter,
  placeholder: (n: number) => string,
): { where: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  for (const [column, value] of [
    ["status", filter.status],
    ["agent", filter.agent],
    ["kind", filter.kind],
  ] as const) {
    if (value === undefined) continue;
    params.push(value);
    clauses.push(`${column} = ${placeholder(params.length)}`);
  }
  return { where: clauses.length ? ` WHERE ${clauses.join(" AND ")}` : "", params };
}

/** An action_feedback row (migration 0010; the same columns on PostgreSQL). */
export function rowToFeedback(r: Row): Feedback {
  return {
    id: Number(r.id),
    actionId: String(r.action_id),
    createdAt: Number(r.created_at),
    givenBy: String(r.given_by),
    confidence: r.confidence === null ? null : Number(r.confidence),
    flags: JSON.parse(String(r.flags)) as string[],
    reasoning: (r.reasoning as string | null) ?? null,
    scores: JSON.parse(String(r.scores)) as Record<string, number>,
  };
}

/** A delivery row with its correction's columns; PostgreSQL rows have the same names. */
export function rowToDelivery(r: Row): Delivery {
  return {
    correctionId: String(r.correction_id),
    agent: String(r.agent),
    status: r.status as DeliveryStatus,
    createdAt: Number(r.created_at),
    acknowledgedAt: num(r.acknowledged_at),
    acknowledgedVia: (r.acknowledged_via as Delivery["acknowledgedVia"]) ?? null,
    note: (r.note as string | null) ?? null,
    attempts: Number(r.attempts),
    nextAttemptAt: num(r.next_attempt_at),
    lastError: (r.last_error as string | null) ?? null,
    actionId: String(r.action_id),
    source: r.source as Delivery["source"],
    runId: (r.run_id as string | null) ?? null,
    original: parse(r.original),
    corrected: parse(r.corrected),
    reasoning: (r.reasoning as string | null) ?? null,
    reviewerModel: (r.reviewer_model as string | null) ?? null,
    confidenceAfter: num(r.confidence_after),
  };
}

export function rowToAttempt(r: Row): DeliveryAttempt {
  return {
    correctionId: String(r.correction_id),
    deliveryId: String(r.delivery_id),
    url: String(r.url),
    attemptedAt: Number(r.attempted_at),
    httpStatus: num(r.http_status),
    error: (r.error as string | null) ?? null,
    durationMs: Number(r.duration_ms),
  };
}
