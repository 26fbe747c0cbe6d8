import type { Statement } from "better-sqlite3";
import type { ActionStore } from "../actions.js";
import type { Db } from "../db.js";
import { type Row, rowToFeedback } from "../review-rows.js";
import type { Feedback, FeedbackStore, NewFeedback } from "../stores/review.js";

/**
 * Feedback rows, and their effect on the action: flags join the action's own (so the audit
 * selects it), and a confidence replaces the action's (the audit compares its verdict with it).
 * The only place their SQLite SQL lives.
 */
export class SqliteFeedback implements FeedbackStore {
  private readonly insertRow: Statement;
  private readonly byAction: Statement;
  private readonly setConfidence: Statement;
  private readonly setReasoning: Statement;
  private readonly reopen: Statement;

  constructor(
    readonly db: Db,
    private readonly actions: ActionStore,
  ) {
    this.insertRow = db.prepare(`INSERT INTO action_feedback
      (action_id, created_at, given_by, confidence, flags, reasoning, scores)
      VALUES (?, ?, ?, ?, ?, ?, ?)`);
    this.byAction = db.prepare(
      "SELECT * FROM action_feedback WHERE action_id = ? ORDER BY created_at, id",
    );
    this.setConfidence = db.prepare("UPDATE actions SET confidence = ? WHERE id = ?");
    // An action that merely passed an audit window (nobody reviewed it) is reviewed again once
    // someone flags it; a reviewed or ruled one keeps its verdict.
    this.reopen = db.prepare(
      "UPDATE actions SET audit_status = NULL WHERE id = ? AND audit_status = 'passed'",
    );
    this.setReasoning = db.prepare(
      "UPDATE actions SET reasoning = coalesce(reasoning, ?) WHERE id = ?",
    );
  }

  /** Records the feedback and applies it to the action, in one transaction. */
  async add(feedback: NewFeedback): Promise<Feedback> {
    return this.db.transaction(() => {
      const info = this.insertRow.run(
        feedback.actionId,
        feedback.createdAt,
        feedback.givenBy,
        feedback.confidence,
        JSON.stringify(feedback.flags),
        feedback.reasoning,
        JSON.stringify(feedback.scores),
      );
      if (feedback.flags.length) {
        this.actions.addFlags(feedback.actionId, feedback.flags);
        this.reopen.run(feedback.actionId);
      }
      if (feedback.confidence !== null) {
        this.setConfidence.run(feedback.confidence, feedback.actionId);
      }
      if (feedback.reasoning !== null) this.setReasoning.run(feedback.reasoning, feedback.actionId);
      return { ...feedback, id: Number(info.lastInsertRowid) };
    })();
  }

  async forAction(actionId: string): Promise<Feedback[]> {
    return (this.byAction.all(actionId) as Row[]).map(rowToFeedback);
  }
}
