import type { Statement } from "better-sqlite3";
import type { AuditStatus } from "./actions.js";
import type { Db } from "./db.js";

/**
 * The audit's tables (migration 0006): runs, the items each run reviews, corrections and
 * cross-agent insights. camelCase here, snake_case in the database and in `--json`.
 */
export type RunStatus = "running" | "paused" | "done" | "failed";
export type Verdict = "correct" | "incorrect" | "unsure";
export type ItemOutcome = "verified" | "corrected" | "in_review" | "ruled";

export interface AuditRun {
  id: string;
  seed: string;
  traceId: string;
  mode: "normal" | "degraded";
  reviewerRole: string;
  reviewerModel: string;
  windowStart: number;
  windowEnd: number;
  sampleRate: number;
  status: RunStatus;
  batches: number;
  nextBatch: number;
  startedAt: number;
  finishedAt: number | null;
  passed: number | null;
  error: string | null;
}

export interface AuditItem {
  runId: string;
  actionId: string;
  agent: string;
  reason: string;
  batch: number;
  startedAt: number;
  confidenceBefore: number | null;
  verdict: Verdict | null;
  correctedOutput: unknown;
  reasoning: string | null;
  confidence: number | null;
  outcome: ItemOutcome | null;
  pattern: unknown;
  patternWritten: boolean;
  reviewItemId: string | null;
  reviewedAt: number | null;
}

export type NewAuditItem = Pick<
  AuditItem,
  "actionId" | "agent" | "reason" | "batch" | "startedAt" | "confidenceBefore"
>;

export interface ItemResult {
  actionId: string;
  verdict: Verdict;
  correctedOutput: unknown;
  reasoning: string;
  confidence: number;
  outcome: ItemOutcome;
  pattern: unknown;
  reviewItemId: string | null;
}

export interface Correction {
  id: string;
  runId: string | null;
  actionId: string;
  agent: string;
  source: "audit" | "person";
  original: unknown;
  corrected: unknown;
  reasoning: string | null;
  reviewerModel: string | null;
  confidenceBefore: number | null;
  confidenceAfter: number | null;
  createdAt: number;
  appliedAt: number | null;
  applyNote: string | null;
  applyError: string | null;
}

export type NewCorrection = Omit<Correction, "appliedAt" | "applyNote" | "applyError">;

export interface Insight {
  id: string;
  runId: string;
  batch: number;
  actionIds: string[];
  agents: string[];
  description: string;
  confidence: number;
  createdAt: number;
}

/** The columns selection needs, without the request and response bodies. */
export interface CandidateRow {
  id: string;
  agent: string;
  actionType: string;
  model: string | null;
  status: "ok" | "error";
  flags: string[];
  confidence: number | null;
  startedAt: number;
  parentId: string | null;
  meta: Record<string, unknown> | null;
}

export interface TraceUsage {
  calls: number;
  tokensIn: number;
  tokensOut: number;
  modelMs: number;
}

type Row = Record<string, unknown>;

const json = (value: unknown): string | null =>
  value === undefined || value === null ? null : JSON.stringify(value);
const parse = (text: unknown): unknown => (text === null ? null : JSON.parse(String(text)));

function toRun(r: Row): AuditRun {
  return {
    id: String(r.id),
    seed: String(r.seed),
    traceId: String(r.trace_id),
    mode: r.mode as AuditRun["mode"],
    reviewerRole: String(r.reviewer_role),
    reviewerModel: String(r.reviewer_model),
    windowStart: Number(r.window_start),
    windowEnd: Number(r.window_end),
    sampleRate: Number(r.sample_rate),
    status: r.status as RunStatus,
    batches: Number(r.batches),
    nextBatch: Number(r.next_batch),
    startedAt: Number(r.started_at),
    finishedAt: r.finished_at === null ? null : Number(r.finished_at),
    passed: r.passed === null ? null : Number(r.passed),
    error: (r.error as string | null) ?? null,
  };
}

function toItem(r: Row): AuditItem {
  return {
    runId: String(r.run_id),
    actionId: String(r.action_id),
    agent: String(r.agent),
    reason: String(r.reason),
    batch: Number(r.batch),
    startedAt: Number(r.started_at),
    confidenceBefore: r.confidence_before === null ? null : Number(r.confidence_before),
    verdict: (r.verdict as Verdict | null) ?? null,
    correctedOutput: parse(r.corrected_output),
    reasoning: (r.reasoning as string | null) ?? null,
    confidence: r.confidence === null ? null : Number(r.confidence),
    outcome: (r.outcome as ItemOutcome | null) ?? null,
    pattern: parse(r.pattern),
    patternWritten: Number(r.pattern_written) === 1,
    reviewItemId: (r.review_item_id as string | null) ?? null,
    reviewedAt: r.reviewed_at === null ? null : Number(r.reviewed_at),
  };
}

function toCorrection(r: Row): Correction {
  const num = (v: unknown) => (v === null ? null : Number(v));
  return {
    id: String(r.id),
    runId: (r.run_id as string | null) ?? null,
    actionId: String(r.action_id),
    agent: String(r.agent),
    source: r.source as Correction["source"],
    original: parse(r.original),
    corrected: parse(r.corrected),
    reasoning: (r.reasoning as string | null) ?? null,
    reviewerModel: (r.reviewer_model as string | null) ?? null,
    confidenceBefore: num(r.confidence_before),
    confidenceAfter: num(r.confidence_after),
    createdAt: Number(r.created_at),
    appliedAt: num(r.applied_at),
    applyNote: (r.apply_note as string | null) ?? null,
    applyError: (r.apply_error as string | null) ?? null,
  };
}

function toInsight(r: Row): Insight {
  return {
    id: String(r.id),
    runId: String(r.run_id),
    batch: Number(r.batch),
    actionIds: parse(r.action_ids) as string[],
    agents: parse(r.agents) as string[],
    description: String(r.description),
    confidence: Number(r.confidence),
    createdAt: Number(r.created_at),
  };
}

export class AuditStore {
  private readonly s: Record<string, Statement>;

  constructor(readonly db: Db) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      insertRun: p(`INSERT INTO audit_runs (id, seed, trace_id, mode, reviewer_role, reviewer_model,
        window_start, window_end, sample_rate, status, batches, next_batch, started_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, 0, ?)`),
      insertItem: p(`INSERT INTO audit_items (run_id, action_id, agent, reason, batch, started_at,
        confidence_before) VALUES (?, ?, ?, ?, ?, ?, ?)`),
      run: p("SELECT * FROM audit_runs WHERE id = ?"),
      runsByPrefix: p("SELECT * FROM audit_runs WHERE id >= ? ORDER BY id LIMIT 2"),
      latest: p("SELECT * FROM audit_runs ORDER BY started_at DESC, id DESC LIMIT 1"),
      latestDone: p(
        "SELECT * FROM audit_runs WHERE status = 'done' ORDER BY finished_at DESC LIMIT 1",
      ),
      unfinished: p(`SELECT * FROM audit_runs WHERE status IN ('running', 'paused', 'failed')
        ORDER BY started_at DESC LIMIT 1`),
      listRuns: p("SELECT * FROM audit_runs ORDER BY started_at DESC, id DESC LIMIT ?"),
      setStatus: p("UPDATE audit_runs SET status = ?, error = ? WHERE id = ?"),
      setNextBatch: p("UPDATE audit_runs SET next_batch = ? WHERE id = ?"),
      finish: p(
        "UPDATE audit_runs SET status = 'done', finished_at = ?, passed = ?, error = NULL WHERE id = ?",
      ),
      batchItems: p("SELECT * FROM audit_items WHERE run_id = ? AND batch = ? ORDER BY started_at"),
      runItems: p("SELECT * FROM audit_items WHERE run_id = ? ORDER BY batch, started_at"),
      recordItem: p(`UPDATE audit_items SET verdict = ?, corrected_output = ?, reasoning = ?,
        confidence = ?, outcome = ?, pattern = ?, review_item_id = ?, reviewed_at = ?
        WHERE run_id = ? AND action_id = ? AND verdict IS NULL`),
      patternWritten: p(
        "UPDATE audit_items SET pattern_written = 1 WHERE run_id = ? AND action_id = ?",
      ),
      insertCorrection: p(`INSERT OR IGNORE INTO corrections (id, run_id, action_id, agent, source,
        original, corrected, reasoning, reviewer_model, confidence_before, confidence_after,
        created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      pendingAgents: p("SELECT DISTINCT agent FROM corrections WHERE applied_at IS NULL"),
      pending: p(
        "SELECT * FROM corrections WHERE applied_at IS NULL AND agent = ? ORDER BY created_at, id",
      ),
      waiting: p("UPDATE corrections SET apply_note = ? WHERE id = ? AND applied_at IS NULL"),
      applied: p(
        "UPDATE corrections SET applied_at = ?, apply_note = ?, apply_error = NULL WHERE id = ?",
      ),
      applyFailed: p("UPDATE corrections SET apply_error = ? WHERE id = ?"),
      runCorrections: p("SELECT * FROM corrections WHERE run_id = ? ORDER BY created_at, id"),
      actionCorrections: p("SELECT * FROM corrections WHERE action_id = ? ORDER BY created_at"),
      insertInsight: p(`INSERT OR IGNORE INTO insights (id, run_id, batch, action_ids, agents,
        description, confidence, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      runInsights: p("SELECT * FROM insights WHERE run_id = ? ORDER BY batch, created_at"),
      candidates: p(`SELECT id, agent, action_type, model, status, flags, confidence, started_at,
        parent_id, meta FROM actions
        WHERE started_at >= ? AND started_at < ? AND audit_status IS NULL ORDER BY started_at, id`),
      markPassed: p(`UPDATE actions SET audit_status = 'passed'
        WHERE started_at >= ? AND started_at < ? AND audit_status IS NULL`),
      setAudit: p("UPDATE actions SET audit_status = ? WHERE id = ?"),
      // Tokens from the attempts (a gateway or model_call child repeats them); time from the
      // stage actions, the trace's roots.
      traceUsage: p(`SELECT
        coalesce(sum(action_type = 'attempt'), 0) AS calls,
        coalesce(sum(CASE WHEN action_type = 'attempt' THEN tokens_in END), 0) AS tokens_in,
        coalesce(sum(CASE WHEN action_type = 'attempt' THEN tokens_out END), 0) AS tokens_out,
        coalesce(sum(CASE WHEN parent_id IS NULL THEN latency_ms END), 0) AS model_ms
        FROM actions WHERE trace_id = ? AND agent = ?`),
      unaudited: p(`SELECT count(*) FROM actions
        WHERE started_at >= ? AND audit_status IS NULL AND agent != ?`),
      calibration: p(`SELECT confidence_before AS c, verdict FROM audit_items
        WHERE verdict IS NOT NULL AND confidence_before IS NOT NULL
        AND (? IS NULL OR run_id = ?)`),
    };
  }

  /**
   * IMMEDIATE: the audit reads then writes in one transaction (is this batch still open?), and a
   * deferred one would fail outright, not wait, if another writer got in between. Nested calls
   * are savepoints.
   */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /**
   * Creates the run and its items, unless another process started a run meanwhile: then that
   * run is returned instead and nothing is written, so two processes never review the same
   * actions in two runs. IMMEDIATE takes the write lock before the check.
   */
  createRun(
    run: Omit<AuditRun, "status" | "nextBatch" | "finishedAt" | "passed" | "error">,
    items: NewAuditItem[],
  ): AuditRun {
    return this.db
      .transaction(() => {
        const other = this.unfinishedRun();
        if (other) return other;
        this.s.insertRun!.run(
          run.id,
          run.seed,
          run.traceId,
          run.mode,
          run.reviewerRole,
          run.reviewerModel,
          run.windowStart,
          run.windowEnd,
          run.sampleRate,
          run.batches,
          run.startedAt,
        );
        for (const item of items) {
          this.s.insertItem!.run(
            run.id,
            item.actionId,
            item.agent,
            item.reason,
            item.batch,
            item.startedAt,
            item.confidenceBefore,
          );
        }
        return this.getRun(run.id)!;
      })
      .immediate();
  }

  getRun(id: string): AuditRun | undefined {
    const row = this.s.run!.get(id) as Row | undefined;
    return row ? toRun(row) : undefined;
  }

  /** By full id or a unique prefix of at least 8 characters. */
  findRun(idOrPrefix: string): AuditRun | undefined {
    const exact = this.getRun(idOrPrefix);
    if (exact || idOrPrefix.length < 8) return exact;
    const rows = (this.s.runsByPrefix!.all(idOrPrefix) as Row[]).filter((r) =>
      String(r.id).startsWith(idOrPrefix),
    );
    return rows.length === 1 ? toRun(rows[0]!) : undefined;
  }

  latestRun(): AuditRun | undefined {
    const row = this.s.latest!.get() as Row | undefined;
    return row ? toRun(row) : undefined;
  }

  lastFinishedRun(): AuditRun | undefined {
    const row = this.s.latestDone!.get() as Row | undefined;
    return row ? toRun(row) : undefined;
  }

  /** The newest run that started and did not finish (paused, killed, or failed). */
  unfinishedRun(): AuditRun | undefined {
    const row = this.s.unfinished!.get() as Row | undefined;
    return row ? toRun(row) : undefined;
  }

  listRuns(limit = 20): AuditRun[] {
    return (this.s.listRuns!.all(limit) as Row[]).map(toRun);
  }

  setRunStatus(id: string, status: RunStatus, error: string | null = null): void {
    this.s.setStatus!.run(status, error, id);
  }

  setNextBatch(id: string, next: number): void {
    this.s.setNextBatch!.run(next, id);
  }

  finishRun(id: string, finishedAt: number, passed: number): void {
    this.s.finish!.run(finishedAt, passed, id);
  }

  batchItems(runId: string, batch: number): AuditItem[] {
    return (this.s.batchItems!.all(runId, batch) as Row[]).map(toItem);
  }

  runItems(runId: string): AuditItem[] {
    return (this.s.runItems!.all(runId) as Row[]).map(toItem);
  }

  /** Records a verdict once: an item that already has one keeps it (returns false). */
  recordItem(runId: string, result: ItemResult, at: number): boolean {
    const info = this.s.recordItem!.run(
      result.verdict,
      json(result.correctedOutput),
      result.reasoning,
      result.confidence,
      result.outcome,
      json(result.pattern),
      result.reviewItemId,
      at,
      runId,
      result.actionId,
    );
    return info.changes === 1;
  }

  markPatternWritten(runId: string, actionId: string): void {
    this.s.patternWritten!.run(runId, actionId);
  }

  /** Inserts a correction unless this run already corrected this action; true when inserted. */
  insertCorrection(c: NewCorrection): boolean {
    const info = this.s.insertCorrection!.run(
      c.id,
      c.runId,
      c.actionId,
      c.agent,
      c.source,
      json(c.original),
      json(c.corrected),
      c.reasoning,
      c.reviewerModel,
      c.confidenceBefore,
      c.confidenceAfter,
      c.createdAt,
    );
    return info.changes === 1;
  }

  /** Agents with corrections their handler has not applied yet. */
  pendingAgents(): string[] {
    return (this.s.pendingAgents!.all() as Row[]).map((r) => String(r.agent));
  }

  pendingCorrections(agent: string): Correction[] {
    return (this.s.pending!.all(agent) as Row[]).map(toCorrection);
  }

  /** Notes why a correction still waits (no handler yet) without marking it applied. */
  noteWaiting(id: string, note: string): void {
    this.s.waiting!.run(note, id);
  }

  markApplied(id: string, at: number, note: string | null): void {
    this.s.applied!.run(at, note, id);
  }

  markApplyFailed(id: string, error: string): void {
    this.s.applyFailed!.run(error, id);
  }

  runCorrections(runId: string): Correction[] {
    return (this.s.runCorrections!.all(runId) as Row[]).map(toCorrection);
  }

  actionCorrections(actionId: string): Correction[] {
    return (this.s.actionCorrections!.all(actionId) as Row[]).map(toCorrection);
  }

  insertInsight(insight: Insight): boolean {
    const info = this.s.insertInsight!.run(
      insight.id,
      insight.runId,
      insight.batch,
      JSON.stringify(insight.actionIds),
      JSON.stringify(insight.agents),
      insight.description,
      insight.confidence,
      insight.createdAt,
    );
    return info.changes === 1;
  }

  runInsights(runId: string): Insight[] {
    return (this.s.runInsights!.all(runId) as Row[]).map(toInsight);
  }

  /** Not-yet-audited actions of a window, oldest first, streamed without their bodies. */
  *candidates(since: number, until: number): Generator<CandidateRow> {
    for (const r of this.s.candidates!.iterate(since, until) as Iterable<Row>) {
      yield {
        id: String(r.id),
        agent: String(r.agent),
        actionType: String(r.action_type),
        model: (r.model as string | null) ?? null,
        status: r.status as CandidateRow["status"],
        flags: JSON.parse(String(r.flags)) as string[],
        confidence: r.confidence === null ? null : Number(r.confidence),
        startedAt: Number(r.started_at),
        parentId: (r.parent_id as string | null) ?? null,
        meta: parse(r.meta) as Record<string, unknown> | null,
      };
    }
  }

  /** Marks every still-unaudited action of the window "passed"; returns how many. */
  markWindowPassed(since: number, until: number): number {
    return this.s.markPassed!.run(since, until).changes;
  }

  setAuditStatus(actionId: string, status: AuditStatus): void {
    this.s.setAudit!.run(status, actionId);
  }

  /** What one agent spent in one trace: model attempts, their tokens, and the stages' time. */
  traceUsage(traceId: string, agent: string): TraceUsage {
    const r = this.s.traceUsage!.get(traceId, agent) as Row;
    return {
      calls: Number(r.calls),
      tokensIn: Number(r.tokens_in),
      tokensOut: Number(r.tokens_out),
      modelMs: Number(r.model_ms),
    };
  }

  /** Actions since `since` not yet covered by an audit, excluding `exceptAgent`'s own. */
  unauditedCount(since: number, exceptAgent: string): number {
    return Number(this.s.unaudited!.pluck().get(since, exceptAgent));
  }

  /** (day confidence, verdict) of reviewed items, of one run or of all runs. */
  calibrationPoints(runId: string | null): { confidence: number; verdict: Verdict }[] {
    return (this.s.calibration!.all(runId, runId) as Row[]).map((r) => ({
      confidence: Number(r.c),
      verdict: r.verdict as Verdict,
    }));
  }
}
