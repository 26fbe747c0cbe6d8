import type { Statement } from "better-sqlite3";
import type { Db } from "./db.js";

export type ReviewKind =
  | "audit_unsure"
  | "low_confidence_verdict"
  | "contradicts_person"
  | "duplicate_suspect"
  | "other";
export type ReviewStatus = "open" | "accepted" | "rejected" | "edited";

export const REVIEW_KINDS: readonly ReviewKind[] = [
  "audit_unsure",
  "low_confidence_verdict",
  "contradicts_person",
  "duplicate_suspect",
  "other",
];

/** One review item (camelCase; review_items in snake_case, see reviewItemToJson). */
export interface ReviewItem {
  id: number;
  actionId: string | null;
  kind: ReviewKind;
  agent: string;
  title: string;
  original: unknown;
  proposed: unknown;
  reasoning: string | null;
  confidence: number | null;
  openedBy: string;
  context: unknown;
  createdAt: number;
  status: ReviewStatus;
  decidedBy: string | null;
  decidedAt: number | null;
  decisionOutput: unknown;
  decisionReason: string | null;
  appliedNote: string | null;
}

export type NewReviewItem = Pick<ReviewItem, "kind" | "agent" | "title" | "openedBy"> &
  Partial<
    Pick<ReviewItem, "actionId" | "original" | "proposed" | "reasoning" | "confidence" | "context">
  >;

export interface ReviewDecisionRow {
  id: number;
  status: Exclude<ReviewStatus, "open">;
  decidedBy: string;
  decidedAt: number;
  decisionOutput: unknown;
  decisionReason: string | null;
  appliedNote: string | null;
}

interface ReviewRecord {
  id: number;
  action_id: string | null;
  kind: ReviewKind;
  agent: string;
  title: string;
  original: string | null;
  proposed: string | null;
  reasoning: string | null;
  confidence: number | null;
  opened_by: string;
  context: string | null;
  created_at: number;
  status: ReviewStatus;
  decided_by: string | null;
  decided_at: number | null;
  decision_output: string | null;
  decision_reason: string | null;
  applied_note: string | null;
}

function json(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

function parse(text: string | null): unknown {
  return text === null ? null : JSON.parse(text);
}

function toItem(r: ReviewRecord): ReviewItem {
  return {
    id: r.id,
    actionId: r.action_id,
    kind: r.kind,
    agent: r.agent,
    title: r.title,
    original: parse(r.original),
    proposed: parse(r.proposed),
    reasoning: r.reasoning,
    confidence: r.confidence,
    openedBy: r.opened_by,
    context: parse(r.context),
    createdAt: r.created_at,
    status: r.status,
    decidedBy: r.decided_by,
    decidedAt: r.decided_at,
    decisionOutput: parse(r.decision_output),
    decisionReason: r.decision_reason,
    appliedNote: r.applied_note,
  };
}

/** The review queue's table (0005-review.sql). The only place its SQL lives. */
export class ReviewStore {
  private readonly insertItem: Statement;
  private readonly selectById: Statement<[number], ReviewRecord>;
  private readonly selectOpenFor: Statement<[string, string], ReviewRecord>;
  private readonly selectByAction: Statement<[string], ReviewRecord>;
  private readonly selectLastDecision: Statement<[string], ReviewRecord>;
  private readonly updateDecision: Statement;

  constructor(readonly db: Db) {
    this.insertItem = db.prepare(`INSERT INTO review_items
      (action_id, kind, agent, title, original, proposed, reasoning, confidence, opened_by, context, created_at)
      VALUES (@action_id, @kind, @agent, @title, @original, @proposed, @reasoning, @confidence, @opened_by, @context, @created_at)`);
    this.selectById = db.prepare("SELECT * FROM review_items WHERE id = ?");
    this.selectOpenFor = db.prepare(
      "SELECT * FROM review_items WHERE action_id = ? AND kind = ? AND status = 'open'",
    );
    this.selectByAction = db.prepare("SELECT * FROM review_items WHERE action_id = ? ORDER BY id");
    this.selectLastDecision = db.prepare(
      `SELECT * FROM review_items WHERE action_id = ? AND status != 'open'
       ORDER BY decided_at DESC, id DESC LIMIT 1`,
    );
    // The status guard makes a decision happen once even if two deciders race.
    this.updateDecision = db.prepare(`UPDATE review_items SET status = @status,
      decided_by = @decided_by, decided_at = @decided_at, decision_output = @decision_output,
      decision_reason = @decision_reason, applied_note = @applied_note
      WHERE id = @id AND status = 'open'`);
  }

  transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }

  insert(item: NewReviewItem, createdAt: number): ReviewItem {
    const result = this.insertItem.run({
      action_id: item.actionId ?? null,
      kind: item.kind,
      agent: item.agent,
      title: item.title,
      original: json(item.original),
      proposed: json(item.proposed),
      reasoning: item.reasoning ?? null,
      confidence: item.confidence ?? null,
      opened_by: item.openedBy,
      context: json(item.context),
      created_at: createdAt,
    });
    return this.get(Number(result.lastInsertRowid))!;
  }

  get(id: number): ReviewItem | undefined {
    const row = this.selectById.get(id);
    return row ? toItem(row) : undefined;
  }

  openFor(actionId: string, kind: ReviewKind): ReviewItem | undefined {
    const row = this.selectOpenFor.get(actionId, kind);
    return row ? toItem(row) : undefined;
  }

  byAction(actionId: string): ReviewItem[] {
    return this.selectByAction.all(actionId).map(toItem);
  }

  lastDecision(actionId: string): ReviewItem | undefined {
    const row = this.selectLastDecision.get(actionId);
    return row ? toItem(row) : undefined;
  }

  /** Records a decision; false if the item was no longer open. */
  decide(decision: ReviewDecisionRow): boolean {
    const result = this.updateDecision.run({
      id: decision.id,
      status: decision.status,
      decided_by: decision.decidedBy,
      decided_at: decision.decidedAt,
      decision_output: json(decision.decisionOutput),
      decision_reason: decision.decisionReason,
      applied_note: decision.appliedNote,
    });
    return result.changes === 1;
  }

  list(
    filter: { status?: ReviewStatus; agent?: string; kind?: ReviewKind; limit?: number } = {},
  ): ReviewItem[] {
    const where: string[] = [];
    const params: unknown[] = [];
    for (const [column, value] of [
      ["status", filter.status],
      ["agent", filter.agent],
      ["kind", filter.kind],
    ] as const) {
      if (value === undefined) continue;
      where.push(`${column} = ?`);
      params.push(value);
    }
    params.push(filter.limit ?? 100);
    const sql = `SELECT * FROM review_items${where.length ? ` WHERE ${where.join(" AND ")}` : ""}
      ORDER BY id LIMIT ?`;
    return (this.db.prepare(sql).all(params) as ReviewRecord[]).map(toItem);
  }

  count(status: ReviewStatus): number {
    return Number(
      this.db.prepare("SELECT count(*) FROM review_items WHERE status = ?").pluck().get(status),
    );
  }
}
