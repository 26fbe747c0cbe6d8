import type { Statement } from "better-sqlite3";
import {
  CANDIDATE_COLUMNS,
  DEFAULT_CANDIDATE_PAGE,
  json,
  mayClaim,
  type Row,
  toActionItem,
  toCandidate,
  toCorrection,
  toInsight,
  toItem,
  toRun,
} from "../audit-rows.js";
import type { Db } from "../db.js";
import {
  type ActionAuditItem,
  type AuditItem,
  type AuditRun,
  type AuditStore,
  type BatchCommit,
  type CandidateRow,
  type ClaimResult,
  type Correction,
  type Insight,
  type LearningDay,
  type NewAuditItem,
  type NewAuditRun,
  type NewCorrection,
  type RunClaim,
  RunTakenOverError,
  type TraceUsage,
  type Verdict,
} from "../stores/audit.js";

/**
 * The audit's tables on SQLite. Claims and batches run in IMMEDIATE transactions: they read then
 * write (is a run running? is this batch still open?), and a deferred transaction would fail
 * outright, not wait, if another process's writer got in between.
 */
export class SqliteAuditStore implements AuditStore {
  private readonly s: Record<string, Statement>;

  constructor(readonly db: Db) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      insertRun: p(`INSERT INTO audit_runs (id, seed, trace_id, mode, reviewer_role, reviewer_model,
        window_start, window_end, sample_rate, status, batches, next_batch, started_at,
        owner, host, heartbeat_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, 0, ?, ?, ?, ?)`),
      insertItem: p(`INSERT INTO audit_items (run_id, action_id, agent, reason, batch, started_at,
        confidence_before) VALUES (?, ?, ?, ?, ?, ?, ?)`),
      run: p("SELECT * FROM audit_runs WHERE id = ?"),
      runsByPrefix: p("SELECT * FROM audit_runs WHERE id >= ? ORDER BY id LIMIT 2"),
      latest: p("SELECT * FROM audit_runs ORDER BY started_at DESC, id DESC LIMIT 1"),
      latestDone: p(
        "SELECT * FROM audit_runs WHERE status = 'done' ORDER BY finished_at DESC LIMIT 1",
      ),
      unfinished: p(`SELECT * FROM audit_runs WHERE status IN ('running', 'paused', 'failed')
        ORDER BY status = 'running' DESC, started_at DESC LIMIT 1`),
      listRuns: p("SELECT * FROM audit_runs ORDER BY started_at DESC, id DESC LIMIT ?"),
      claim: p(`UPDATE audit_runs SET status = 'running', error = NULL, owner = ?, host = ?,
        heartbeat_at = ? WHERE id = ?`),
      heartbeat: p(`UPDATE audit_runs SET heartbeat_at = ?
        WHERE id = ? AND owner = ? AND status = 'running'`),
      release: p(`UPDATE audit_runs SET status = ?, error = ?
        WHERE id = ? AND owner = ? AND status = 'running'`),
      finish: p(`UPDATE audit_runs SET status = 'done', finished_at = ?, passed = ?, error = NULL
        WHERE id = ? AND owner = ? AND status = 'running'`),
      setNextBatch: p("UPDATE audit_runs SET next_batch = ?, heartbeat_at = ? WHERE id = ?"),
      batchItems: p("SELECT * FROM audit_items WHERE run_id = ? AND batch = ? ORDER BY started_at"),
      runItems: p("SELECT * FROM audit_items WHERE run_id = ? ORDER BY batch, started_at"),
      itemCounts: p("SELECT count(*) FROM audit_items WHERE run_id = ?"),
      correctionCounts: p("SELECT count(*) FROM corrections WHERE run_id = ?"),
      recordItem: p(`UPDATE audit_items SET verdict = ?, corrected_output = ?, reasoning = ?,
        confidence = ?, outcome = ?, pattern = ?, review_item_id = ?, reviewed_at = ?,
        pattern_written = ? WHERE run_id = ? AND action_id = ? AND verdict IS NULL`),
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
      actionItems: p(`SELECT i.*, r.reviewer_model FROM audit_items i
        JOIN audit_runs r ON r.id = i.run_id WHERE i.action_id = ? ORDER BY r.started_at`),
      candidates: p(`SELECT ${CANDIDATE_COLUMNS} FROM actions
        WHERE started_at >= ? AND started_at < ? AND audit_status IS NULL
        AND (started_at > ? OR (started_at = ? AND id > ?))
        ORDER BY started_at, id LIMIT ?`),
      sameInput: p(`SELECT id FROM actions INDEXED BY actions_input_key
        WHERE input_key = ? AND agent = ? ORDER BY started_at DESC, id DESC LIMIT 20`),
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
      // Counted in SQL so a year of audits is one grouped scan of audit_items, not rows in JS.
      learning: p(`SELECT date(started_at / 1000, 'unixepoch', 'localtime') AS day,
          count(*) AS reviewed, sum(verdict = 'incorrect') AS wrong, sum(verdict = 'unsure') AS unsure
        FROM audit_items WHERE verdict IS NOT NULL AND started_at >= ?
        GROUP BY day ORDER BY day`),
    };
  }

  private immediate<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  private unfinishedRow(): Row | undefined {
    return this.s.unfinished!.get() as Row | undefined;
  }

  /** Inside a transaction: claims the unfinished run if `claim` may, or says who holds it. */
  private claimIn(claim: RunClaim): ClaimResult {
    const row = this.unfinishedRow();
    if (!row) return { kind: "none" };
    const run = toRun(row);
    const owner = (row.owner as string | null) ?? null;
    if (!mayClaim(run, owner, claim)) return { kind: "busy", run };
    const takenOver = run.status === "running" && owner !== claim.owner;
    this.s.claim!.run(claim.owner, claim.host, claim.now, run.id);
    return { kind: "resumed", run: this.getRunSync(run.id)!, takenOver };
  }

  async claimRun(claim: RunClaim): Promise<ClaimResult> {
    return this.immediate(() => this.claimIn(claim));
  }

  async createRun(run: NewAuditRun, items: NewAuditItem[], claim: RunClaim): Promise<ClaimResult> {
    return this.immediate(() => {
      const other = this.claimIn(claim);
      if (other.kind !== "none") return other;
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
        claim.owner,
        claim.host,
        claim.now,
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
      return { kind: "created", run: this.getRunSync(run.id)!, takenOver: false };
    });
  }

  async heartbeat(runId: string, owner: string, now: number): Promise<boolean> {
    return this.s.heartbeat!.run(now, runId, owner).changes === 1;
  }

  async releaseRun(
    runId: string,
    owner: string,
    status: "paused" | "failed",
    error: string | null = null,
  ): Promise<boolean> {
    return this.s.release!.run(status, error, runId, owner).changes === 1;
  }

  async finishRun(runId: string, owner: string, finishedAt: number): Promise<number> {
    return this.immediate(() => {
      const run = this.getRunSync(runId);
      if (!run) throw new RunTakenOverError(runId, undefined);
      const passed = this.s.markPassed!.run(run.windowStart, run.windowEnd).changes;
      if (this.s.finish!.run(finishedAt, passed, runId, owner).changes !== 1) {
        throw new RunTakenOverError(runId, this.getRunSync(runId));
      }
      return passed;
    });
  }

  async commitBatch(c: BatchCommit): Promise<void> {
    this.immediate(() => {
      const row = this.s.run!.get(c.runId) as Row | undefined;
      if (!row || row.owner !== c.owner || row.status !== "running") {
        throw new RunTakenOverError(c.runId, row ? toRun(row) : undefined);
      }
      for (const r of c.results) {
        this.s.recordItem!.run(
          r.verdict,
          json(r.correctedOutput),
          r.reasoning,
          r.confidence,
          r.outcome,
          json(r.pattern),
          r.reviewItemId,
          c.at,
          r.patternWritten ? 1 : 0,
          c.runId,
          r.actionId,
        );
      }
      for (const x of c.corrections) this.insertCorrectionRow(x);
      for (const { actionId, status } of c.statuses) this.s.setAudit!.run(status, actionId);
      for (const i of c.insights) {
        this.s.insertInsight!.run(
          i.id,
          i.runId,
          i.batch,
          JSON.stringify(i.actionIds),
          JSON.stringify(i.agents),
          i.description,
          i.confidence,
          i.createdAt,
        );
      }
      this.s.setNextBatch!.run(c.batch + 1, c.at, c.runId);
    });
  }

  private getRunSync(id: string): AuditRun | undefined {
    const row = this.s.run!.get(id) as Row | undefined;
    return row ? toRun(row) : undefined;
  }

  async getRun(id: string): Promise<AuditRun | undefined> {
    return this.getRunSync(id);
  }

  async findRun(idOrPrefix: string): Promise<AuditRun | undefined> {
    const exact = this.getRunSync(idOrPrefix);
    if (exact || idOrPrefix.length < 8) return exact;
    const rows = (this.s.runsByPrefix!.all(idOrPrefix) as Row[]).filter((r) =>
      String(r.id).startsWith(idOrPrefix),
    );
    return rows.length === 1 ? toRun(rows[0]!) : undefined;
  }

  async latestRun(): Promise<AuditRun | undefined> {
    const row = this.s.latest!.get() as Row | undefined;
    return row ? toRun(row) : undefined;
  }

  async lastFinishedRun(): Promise<AuditRun | undefined> {
    const row = this.s.latestDone!.get() as Row | undefined;
    return row ? toRun(row) : undefined;
  }

  async unfinishedRun(): Promise<AuditRun | undefined> {
    const row = this.unfinishedRow();
    return row ? toRun(row) : undefined;
  }

  async listRuns(limit = 20): Promise<AuditRun[]> {
    return (this.s.listRuns!.all(limit) as Row[]).map(toRun);
  }

  async runCounts(runIds: string[]) {
    const counts = new Map<string, { items: number; corrections: number }>();
    for (const id of runIds) {
      counts.set(id, {
        items: Number(this.s.itemCounts!.pluck().get(id)),
        corrections: Number(this.s.correctionCounts!.pluck().get(id)),
      });
    }
    return counts;
  }

  async batchItems(runId: string, batch: number): Promise<AuditItem[]> {
    return (this.s.batchItems!.all(runId, batch) as Row[]).map(toItem);
  }

  async runItems(runId: string): Promise<AuditItem[]> {
    return (this.s.runItems!.all(runId) as Row[]).map(toItem);
  }

  async runCorrections(runId: string): Promise<Correction[]> {
    return (this.s.runCorrections!.all(runId) as Row[]).map(toCorrection);
  }

  async actionCorrections(actionId: string): Promise<Correction[]> {
    return (this.s.actionCorrections!.all(actionId) as Row[]).map(toCorrection);
  }

  async runInsights(runId: string): Promise<Insight[]> {
    return (this.s.runInsights!.all(runId) as Row[]).map(toInsight);
  }

  async actionItems(actionId: string): Promise<ActionAuditItem[]> {
    return (this.s.actionItems!.all(actionId) as Row[]).map(toActionItem);
  }

  async insertCorrection(x: NewCorrection): Promise<boolean> {
    return this.insertCorrectionRow(x);
  }

  private insertCorrectionRow(x: NewCorrection): boolean {
    const info = this.s.insertCorrection!.run(
      x.id,
      x.runId,
      x.actionId,
      x.agent,
      x.source,
      json(x.original),
      json(x.corrected),
      x.reasoning,
      x.reviewerModel,
      x.confidenceBefore,
      x.confidenceAfter,
      x.createdAt,
    );
    return info.changes === 1;
  }

  async pendingAgents(): Promise<string[]> {
    return (this.s.pendingAgents!.all() as Row[]).map((r) => String(r.agent));
  }

  async pendingCorrections(agent: string): Promise<Correction[]> {
    return (this.s.pending!.all(agent) as Row[]).map(toCorrection);
  }

  async noteWaiting(id: string, note: string): Promise<void> {
    this.s.waiting!.run(note, id);
  }

  async markApplied(id: string, at: number, note: string | null): Promise<void> {
    this.s.applied!.run(at, note, id);
  }

  async markApplyFailed(id: string, error: string): Promise<void> {
    this.s.applyFailed!.run(error, id);
  }

  async *candidates(
    since: number,
    until: number,
    pageSize = DEFAULT_CANDIDATE_PAGE,
  ): AsyncIterable<CandidateRow> {
    let after = { startedAt: since - 1, id: "" };
    for (;;) {
      const rows = this.s.candidates!.all(
        since,
        until,
        after.startedAt,
        after.startedAt,
        after.id,
        pageSize,
      ) as Row[];
      for (const row of rows) yield toCandidate(row);
      const last = rows.at(-1);
      if (rows.length < pageSize || !last) return;
      after = { startedAt: Number(last.started_at), id: String(last.id) };
    }
  }

  async sameInputActions(agent: string, inputKey: string): Promise<string[]> {
    return this.s.sameInput!.pluck().all(inputKey, agent) as string[];
  }

  async traceUsage(traceId: string, agent: string): Promise<TraceUsage> {
    const r = this.s.traceUsage!.get(traceId, agent) as Row;
    return {
      calls: Number(r.calls),
      tokensIn: Number(r.tokens_in),
      tokensOut: Number(r.tokens_out),
      modelMs: Number(r.model_ms),
    };
  }

  async unauditedCount(since: number, exceptAgent: string): Promise<number> {
    return Number(this.s.unaudited!.pluck().get(since, exceptAgent));
  }

  async calibrationPoints(runId: string | null) {
    return (this.s.calibration!.all(runId, runId) as Row[]).map((r) => ({
      confidence: Number(r.c),
      verdict: r.verdict as Verdict,
    }));
  }

  async learningCurve(since: number): Promise<LearningDay[]> {
    return (this.s.learning!.all(since) as Row[]).map((r) => ({
      day: String(r.day),
      reviewed: Number(r.reviewed),
      wrong: Number(r.wrong),
      unsure: Number(r.unsure),
    }));
  }
}
