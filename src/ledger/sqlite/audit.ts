import type { Statement } from "better-sqlite3";
import {
  correctionValues,
  insightValues,
  json,
  mayClaim,
  type Row,
  toActionItem,
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
  type ClaimResult,
  type Correction,
  type Insight,
  type NewAuditItem,
  type NewAuditRun,
  type NewCorrection,
  type RunClaim,
  RunTakenOverError,
} from "../stores/audit.js";
import { SqliteAuditSelection } from "./audit-selection.js";
import { auditStatements } from "./audit-statements.js";

/**
 * The audit's tables on SQLite: runs, batches and corrections here; what it selects and measures
 * over the action log in audit-selection.ts. Claims and batches run in IMMEDIATE transactions: they read then
 * write (is a run running? is this batch still open?), and a deferred transaction would fail
 * outright, not wait, if another process's writer got in between.
 */
export class SqliteAuditStore extends SqliteAuditSelection implements AuditStore {
  private readonly s: Record<string, Statement>;

  constructor(readonly db: Db) {
    super(db);
    this.s = auditStatements(db);
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
        this.s.insertInsight!.run(...insightValues(i));
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
    const info = this.s.insertCorrection!.run(...correctionValues(x));
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
}
