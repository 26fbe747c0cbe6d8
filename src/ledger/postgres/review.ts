import type pg from "pg";
import { jsonColumn, type ReviewRecord, reviewWhere, rowToReviewItem } from "../review-rows.js";
import type {
  NewReviewItem,
  ReviewDecisionRow,
  ReviewFilter,
  ReviewItem,
  ReviewItemStore,
  ReviewStatus,
} from "../stores/review.js";
import { inTransaction } from "./transaction.js";

type Row = ReviewRecord;
const dollar = (n: number) => `$${n}`;

const INSERT = `INSERT INTO review_items (action_id, kind, agent, title, original, proposed,
  reasoning, confidence, opened_by, context, created_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
  ON CONFLICT (action_id, kind) WHERE status = 'open' AND action_id IS NOT NULL DO NOTHING
  RETURNING *`;

// One statement each: the item's change and its action's audit_status land together, and the
// status guard lets one of two daemons deciding the same item win (the other updates no row).
const DECIDE = `WITH d AS (
    UPDATE review_items SET status = $2, decided_by = $3, decided_at = $4, decision_output = $5,
      decision_reason = $6, applied_note = $7
    WHERE id = $1 AND status = 'open' RETURNING action_id),
  a AS (UPDATE actions SET audit_status = 'ruled' FROM d WHERE actions.id = d.action_id)
  SELECT count(*)::int AS n FROM d`;

const WITHDRAW = `WITH d AS (
    UPDATE review_items SET status = 'open', decided_by = NULL, decided_at = NULL,
      decision_output = NULL, decision_reason = NULL, applied_note = NULL
    WHERE id = $1 AND status = $2 AND decided_by = $3 AND decided_at = $4 RETURNING action_id),
  a AS (UPDATE actions SET audit_status = 'in_review' FROM d WHERE actions.id = d.action_id)
  SELECT count(*)::int AS n FROM d`;

/** The review queue on PostgreSQL (migration 0004-review.sql). */
export class PostgresReviewItems implements ReviewItemStore {
  constructor(private readonly pool: pg.Pool) {}

  open(item: NewReviewItem, createdAt: number) {
    return inTransaction(this.pool, async (client) => {
      const actionId = item.actionId ?? null;
      if (actionId) {
        const existing = await openFor(client, actionId, item.kind);
        if (existing) return { item: existing, created: false };
      }
      const { rows } = await client.query<Row>(INSERT, [
        actionId,
        item.kind,
        item.agent,
        item.title,
        jsonColumn(item.original),
        jsonColumn(item.proposed),
        item.reasoning ?? null,
        item.confidence ?? null,
        item.openedBy,
        jsonColumn(item.context),
        createdAt,
      ]);
      const inserted = rows[0];
      if (!inserted) {
        // Another daemon opened the same item between our look and our insert; it has committed.
        const theirs = await openFor(client, actionId!, item.kind);
        if (theirs) return { item: theirs, created: false };
        throw new Error(`review item for ${actionId} (${item.kind}) vanished while opening it`);
      }
      if (actionId) {
        await client.query("UPDATE actions SET audit_status = 'in_review' WHERE id = $1", [
          actionId,
        ]);
      }
      return { item: rowToReviewItem(inserted), created: true };
    });
  }

  async get(id: number): Promise<ReviewItem | undefined> {
    const { rows } = await this.pool.query<Row>("SELECT * FROM review_items WHERE id = $1", [id]);
    return rows[0] ? rowToReviewItem(rows[0]) : undefined;
  }

  async byAction(actionId: string): Promise<ReviewItem[]> {
    const { rows } = await this.pool.query<Row>(
      "SELECT * FROM review_items WHERE action_id = $1 ORDER BY id",
      [actionId],
    );
    return rows.map(rowToReviewItem);
  }

  async lastDecision(actionId: string): Promise<ReviewItem | undefined> {
    const { rows } = await this.pool.query<Row>(
      `SELECT * FROM review_items WHERE action_id = $1 AND status != 'open'
       ORDER BY decided_at DESC, id DESC LIMIT 1`,
      [actionId],
    );
    return rows[0] ? rowToReviewItem(rows[0]) : undefined;
  }

  async list(filter: ReviewFilter = {}): Promise<ReviewItem[]> {
    const { where, params } = reviewWhere(filter, dollar);
    params.push(filter.limit ?? 100);
    const { rows } = await this.pool.query<Row>(
      `SELECT * FROM review_items${where} ORDER BY id LIMIT $${params.length}`,
      params,
    );
    return rows.map(rowToReviewItem);
  }

  async count(status: ReviewStatus): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM review_items WHERE status = $1",
      [status],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async recordDecision(d: ReviewDecisionRow): Promise<boolean> {
    const { rows } = await this.pool.query<{ n: number }>(DECIDE, [
      d.id,
      d.status,
      d.decidedBy,
      d.decidedAt,
      jsonColumn(d.decisionOutput),
      d.decisionReason,
      d.appliedNote,
    ]);
    return rows[0]?.n === 1;
  }

  async withdrawDecision(d: ReviewDecisionRow): Promise<boolean> {
    try {
      const { rows } = await this.pool.query<{ n: number }>(WITHDRAW, [
        d.id,
        d.status,
        d.decidedBy,
        d.decidedAt,
      ]);
      return rows[0]?.n === 1;
    } catch (error) {
      // Another item of the same kind was opened for the action meanwhile (one open at a time).
      if ((error as { code?: string }).code === "23505") return false;
      throw error;
    }
  }

  async setAppliedNote(id: number, note: string): Promise<void> {
    await this.pool.query("UPDATE review_items SET applied_note = $2 WHERE id = $1", [id, note]);
  }
}

async function openFor(
  client: pg.PoolClient,
  actionId: string,
  kind: string,
): Promise<ReviewItem | undefined> {
  const { rows } = await client.query<Row>(
    "SELECT * FROM review_items WHERE action_id = $1 AND kind = $2 AND status = 'open'",
    [actionId, kind],
  );
  return rows[0] ? rowToReviewItem(rows[0]) : undefined;
}
