import type pg from "pg";
import { type Row, rowToFeedback } from "../review-rows.js";
import type { Feedback, FeedbackStore, NewFeedback } from "../stores/review.js";
import { inTransaction } from "./transaction.js";

/** Feedback rows and their effect on the action, on PostgreSQL (migration 0004-review.sql). */
export class PostgresFeedback implements FeedbackStore {
  constructor(private readonly pool: pg.Pool) {}

  /** One transaction with the action row locked, so feedback from two daemons keeps both flags. */
  add(feedback: NewFeedback): Promise<Feedback> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ id: number }>(
        `INSERT INTO action_feedback (action_id, created_at, given_by, confidence, flags, reasoning, scores)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
        [
          feedback.actionId,
          feedback.createdAt,
          feedback.givenBy,
          feedback.confidence,
          JSON.stringify(feedback.flags),
          feedback.reasoning,
          JSON.stringify(feedback.scores),
        ],
      );
      const action = await client.query<{ flags: string; started_at: number }>(
        "SELECT flags, started_at FROM actions WHERE id = $1 FOR UPDATE",
        [feedback.actionId],
      );
      const row = action.rows[0];
      if (row && feedback.flags.length) {
        const next = [...new Set([...(JSON.parse(row.flags) as string[]), ...feedback.flags])];
        await client.query(
          `INSERT INTO action_flags (flag, started_at, action_id)
           SELECT unnest($1::text[]), $2, $3 ON CONFLICT DO NOTHING`,
          [next, row.started_at, feedback.actionId],
        );
        // An action that merely passed an audit window is reviewed again once someone flags it;
        // a reviewed or ruled one keeps its verdict.
        await client.query(
          `UPDATE actions SET flags = $1,
             audit_status = CASE WHEN audit_status = 'passed' THEN NULL ELSE audit_status END
           WHERE id = $2`,
          [JSON.stringify(next), feedback.actionId],
        );
      }
      if (row) {
        await client.query(
          `UPDATE actions SET confidence = coalesce($1, confidence),
             reasoning = coalesce(reasoning, $2) WHERE id = $3`,
          [feedback.confidence, feedback.reasoning, feedback.actionId],
        );
      }
      return { ...feedback, id: Number(rows[0]!.id) };
    });
  }

  async forAction(actionId: string): Promise<Feedback[]> {
    const { rows } = await this.pool.query<Row>(
      "SELECT * FROM action_feedback WHERE action_id = $1 ORDER BY created_at, id",
      [actionId],
    );
    return rows.map(rowToFeedback);
  }
}
