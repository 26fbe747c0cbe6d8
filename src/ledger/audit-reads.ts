import type { ItemOutcome, Verdict } from "./audit-store.js";
import type { Db } from "./db.js";

/** An audit item of one action, with the run's reviewer. */
export interface ActionAuditItem {
  runId: string;
  reviewerModel: string;
  reason: string;
  confidenceBefore: number | null;
  verdict: Verdict | null;
  confidence: number | null;
  reasoning: string | null;
  correctedOutput: unknown;
  outcome: ItemOutcome | null;
  reviewItemId: string | null;
  reviewedAt: number | null;
}

/** Reviewed actions of one local day (YYYY-MM-DD) and how many the audit found wrong. */
export interface LearningDay {
  day: string;
  reviewed: number;
  wrong: number;
  unsure: number;
}

type Row = Record<string, unknown>;
const numOrNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** Read-only views of the audit tables for the dashboard and the API. */
export class AuditReads {
  constructor(private readonly db: Db) {}

  /** Every run that looked at the action, oldest first (an action is normally audited once). */
  actionItems(actionId: string): ActionAuditItem[] {
    const rows = this.db
      .prepare(`SELECT i.*, r.reviewer_model FROM audit_items i
        JOIN audit_runs r ON r.id = i.run_id WHERE i.action_id = ? ORDER BY r.started_at`)
      .all(actionId) as Row[];
    return rows.map((r) => ({
      runId: String(r.run_id),
      reviewerModel: String(r.reviewer_model),
      reason: String(r.reason),
      confidenceBefore: numOrNull(r.confidence_before),
      verdict: (r.verdict as Verdict | null) ?? null,
      confidence: numOrNull(r.confidence),
      reasoning: (r.reasoning as string | null) ?? null,
      correctedOutput: r.corrected_output === null ? null : JSON.parse(String(r.corrected_output)),
      outcome: (r.outcome as ItemOutcome | null) ?? null,
      reviewItemId: (r.review_item_id as string | null) ?? null,
      reviewedAt: numOrNull(r.reviewed_at),
    }));
  }

  /**
   * The learning curve: per local day of the audited action, the reviewed items (a verdict was
   * given) and the wrong ones, from `since` on. Days without reviews are left out. Counted in
   * SQL so a year of audits is one grouped scan of audit_items, not rows shipped to JS.
   */
  learningCurve(since: number): LearningDay[] {
    const rows = this.db
      .prepare(`SELECT date(started_at / 1000, 'unixepoch', 'localtime') AS day,
          count(*) AS reviewed,
          sum(verdict = 'incorrect') AS wrong,
          sum(verdict = 'unsure') AS unsure
        FROM audit_items WHERE verdict IS NOT NULL AND started_at >= ?
        GROUP BY day ORDER BY day`)
      .all(since) as Row[];
    return rows.map((r) => ({
      day: String(r.day),
      reviewed: Number(r.reviewed),
      wrong: Number(r.wrong),
      unsure: Number(r.unsure),
    }));
  }
}
