import type { Statement } from "better-sqlite3";
import type { Db } from "../db.js";
import { jsonColumn, type Row, rowToAttempt, rowToDelivery } from "../review-rows.js";
import type {
  CorrectionForDelivery,
  Delivery,
  DeliveryAttempt,
  DeliveryStatus,
  DeliveryStore,
} from "../stores/review.js";

// On SQLite the correction itself is the audit's corrections row (0006); a delivery joins it.
const SELECT = `SELECT d.*, c.action_id, c.source, c.run_id, c.original, c.corrected, c.reasoning,
  c.reviewer_model, c.confidence_after
  FROM correction_deliveries d JOIN corrections c ON c.id = d.correction_id`;

/** Deliveries and their attempts (migration 0010). The only place their SQLite SQL lives. */
export class SqliteDeliveries implements DeliveryStore {
  private readonly s: Record<string, Statement>;

  constructor(readonly db: Db) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      enqueue: p(`INSERT OR IGNORE INTO correction_deliveries (correction_id, agent, created_at)
        VALUES (?, ?, ?)`),
      // A review decision has no corrections row of its own; it gets one, already applied (handed
      // to delivery), so the agent and `actions show` see one kind of thing whoever corrected it.
      correction: p(`INSERT OR IGNORE INTO corrections (id, run_id, action_id, agent, source,
        original, corrected, reasoning, reviewer_model, confidence_after, created_at, applied_at,
        apply_note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'handed to delivery')`),
      get: p(`${SELECT} WHERE d.correction_id = ?`),
      byAgent: p(`${SELECT} WHERE d.agent = ? AND (? IS NULL OR d.status = ?)
        ORDER BY d.created_at, d.correction_id LIMIT ?`),
      acknowledge: p(`UPDATE correction_deliveries SET status = 'acknowledged',
        acknowledged_at = ?, acknowledged_via = ?, note = ?, next_attempt_at = NULL
        WHERE correction_id = ? AND status IN ('pending', 'failed')`),
      due: p(`${SELECT} WHERE d.status = 'pending' AND d.agent = ?
        AND coalesce(d.next_attempt_at, 0) <= ? ORDER BY d.created_at, d.correction_id LIMIT ?`),
      claim: p(`UPDATE correction_deliveries SET next_attempt_at = ?, attempts = attempts + 1
        WHERE correction_id = ? AND status = 'pending' AND coalesce(next_attempt_at, 0) <= ?`),
      retry: p(`UPDATE correction_deliveries SET next_attempt_at = ?, last_error = ?
        WHERE correction_id = ? AND status = 'pending'`),
      fail: p(`UPDATE correction_deliveries SET status = 'failed', last_error = ?,
        next_attempt_at = NULL WHERE correction_id = ? AND status = 'pending'`),
      attempt: p(`INSERT INTO delivery_attempts (correction_id, delivery_id, url, attempted_at,
        http_status, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?)`),
      attempts: p("SELECT * FROM delivery_attempts WHERE correction_id = ? ORDER BY id"),
    };
  }

  async enqueue(c: CorrectionForDelivery, at: number): Promise<void> {
    this.db.transaction(() => {
      this.s.correction!.run(
        c.correctionId,
        c.runId,
        c.actionId,
        c.agent,
        c.source,
        jsonColumn(c.original),
        jsonColumn(c.corrected),
        c.reasoning,
        c.reviewerModel,
        c.confidenceAfter,
        at,
        at,
      );
      this.s.enqueue!.run(c.correctionId, c.agent, at);
    })();
  }

  async get(correctionId: string): Promise<Delivery | undefined> {
    const row = this.s.get!.get(correctionId) as Row | undefined;
    return row ? rowToDelivery(row) : undefined;
  }

  async list(agent: string, status: DeliveryStatus | null, limit: number): Promise<Delivery[]> {
    return (this.s.byAgent!.all(agent, status, status, limit) as Row[]).map(rowToDelivery);
  }

  async acknowledge(id: string, via: "pull" | "webhook", at: number, note: string | null) {
    return this.s.acknowledge!.run(at, via, note, id).changes === 1;
  }

  async due(agent: string, now: number, limit: number): Promise<Delivery[]> {
    return (this.s.due!.all(agent, now, limit) as Row[]).map(rowToDelivery);
  }

  async claim(id: string, now: number, leaseUntil: number): Promise<boolean> {
    return this.s.claim!.run(leaseUntil, id, now).changes === 1;
  }

  async retryAt(id: string, at: number, error: string): Promise<void> {
    this.s.retry!.run(at, error, id);
  }

  async giveUp(id: string, error: string): Promise<void> {
    this.s.fail!.run(error, id);
  }

  async recordAttempt(a: DeliveryAttempt): Promise<void> {
    this.s.attempt!.run(
      a.correctionId,
      a.deliveryId,
      a.url,
      a.attemptedAt,
      a.httpStatus,
      a.error,
      a.durationMs,
    );
  }

  async attempts(correctionId: string): Promise<DeliveryAttempt[]> {
    return (this.s.attempts!.all(correctionId) as Row[]).map(rowToAttempt);
  }
}
