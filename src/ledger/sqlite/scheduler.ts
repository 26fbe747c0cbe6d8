import type { Statement } from "better-sqlite3";
import type { Db } from "../db.js";
import {
  type DecisionRow,
  jsonOrNull,
  type LeaseRow,
  type RunRow,
  storableText,
  toDecision,
  toLease,
  toRun,
} from "../scheduler-rows.js";
import {
  type DecisionRecord,
  describeLease,
  type GpuLease,
  type JobRun,
  type LeaseRequest,
  leaseHolderOf,
  type RunOutcome,
  type RunStatus,
  type SchedulerStore,
  type StartRunRequest,
  type StartRunResult,
} from "../stores/scheduler.js";

const SQL = {
  insertRun: `INSERT INTO scheduler_runs (id, job, mode, status, holder, forced, attempts,
    started_at, heartbeat_at) VALUES (?, ?, ?, 'running', ?, ?, 1, ?, ?)`,
  claimRun: `UPDATE scheduler_runs SET status = 'running', holder = ?, mode = ?,
    attempts = attempts + 1, heartbeat_at = ?, error = NULL WHERE id = ? AND status <> 'done'`,
  getRun: "SELECT * FROM scheduler_runs WHERE id = ?",
  runsOf: "SELECT * FROM scheduler_runs WHERE job = ? ORDER BY started_at DESC, id DESC LIMIT ?",
  resumable: `SELECT * FROM scheduler_runs WHERE job = ? AND (status IN ('paused', 'interrupted')
    OR (status = 'running' AND heartbeat_at < ?)) ORDER BY started_at DESC LIMIT 1`,
  live: `SELECT * FROM scheduler_runs WHERE job = ? AND status = 'running' AND heartbeat_at >= ?
    ORDER BY heartbeat_at DESC LIMIT 1`,
  lastSuccess: `SELECT * FROM scheduler_runs WHERE job = ? AND status = 'done'
    ORDER BY finished_at DESC LIMIT 1`,
  interrupt: `UPDATE scheduler_runs SET status = 'interrupted'
    WHERE id = ? AND status = 'running' AND heartbeat_at < ? RETURNING job`,
  heartbeatRun: `UPDATE scheduler_runs SET heartbeat_at = ?
    WHERE id = ? AND holder = ? AND status = 'running'`,
  checkpoint: `UPDATE scheduler_runs SET checkpoint = ?, checkpoint_at = ?, heartbeat_at = ?
    WHERE id = ? AND holder = ? AND status = 'running'`,
  finishRun: `UPDATE scheduler_runs SET status = ?, finished_at = ?, summary = ?, error = ?,
    heartbeat_at = ? WHERE id = ? AND holder = ?`,
  logRun: "UPDATE scheduler_runs SET last_log = ? WHERE id = ?",
  insertDecision: `INSERT INTO scheduler_decisions (at, job, run_id, decision, reason, details)
    VALUES (?, ?, ?, ?, ?, ?)`,
  decisions: `SELECT * FROM scheduler_decisions WHERE (? IS NULL OR job = ?)
    ORDER BY at DESC, id DESC LIMIT ?`,
  takeLease: `INSERT INTO gpu_leases (gpu, holder, job, run_id, acquired_at, heartbeat_at, expires_at)
    VALUES (@gpu, @holder, @job, @runId, @now, @now, @expires)
    ON CONFLICT (gpu) DO UPDATE SET holder = excluded.holder, job = excluded.job,
      run_id = excluded.run_id, acquired_at = excluded.acquired_at,
      heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at
    WHERE gpu_leases.expires_at <= excluded.acquired_at OR gpu_leases.holder = excluded.holder`,
  renewLease: `UPDATE gpu_leases SET heartbeat_at = ?, expires_at = ?
    WHERE gpu = ? AND holder = ? AND expires_at > ?`,
  releaseLease: "DELETE FROM gpu_leases WHERE gpu = ? AND holder = ?",
  lease: "SELECT * FROM gpu_leases WHERE gpu = ?",
  leases: "SELECT * FROM gpu_leases ORDER BY gpu",
  holdsLease: "SELECT 1 FROM gpu_leases WHERE gpu = ? AND holder = ? AND expires_at > ?",
  dueSince: "SELECT due_since FROM scheduler_job_state WHERE job = ?",
  setDueSince: `INSERT INTO scheduler_job_state (job, due_since, updated_at) VALUES (?, ?, ?)
    ON CONFLICT (job) DO UPDATE SET due_since = excluded.due_since, updated_at = excluded.updated_at`,
  getState: "SELECT value FROM scheduler_state WHERE key = ?",
  setState: `INSERT INTO scheduler_state (key, value, updated_at) VALUES (?, ?, ?)
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
} as const;

type Stmts = Record<keyof typeof SQL, Statement>;

/**
 * The scheduler's tables (migration 0003) on SQLite. Everything that must not interleave runs in
 * BEGIN IMMEDIATE transactions, so two processes sharing the file (the daemon and `nightshift
 * jobs run`) serialize on the write lock and never both win a lease or a run. The async methods
 * wrap the same synchronous statements: nothing is slower than the sync class was.
 */
export class SqliteSchedulerStore implements SchedulerStore {
  private readonly s: Stmts;

  constructor(readonly db: Db) {
    this.s = Object.fromEntries(
      Object.entries(SQL).map(([name, sql]) => [name, db.prepare(sql)]),
    ) as Stmts;
  }

  async startRun(request: StartRunRequest): Promise<StartRunResult> {
    return this.db.transaction(() => this.startRunSync(request)).immediate();
  }

  private startRunSync(r: StartRunRequest): StartRunResult {
    const live = this.s.live.get(r.job, r.staleBefore) as RunRow | undefined;
    if (live) {
      const message = `${r.job} is already running (run ${live.id}, ${live.holder})`;
      return { started: false, why: "running", message };
    }
    if (r.lastSuccessId !== undefined) {
      const last = this.s.lastSuccess.get(r.job) as RunRow | undefined;
      if (last && last.id !== r.lastSuccessId) {
        const message = `${r.job} ran meanwhile (run ${last.id}, ${last.holder})`;
        return { started: false, why: "ran", message };
      }
    }
    const resume = this.s.resumable.get(r.job, r.staleBefore) as RunRow | undefined;
    const runId = resume?.id ?? r.newRunId;
    if (r.gpu !== null) {
      const holder = leaseHolderOf(r.holder, runId);
      const lease = { gpu: r.gpu, holder, job: r.job, runId, now: r.now, ttlMs: r.leaseTtlMs };
      const taken = this.takeLeaseSync(lease);
      if (!taken.taken) {
        return {
          started: false,
          why: "gpu_lease",
          message: describeLease(taken.lease),
          lease: taken.lease,
        };
      }
    }
    if (resume) this.s.claimRun.run(r.holder, r.mode, r.now, runId);
    else this.s.insertRun.run(runId, r.job, r.mode, r.holder, r.forced ? 1 : 0, r.now, r.now);
    const run = toRun(this.s.getRun.get(runId) as RunRow);
    const details = {
      gpu: r.gpu,
      mode: r.mode,
      forced: r.forced,
      checkpoint: run.checkpoint !== null,
    };
    const decision = resume ? "resume" : "start";
    this.recordSync({ at: r.now, job: r.job, runId, decision, reason: r.reason, details });
    return { started: true, run, resumed: resume !== undefined };
  }

  async getRun(id: string): Promise<JobRun | undefined> {
    const row = this.s.getRun.get(id) as RunRow | undefined;
    return row && toRun(row);
  }

  async runsOf(job: string, limit = 5): Promise<JobRun[]> {
    return (this.s.runsOf.all(job, limit) as RunRow[]).map(toRun);
  }

  async resumableRun(job: string, staleBefore: number): Promise<JobRun | undefined> {
    const row = this.s.resumable.get(job, staleBefore) as RunRow | undefined;
    return row && toRun(row);
  }

  async liveRun(job: string, staleBefore: number): Promise<JobRun | undefined> {
    const row = this.s.live.get(job, staleBefore) as RunRow | undefined;
    return row && toRun(row);
  }

  async lastSuccess(job: string): Promise<JobRun | undefined> {
    const row = this.s.lastSuccess.get(job) as RunRow | undefined;
    return row && toRun(row);
  }

  async interruptStaleRun(id: string, staleBefore: number, now: number, reason: string) {
    return this.db
      .transaction(() => {
        const run = this.s.interrupt!.get(id, staleBefore) as { job: string } | undefined;
        if (run)
          this.recordSync({
            at: now,
            job: run.job,
            runId: id,
            decision: "interrupted",
            reason,
            details: null,
          });
        return run !== undefined;
      })
      .immediate();
  }

  async heartbeatRun(id: string, holder: string, now: number): Promise<boolean> {
    return this.s.heartbeatRun.run(now, id, holder).changes === 1;
  }

  async saveCheckpoint(
    id: string,
    holder: string,
    lease: { gpu: number; holder: string } | null,
    state: unknown,
    now: number,
  ): Promise<boolean> {
    return this.db
      .transaction(() => {
        if (lease && !this.s.holdsLease.get(lease.gpu, lease.holder, now)) return false;
        const json = JSON.stringify(state ?? null);
        return this.s.checkpoint.run(json, now, now, id, holder).changes === 1;
      })
      .immediate();
  }

  async finishRun(
    id: string,
    holder: string,
    status: Exclude<RunStatus, "running">,
    now: number,
    outcome: RunOutcome = {},
  ): Promise<void> {
    const finished = status === "done" || status === "failed" ? now : null;
    const summary = jsonOrNull(outcome.summary);
    const error = storableText(outcome.error ?? null);
    this.s.finishRun.run(status, finished, summary, error, now, id, holder);
  }

  async logRun(id: string, message: string): Promise<void> {
    this.s.logRun.run(storableText(message), id);
  }

  async recordDecision(decision: Omit<DecisionRecord, "id">): Promise<void> {
    this.recordSync(decision);
  }

  private recordSync(d: Omit<DecisionRecord, "id">): void {
    const reason = storableText(d.reason);
    this.s.insertDecision.run(d.at, d.job, d.runId, d.decision, reason, jsonOrNull(d.details));
  }

  async decisions(job: string | null, limit = 20): Promise<DecisionRecord[]> {
    return (this.s.decisions.all(job, job, limit) as DecisionRow[]).map(toDecision);
  }

  async takeLease(request: LeaseRequest): Promise<{ taken: boolean; lease: GpuLease }> {
    return this.db.transaction(() => this.takeLeaseSync(request)).immediate();
  }

  private takeLeaseSync(r: LeaseRequest): { taken: boolean; lease: GpuLease } {
    const params = { gpu: r.gpu, holder: r.holder, job: r.job, runId: r.runId, now: r.now };
    const taken = this.s.takeLease.run({ ...params, expires: r.now + r.ttlMs }).changes === 1;
    return { taken, lease: toLease(this.s.lease.get(r.gpu) as LeaseRow) };
  }

  async renewLease(gpu: number, holder: string, now: number, ttlMs: number): Promise<boolean> {
    return this.s.renewLease.run(now, now + ttlMs, gpu, holder, now).changes === 1;
  }

  async releaseLease(gpu: number, holder: string): Promise<boolean> {
    return this.s.releaseLease.run(gpu, holder).changes === 1;
  }

  async lease(gpu: number): Promise<GpuLease | undefined> {
    const row = this.s.lease.get(gpu) as LeaseRow | undefined;
    return row && toLease(row);
  }

  async leases(): Promise<GpuLease[]> {
    return (this.s.leases.all() as LeaseRow[]).map(toLease);
  }

  async dueSince(job: string): Promise<number | null> {
    const row = this.s.dueSince.get(job) as { due_since: number | null } | undefined;
    return row?.due_since ?? null;
  }

  async setDueSince(job: string, since: number | null, now: number): Promise<void> {
    this.s.setDueSince.run(job, since, now);
  }

  async getState<T>(key: string): Promise<T | undefined> {
    const row = this.s.getState.get(key) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  async setState(key: string, value: unknown, now: number): Promise<void> {
    this.s.setState.run(key, JSON.stringify(value), now);
  }
}
