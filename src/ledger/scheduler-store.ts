import type { Statement } from "better-sqlite3";
import type { Db } from "./db.js";

export type RunStatus = "running" | "paused" | "interrupted" | "done" | "failed";
export type RunMode = "normal" | "degraded";
export type Decision =
  | "start"
  | "resume"
  | "pause"
  | "skip"
  | "degraded"
  | "done"
  | "fail"
  | "release"
  | "interrupted";

export interface JobRun {
  id: string;
  job: string;
  mode: RunMode;
  status: RunStatus;
  holder: string | null;
  forced: boolean;
  attempts: number;
  startedAt: number;
  heartbeatAt: number;
  finishedAt: number | null;
  checkpoint: unknown;
  checkpointAt: number | null;
  summary: Record<string, unknown> | null;
  error: string | null;
  lastLog: string | null;
}

export interface DecisionRecord {
  id: number;
  at: number;
  job: string;
  runId: string | null;
  decision: Decision;
  reason: string;
  details: Record<string, unknown> | null;
}

export interface GpuLease {
  gpu: number;
  holder: string;
  job: string;
  runId: string | null;
  acquiredAt: number;
  heartbeatAt: number;
  expiresAt: number;
}

interface RunRow {
  id: string;
  job: string;
  mode: RunMode;
  status: RunStatus;
  holder: string | null;
  forced: number;
  attempts: number;
  started_at: number;
  heartbeat_at: number;
  finished_at: number | null;
  checkpoint: string | null;
  checkpoint_at: number | null;
  summary: string | null;
  error: string | null;
  last_log: string | null;
}

interface DecisionRow {
  id: number;
  at: number;
  job: string;
  run_id: string | null;
  decision: Decision;
  reason: string;
  details: string | null;
}

interface LeaseRow {
  gpu: number;
  holder: string;
  job: string;
  run_id: string | null;
  acquired_at: number;
  heartbeat_at: number;
  expires_at: number;
}

/**
 * The scheduler's tables (migration 0003): runs with checkpoints, decisions, GPU leases and
 * per-job state. Lease changes run in BEGIN IMMEDIATE transactions, so two processes sharing the
 * ledger (the daemon and `nightshift jobs run`) serialize on the write lock and never both win.
 */
export class SchedulerStore {
  private readonly stmts: Record<string, Statement>;

  constructor(readonly db: Db) {
    const p = (sql: string) => db.prepare(sql);
    this.stmts = {
      insertRun: p(`INSERT INTO scheduler_runs (id, job, mode, status, holder, forced, attempts,
        started_at, heartbeat_at) VALUES (?, ?, ?, 'running', ?, ?, 1, ?, ?)`),
      claimRun: p(`UPDATE scheduler_runs SET status = 'running', holder = ?, mode = ?,
        attempts = attempts + 1, heartbeat_at = ?, error = NULL WHERE id = ? AND status <> 'done'`),
      getRun: p("SELECT * FROM scheduler_runs WHERE id = ?"),
      runsOf: p(
        "SELECT * FROM scheduler_runs WHERE job = ? ORDER BY started_at DESC, id DESC LIMIT ?",
      ),
      resumable:
        p(`SELECT * FROM scheduler_runs WHERE job = ? AND (status IN ('paused', 'interrupted')
        OR (status = 'running' AND heartbeat_at < ?)) ORDER BY started_at DESC LIMIT 1`),
      lastSuccess: p(`SELECT * FROM scheduler_runs WHERE job = ? AND status = 'done'
        ORDER BY finished_at DESC LIMIT 1`),
      heartbeatRun: p("UPDATE scheduler_runs SET heartbeat_at = ? WHERE id = ? AND holder = ?"),
      checkpoint: p(`UPDATE scheduler_runs SET checkpoint = ?, checkpoint_at = ?, heartbeat_at = ?
        WHERE id = ? AND holder = ? AND status = 'running'`),
      finishRun: p(`UPDATE scheduler_runs SET status = ?, finished_at = ?, summary = ?, error = ?,
        heartbeat_at = ? WHERE id = ? AND holder = ?`),
      logRun: p("UPDATE scheduler_runs SET last_log = ? WHERE id = ?"),
      insertDecision:
        p(`INSERT INTO scheduler_decisions (at, job, run_id, decision, reason, details)
        VALUES (?, ?, ?, ?, ?, ?)`),
      decisions: p(`SELECT * FROM scheduler_decisions WHERE (? IS NULL OR job = ?)
        ORDER BY at DESC, id DESC LIMIT ?`),
      takeLease:
        p(`INSERT INTO gpu_leases (gpu, holder, job, run_id, acquired_at, heartbeat_at, expires_at)
        VALUES (@gpu, @holder, @job, @runId, @now, @now, @expires)
        ON CONFLICT (gpu) DO UPDATE SET holder = excluded.holder, job = excluded.job,
          run_id = excluded.run_id, acquired_at = excluded.acquired_at,
          heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at
        WHERE gpu_leases.expires_at <= excluded.acquired_at OR gpu_leases.holder = excluded.holder`),
      renewLease: p(`UPDATE gpu_leases SET heartbeat_at = ?, expires_at = ?
        WHERE gpu = ? AND holder = ? AND expires_at > ?`),
      releaseLease: p("DELETE FROM gpu_leases WHERE gpu = ? AND holder = ?"),
      lease: p("SELECT * FROM gpu_leases WHERE gpu = ?"),
      leases: p("SELECT * FROM gpu_leases ORDER BY gpu"),
      holdsLease: p("SELECT 1 FROM gpu_leases WHERE gpu = ? AND holder = ? AND expires_at > ?"),
      dueSince: p("SELECT due_since FROM scheduler_job_state WHERE job = ?"),
      setDueSince: p(`INSERT INTO scheduler_job_state (job, due_since, updated_at) VALUES (?, ?, ?)
        ON CONFLICT (job) DO UPDATE SET due_since = excluded.due_since, updated_at = excluded.updated_at`),
      getState: p("SELECT value FROM scheduler_state WHERE key = ?"),
      setState: p(`INSERT INTO scheduler_state (key, value, updated_at) VALUES (?, ?, ?)
        ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`),
    };
  }

  createRun(run: {
    id: string;
    job: string;
    mode: RunMode;
    holder: string;
    forced: boolean;
    now: number;
  }): JobRun {
    this.stmts.insertRun!.run(
      run.id,
      run.job,
      run.mode,
      run.holder,
      run.forced ? 1 : 0,
      run.now,
      run.now,
    );
    return this.getRun(run.id)!;
  }

  /** Takes over a paused, interrupted or stale run for `holder`; false if it finished meanwhile. */
  claimRun(id: string, holder: string, mode: RunMode, now: number): boolean {
    return this.stmts.claimRun!.run(holder, mode, now, id).changes === 1;
  }

  getRun(id: string): JobRun | undefined {
    const row = this.stmts.getRun!.get(id) as RunRow | undefined;
    return row && toRun(row);
  }

  runsOf(job: string, limit = 5): JobRun[] {
    return (this.stmts.runsOf!.all(job, limit) as RunRow[]).map(toRun);
  }

  /** The newest run of `job` to resume: paused, interrupted, or running with a stale heartbeat. */
  resumableRun(job: string, staleBefore: number): JobRun | undefined {
    const row = this.stmts.resumable!.get(job, staleBefore) as RunRow | undefined;
    return row && toRun(row);
  }

  lastSuccess(job: string): JobRun | undefined {
    const row = this.stmts.lastSuccess!.get(job) as RunRow | undefined;
    return row && toRun(row);
  }

  heartbeatRun(id: string, holder: string, now: number): void {
    this.stmts.heartbeatRun!.run(now, id, holder);
  }

  /**
   * Saves a checkpoint only while `holder` still owns the run and, when `lease` is given, that
   * lease is still held; one immediate transaction, so a holder whose lease ran out and was
   * taken cannot write over the new holder's progress.
   */
  saveCheckpoint(
    id: string,
    holder: string,
    lease: { gpu: number; holder: string } | null,
    state: unknown,
    now: number,
  ): boolean {
    return this.db
      .transaction(() => {
        if (lease && !this.stmts.holdsLease!.get(lease.gpu, lease.holder, now)) return false;
        const json = JSON.stringify(state ?? null);
        return this.stmts.checkpoint!.run(json, now, now, id, holder).changes === 1;
      })
      .immediate();
  }

  finishRun(
    id: string,
    holder: string,
    status: Exclude<RunStatus, "running">,
    now: number,
    outcome: { summary?: Record<string, unknown> | undefined; error?: string | undefined } = {},
  ): void {
    const finished = status === "done" || status === "failed" ? now : null;
    this.stmts.finishRun!.run(
      status,
      finished,
      outcome.summary ? JSON.stringify(outcome.summary) : null,
      outcome.error ?? null,
      now,
      id,
      holder,
    );
  }

  logRun(id: string, message: string): void {
    this.stmts.logRun!.run(message, id);
  }

  recordDecision(decision: Omit<DecisionRecord, "id">): void {
    this.stmts.insertDecision!.run(
      decision.at,
      decision.job,
      decision.runId,
      decision.decision,
      decision.reason,
      decision.details ? JSON.stringify(decision.details) : null,
    );
  }

  decisions(job: string | null, limit = 20): DecisionRecord[] {
    return (this.stmts.decisions!.all(job, job, limit) as DecisionRow[]).map((row) => ({
      id: row.id,
      at: row.at,
      job: row.job,
      runId: row.run_id,
      decision: row.decision,
      reason: row.reason,
      details: row.details ? (JSON.parse(row.details) as Record<string, unknown>) : null,
    }));
  }

  /**
   * Takes `gpu` for `holder` if it is free, expired, or already this holder's: one upsert inside
   * BEGIN IMMEDIATE. Returns the lease now in force (the caller's on success, the other on not).
   */
  takeLease(request: {
    gpu: number;
    holder: string;
    job: string;
    runId: string | null;
    now: number;
    ttlMs: number;
  }): { taken: boolean; lease: GpuLease } {
    return this.db
      .transaction(() => {
        const taken =
          this.stmts.takeLease!.run({
            gpu: request.gpu,
            holder: request.holder,
            job: request.job,
            runId: request.runId,
            now: request.now,
            expires: request.now + request.ttlMs,
          }).changes === 1;
        return { taken, lease: this.lease(request.gpu)! };
      })
      .immediate();
  }

  /** Extends a lease the holder still has; false if it expired (it may have been taken). */
  renewLease(gpu: number, holder: string, now: number, ttlMs: number): boolean {
    return this.stmts.renewLease!.run(now, now + ttlMs, gpu, holder, now).changes === 1;
  }

  releaseLease(gpu: number, holder: string): boolean {
    return this.stmts.releaseLease!.run(gpu, holder).changes === 1;
  }

  lease(gpu: number): GpuLease | undefined {
    const row = this.stmts.lease!.get(gpu) as LeaseRow | undefined;
    return row && toLease(row);
  }

  leases(): GpuLease[] {
    return (this.stmts.leases!.all() as LeaseRow[]).map(toLease);
  }

  dueSince(job: string): number | null {
    const row = this.stmts.dueSince!.get(job) as { due_since: number | null } | undefined;
    return row?.due_since ?? null;
  }

  setDueSince(job: string, since: number | null, now: number): void {
    this.stmts.setDueSince!.run(job, since, now);
  }

  getState<T>(key: string): T | undefined {
    const row = this.stmts.getState!.get(key) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  setState(key: string, value: unknown, now: number): void {
    this.stmts.setState!.run(key, JSON.stringify(value), now);
  }
}

function toRun(row: RunRow): JobRun {
  return {
    id: row.id,
    job: row.job,
    mode: row.mode,
    status: row.status,
    holder: row.holder,
    forced: row.forced === 1,
    attempts: row.attempts,
    startedAt: row.started_at,
    heartbeatAt: row.heartbeat_at,
    finishedAt: row.finished_at,
    checkpoint: row.checkpoint === null ? null : JSON.parse(row.checkpoint),
    checkpointAt: row.checkpoint_at,
    summary: row.summary ? (JSON.parse(row.summary) as Record<string, unknown>) : null,
    error: row.error,
    lastLog: row.last_log,
  };
}

function toLease(row: LeaseRow): GpuLease {
  return {
    gpu: row.gpu,
    holder: row.holder,
    job: row.job,
    runId: row.run_id,
    acquiredAt: row.acquired_at,
    heartbeatAt: row.heartbeat_at,
    expiresAt: row.expires_at,
  };
}
