import type { Statement } from "better-sqlite3";
import type { ActionStore } from "./actions.js";
import type { Db } from "./db.js";

/** Feedback on an action after the fact (migration 0010): a person's thumbs, an eval's score. */
export interface Feedback {
  id: number;
  actionId: string;
  createdAt: number;
  givenBy: string;
  confidence: number | null;
  flags: string[];
  reasoning: string | null;
  scores: Record<string, number>;
}

export type NewFeedback = Omit<Feedback, "id">;

type Row = Record<string, unknown>;

function toFeedback(r: Row): Feedback {
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

/** The `--json` and API shape. */
export function feedbackToJson(f: Feedback): Record<string, unknown> {
  return {
    id: f.id,
    action_id: f.actionId,
    created_at: new Date(f.createdAt).toISOString(),
    given_by: f.givenBy,
    confidence: f.confidence,
    flags: f.flags,
    reasoning: f.reasoning,
    scores: f.scores,
  };
}

/**
 * Feedback rows, and their effect on the action: flags join the action's own (so the audit
 * selects it), and a confidence replaces the action's (the audit compares its verdict with it).
 */
export class FeedbackStore {
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
  add(feedback: NewFeedback): Feedback {
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

  forAction(actionId: string): Feedback[] {
    return (this.byAction.all(actionId) as Row[]).map(toFeedback);
  }
}
