import type { Statement } from "better-sqlite3";
import type { Db } from "../db.js";
import { jsonColumn, type ReviewRecord, reviewWhere, rowToReviewItem } from "../review-rows.js";
import type {
  NewReviewItem,
  ReviewDecisionRow,
  ReviewFilter,
  ReviewItem,
  ReviewItemStore,
  ReviewStatus,
} from "../stores/review.js";

/** The review queue's table (migration 0005-review.sql). The only place its SQLite SQL lives. */
export class SqliteReviewItems implements ReviewItemStore {
  private readonly s: Record<string, Statement>;

  constructor(readonly db: Db) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      insert: p(`INSERT INTO review_items
        (action_id, kind, agent, title, original, proposed, reasoning, confidence, opened_by, context, created_at)
        VALUES (@action_id, @kind, @agent, @title, @original, @proposed, @reasoning, @confidence, @opened_by, @context, @created_at)`),
      byId: p("SELECT * FROM review_items WHERE id = ?"),
      openFor: p("SELECT * FROM review_items WHERE action_id = ? AND kind = ? AND status = 'open'"),
      byAction: p("SELECT * FROM review_items WHERE action_id = ? ORDER BY id"),
      lastDecision: p(`SELECT * FROM review_items WHERE action_id = ? AND status != 'open'
        ORDER BY decided_at DESC, id DESC LIMIT 1`),
      // The status guard makes a decision happen once even if two deciders race.
      decide: p(`UPDATE review_items SET status = @status,
        decided_by = @decided_by, decided_at = @decided_at, decision_output = @decision_output,
        decision_reason = @decision_reason, applied_note = @applied_note
        WHERE id = @id AND status = 'open'`),
      withdraw: p(`UPDATE review_items SET status = 'open', decided_by = NULL, decided_at = NULL,
        decision_output = NULL, decision_reason = NULL, applied_note = NULL
        WHERE id = @id AND status = @status AND decided_by = @decided_by AND decided_at = @decided_at`),
      note: p("UPDATE review_items SET applied_note = ? WHERE id = ?"),
      auditStatus: p("UPDATE actions SET audit_status = ? WHERE id = ?"),
      count: p("SELECT count(*) AS n FROM review_items WHERE status = ?"),
    };
  }

  async open(item: NewReviewItem, createdAt: number) {
    return this.db.transaction(() => {
      if (item.actionId) {
        const existing = this.s.openFor!.get(item.actionId, item.kind) as ReviewRecord | undefined;
        if (existing) return { item: rowToReviewItem(existing), created: false };
      }
      const result = this.s.insert!.run({
        action_id: item.actionId ?? null,
        kind: item.kind,
        agent: item.agent,
        title: item.title,
        original: jsonColumn(item.original),
        proposed: jsonColumn(item.proposed),
        reasoning: item.reasoning ?? null,
        confidence: item.confidence ?? null,
        opened_by: item.openedBy,
        context: jsonColumn(item.context),
        created_at: createdAt,
      });
      if (item.actionId) this.s.auditStatus!.run("in_review", item.actionId);
      return { item: this.getNow(Number(result.lastInsertRowid))!, created: true };
    })();
  }

  async get(id: number): Promise<ReviewItem | undefined> {
    return this.getNow(id);
  }

  private getNow(id: number): ReviewItem | undefined {
    const row = this.s.byId!.get(id) as ReviewRecord | undefined;
    return row ? rowToReviewItem(row) : undefined;
  }

  async byAction(actionId: string): Promise<ReviewItem[]> {
    return (this.s.byAction!.all(actionId) as ReviewRecord[]).map(rowToReviewItem);
  }

  async lastDecision(actionId: string): Promise<ReviewItem | undefined> {
    const row = this.s.lastDecision!.get(actionId) as ReviewRecord | undefined;
    return row ? rowToReviewItem(row) : undefined;
  }

  async list(filter: ReviewFilter = {}): Promise<ReviewItem[]> {
    const { where, params } = reviewWhere(filter, () => "?");
    params.push(filter.limit ?? 100);
    const sql = `SELECT * FROM review_items${where} ORDER BY id LIMIT ?`;
    return (this.db.prepare(sql).all(params) as ReviewRecord[]).map(rowToReviewItem);
  }

  async count(status: ReviewStatus): Promise<number> {
    return Number((this.s.count!.get(status) as { n: number }).n);
  }

  async recordDecision(d: ReviewDecisionRow): Promise<boolean> {
    return this.db.transaction(() => {
      const done = this.s.decide!.run(decisionParams(d)).changes === 1;
      const item = done ? this.getNow(d.id) : undefined;
      if (item?.actionId) this.s.auditStatus!.run("ruled", item.actionId);
      return done;
    })();
  }

  async withdrawDecision(d: ReviewDecisionRow): Promise<boolean> {
    return this.db.transaction(() => {
      let done: boolean;
      try {
        done = this.s.withdraw!.run(decisionParams(d)).changes === 1;
      } catch {
        // Another item of the same kind was opened for the action meanwhile (one open at a time).
        return false;
      }
      const item = done ? this.getNow(d.id) : undefined;
      if (item?.actionId) this.s.auditStatus!.run("in_review", item.actionId);
      return done;
    })();
  }

  async setAppliedNote(id: number, note: string): Promise<void> {
    this.s.note!.run(note, id);
  }
}

function decisionParams(d: ReviewDecisionRow) {
  return {
    id: d.id,
    status: d.status,
    decided_by: d.decidedBy,
    decided_at: d.decidedAt,
    decision_output: jsonColumn(d.decisionOutput),
    decision_reason: d.decisionReason,
    applied_note: d.appliedNote,
  };
}
