import type pg from "pg";
import { jsonColumn, type Row, rowToAttempt, rowToDelivery } from "../review-rows.js";
import type {
  CorrectionForDelivery,
  Delivery,
  DeliveryAttempt,
  DeliveryStatus,
  DeliveryStore,
} from "../stores/review.js";

/**
 * Deliveries and their attempts on PostgreSQL (migration 0004-review.sql). Each delivery row
 * carries its correction. Every state change is one conditional UPDATE: PostgreSQL re-checks
 * the condition on the locked row, so of two daemons claiming or acknowledging the same delivery
 * exactly one changes it.
 */
export class PostgresDeliveries implements DeliveryStore {
  constructor(private readonly pool: pg.Pool) {}

  async enqueue(c: CorrectionForDelivery, at: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO correction_deliveries (correction_id, agent, created_at, action_id, source,
         run_id, original, corrected, reasoning, reviewer_model, confidence_after)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING`,
      [
        c.correctionId,
        c.agent,
        at,
        c.actionId,
        c.source,
        c.runId,
        jsonColumn(c.original),
        jsonColumn(c.corrected),
        c.reasoning,
        c.reviewerModel,
        c.confidenceAfter,
      ],
    );
  }

  async get(correctionId: string): Promise<Delivery | undefined> {
    const rows = await this.rows("SELECT * FROM correction_deliveries WHERE correction_id = $1", [
      correctionId,
    ]);
    return rows[0] ? rowToDelivery(rows[0]) : undefined;
  }

  async list(agent: string, status: DeliveryStatus | null, limit: number): Promise<Delivery[]> {
    const rows = await this.rows(
      `SELECT * FROM correction_deliveries WHERE agent = $1 AND ($2::text IS NULL OR status = $2)
       ORDER BY created_at, correction_id LIMIT $3`,
      [agent, status, limit],
    );
    return rows.map(rowToDelivery);
  }

  async acknowledge(id: string, via: "pull" | "webhook", at: number, note: string | null) {
    const { rowCount } = await this.pool.query(
      `UPDATE correction_deliveries SET status = 'acknowledged', acknowledged_at = $1,
         acknowledged_via = $2, note = $3, next_attempt_at = NULL
       WHERE correction_id = $4 AND status IN ('pending', 'failed')`,
      [at, via, note, id],
    );
    return rowCount === 1;
  }

  async due(agent: string, now: number, limit: number): Promise<Delivery[]> {
    const rows = await this.rows(
      `SELECT * FROM correction_deliveries WHERE status = 'pending' AND agent = $1
         AND coalesce(next_attempt_at, 0) <= $2 ORDER BY created_at, correction_id LIMIT $3`,
      [agent, now, limit],
    );
    return rows.map(rowToDelivery);
  }

  async claim(id: string, now: number, leaseUntil: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE correction_deliveries SET next_attempt_at = $1, attempts = attempts + 1
       WHERE correction_id = $2 AND status = 'pending' AND coalesce(next_attempt_at, 0) <= $3`,
      [leaseUntil, id, now],
    );
    return rowCount === 1;
  }

  async retryAt(id: string, at: number, error: string): Promise<void> {
    await this.pool.query(
      `UPDATE correction_deliveries SET next_attempt_at = $1, last_error = $2
       WHERE correction_id = $3 AND status = 'pending'`,
      [at, error, id],
    );
  }

  async giveUp(id: string, error: string): Promise<void> {
    await this.pool.query(
      `UPDATE correction_deliveries SET status = 'failed', last_error = $1, next_attempt_at = NULL
       WHERE correction_id = $2 AND status = 'pending'`,
      [error, id],
    );
  }

  async recordAttempt(a: DeliveryAttempt): Promise<void> {
    await this.pool.query(
      `INSERT INTO delivery_attempts (correction_id, delivery_id, url, attempted_at, http_status,
         error, duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [a.correctionId, a.deliveryId, a.url, a.attemptedAt, a.httpStatus, a.error, a.durationMs],
    );
  }

  async attempts(correctionId: string): Promise<DeliveryAttempt[]> {
    const rows = await this.rows(
      "SELECT * FROM delivery_attempts WHERE correction_id = $1 ORDER BY id",
      [correctionId],
    );
    return rows.map(rowToAttempt);
  }

  private async rows(sql: string, params: unknown[]): Promise<Row[]> {
    return (await this.pool.query<Row>(sql, params)).rows;
  }
}
