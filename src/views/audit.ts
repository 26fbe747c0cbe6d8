import type { ActionAuditItem, Correction, LearningDay } from "../ledger/stores/index.js";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A correction as the API, the report and the dashboard show it (snake_case). */
export function correctionToJson(c: Correction): Record<string, unknown> {
  return {
    id: c.id,
    run_id: c.runId,
    action_id: c.actionId,
    agent: c.agent,
    source: c.source,
    original: c.original,
    corrected: c.corrected,
    reasoning: c.reasoning,
    reviewer_model: c.reviewerModel,
    confidence_before: c.confidenceBefore,
    confidence_after: c.confidenceAfter,
    created_at: iso(c.createdAt),
    applied_at: iso(c.appliedAt),
    apply_note: c.applyNote,
    apply_error: c.applyError,
  };
}

/** One audit run's look at an action: why it was picked and what the reviewer found. */
export function auditItemToJson(i: ActionAuditItem): Record<string, unknown> {
  return {
    run_id: i.runId,
    reviewer_model: i.reviewerModel,
    reason: i.reason,
    confidence_before: i.confidenceBefore,
    verdict: i.verdict,
    confidence: i.confidence,
    reasoning: i.reasoning,
    corrected_output: i.correctedOutput,
    outcome: i.outcome,
    review_item_id: i.reviewItemId,
    reviewed_at: iso(i.reviewedAt),
  };
}

/** A day of the learning curve; `error_rate` is null on a day with nothing reviewed. */
export function learningDayToJson(d: LearningDay): Record<string, unknown> {
  return {
    day: d.day,
    reviewed: d.reviewed,
    wrong: d.wrong,
    unsure: d.unsure,
    error_rate: d.reviewed === 0 ? null : Math.round((d.wrong / d.reviewed) * 1000) / 1000,
  };
}
