import type { Statement } from "better-sqlite3";
import type { Db } from "./db.js";

/** A correction on its way to a plain agent (migration 0010), with the correction itself. */
export interface Delivery {
  correctionId: string;
  agent: string;
  status: "pending" | "acknowledged" | "failed";
  createdAt: number;
  acknowledgedAt: number | null;
  acknowledgedVia: "pull" | "webhook" | null;
  note: string | null;
  attempts: number;
  nextAttemptAt: number | null;
  lastError: string | null;
  actionId: string;
  source: "audit" | "person";
  runId: string | null;
  original: unknown;
  corrected: unknown;
  reasoning: string | null;
  reviewerModel: string | null;
  confidenceAfter: number | null;
}

export interface DeliveryAttempt {
  correctionId: string;
  deliveryId: string;
  url: string;
  attemptedAt: number;
  httpStatus: number | null;
  error: string | null;
  durationMs: number;
}

/** A person's decision handed over as a correction (no corrections row exists for it yet). */
export interface PersonCorrection {
  id: string;
  actionId: string;
  agent: string;
  original: unknown;
  corrected: unknown;
  at: number;
}

type Row = Record<string, unknown>;
const parse = (text: unknown): unknown => (text === null ? null : JSON.parse(String(text)));
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function toDelivery(r: Row): Delivery {
  return {
    correctionId: String(r.correction_id),
    agent: String(r.agent),
    status: r.status as Delivery["status"],
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

const SELECT = `SELECT d.*, c.action_id, c.source, c.run_id, c.original, c.corrected, c.reasoning,
  c.reviewer_model, c.confidence_after
  FROM correction_deliveries d JOIN corrections c ON c.id = d.correction_id`;

/** Deliveries and their attempts. The only place their SQL lives. */
export class DeliveryStore {
  private readonly s: Record<string, Statement>;

  constructor(readonly db: Db) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      enqueue: p(`INSERT OR IGNORE INTO correction_deliveries (correction_id, agent, created_at)
        VALUES (?, ?, ?)`),
      insertPerson: p(`INSERT OR IGNORE INTO corrections (id, run_id, action_id, agent, source,
        original, corrected, created_at, applied_at, apply_note)
        VALUES (?, NULL, ?, ?, 'person', ?, ?, ?, ?, 'handed to delivery')`),
      get: p(`${SELECT} WHERE d.correction_id = ?`),
      byAgent: p(`${SELECT} WHERE d.agent = ? AND (? IS NULL OR d.status = ?)
        ORDER BY d.created_at, d.correction_id LIMIT ?`),
      acknowledge: p(`UPDATE correction_deliveries SET status = 'acknowledged',
        acknowledged_at = ?, acknowledged_via = ?, note = ?, next_attempt_at = NULL
        WHERE correction_id = ? AND status IN ('pending', 'failed')`),
      due: p(`${SELECT} WHERE d.status = 'pending' AND d.agent = ?
        AND coalesce(d.next_attempt_at, 0) <= ? ORDER BY d.created_at LIMIT ?`),
      claim: p(`UPDATE correction_deliveries SET next_attempt_at = ?, attempts = attempts + 1
        WHERE correction_id = ? AND status = 'pending' AND coalesce(next_attempt_at, 0) <= ?`),
      retry: p(`UPDATE correction_deliveries SET next_attempt_at = ?, last_error = ?
        WHERE correction_id = ? AND status = 'pending'`),
      fail: p(`UPDATE correction_deliveries SET status = 'failed', last_error = ?,
        next_attempt_at = NULL WHERE correction_id = ? AND status = 'pending'`),
      attempt: p(`INSERT INTO delivery_attempts (correction_id, delivery_id, url, attempted_at,
        http_status, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?)`),
      attempts: p("SELECT * FROM delivery_attempts WHERE correction_id = ? ORDER BY id"),
      pendingCount: p(
        "SELECT agent, count(*) AS n FROM correction_deliveries WHERE status = 'pending' GROUP BY agent",
      ),
    };
  }

  /** Queues a correction for its agent; a second call for the same correction does nothing. */
  enqueue(correctionId: string, agent: string, at: number): void {
    this.s.enqueue!.run(correctionId, agent, at);
  }

  /** Records a review decision as a person's correction, already handed over to delivery. */
  insertPersonCorrection(c: PersonCorrection): void {
    const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));
    this.s.insertPerson!.run(
      c.id,
      c.actionId,
      c.agent,
      json(c.original),
      json(c.corrected),
      c.at,
      c.at,
    );
  }

  get(correctionId: string): Delivery | undefined {
    const row = this.s.get!.get(correctionId) as Row | undefined;
    return row ? toDelivery(row) : undefined;
  }

  list(agent: string, status: Delivery["status"] | null, limit: number): Delivery[] {
    return (this.s.byAgent!.all(agent, status, status, limit) as Row[]).map(toDelivery);
  }

  /** True when this call acknowledged it; false when it was acknowledged before. */
  acknowledge(id: string, via: "pull" | "webhook", at: number, note: string | null): boolean {
    return this.s.acknowledge!.run(at, via, note, id).changes === 1;
  }

  due(agent: string, now: number, limit: number): Delivery[] {
    return (this.s.due!.all(agent, now, limit) as Row[]).map(toDelivery);
  }

  /**
   * Takes a pending delivery for one try: pushes its next attempt to `leaseUntil` so no other
   * sender (another process, a later tick) sends it meanwhile. False when someone else has it.
   */
  claim(id: string, now: number, leaseUntil: number): boolean {
    return this.s.claim!.run(leaseUntil, id, now).changes === 1;
  }

  retryAt(id: string, at: number, error: string): void {
    this.s.retry!.run(at, error, id);
  }

  giveUp(id: string, error: string): void {
    this.s.fail!.run(error, id);
  }

  recordAttempt(a: DeliveryAttempt): void {
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

  attempts(correctionId: string): DeliveryAttempt[] {
    return (this.s.attempts!.all(correctionId) as Row[]).map((r) => ({
      correctionId: String(r.correction_id),
      deliveryId: String(r.delivery_id),
      url: String(r.url),
      attemptedAt: Number(r.attempted_at),
      httpStatus: num(r.http_status),
      error: (r.error as string | null) ?? null,
      durationMs: Number(r.duration_ms),
    }));
  }

  /** Pending deliveries per agent (for /metrics). */
  pendingByAgent(): Map<string, number> {
    const rows = this.s.pendingCount!.all() as Row[];
    return new Map(rows.map((r) => [String(r.agent), Number(r.n)]));
  }
}
