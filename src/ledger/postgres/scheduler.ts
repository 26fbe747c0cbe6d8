import type pg from "pg";
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
import { inTransaction } from "./transaction.js";

type Queryable = pg.Pool | pg.PoolClient;

/** The advisory-lock class of "one start of job X at a time" ("nsjb"); the job's hash is the key. */
const JOB_LOCK = 0x6e_73_6a_62;

const RESUMABLE = `SELECT * FROM scheduler_runs WHERE job = $1 AND (status IN ('paused', 'interrupted')
  OR (status = 'running' AND heartbeat_at < $2)) ORDER BY started_at DESC LIMIT 1`;
const LIVE = `SELECT * FROM scheduler_runs WHERE job = $1 AND status = 'running' AND heartbeat_at >= $2
  ORDER BY heartbeat_at DESC LIMIT 1`;
const LAST_SUCCESS = `SELECT * FROM scheduler_runs WHERE job = $1 AND status = 'done'
  ORDER BY finished_at DESC LIMIT 1`;
// Wins only over a free, expired or own lease; a row locked by another taker is waited for and
// the WHERE re-checked on its committed version, so two machines never both get the card.
const TAKE_LEASE = `INSERT INTO gpu_leases (gpu, holder, job, run_id, acquired_at, heartbeat_at, expires_at)
  VALUES ($1, $2, $3, $4, $5, $5, $6)
  ON CONFLICT (gpu) DO UPDATE SET holder = excluded.holder, job = excluded.job,
    run_id = excluded.run_id, acquired_at = excluded.acquired_at,
    heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at
  WHERE gpu_leases.expires_at <= excluded.acquired_at OR gpu_leases.holder = excluded.holder
  RETURNING *`;
const INSERT_DECISION = `INSERT INTO scheduler_decisions (at, job, run_id, decision, reason, details)
  VALUES ($1, $2, $3, $4, $5, $6)`;

/**
 * The scheduler's tables on a PostgreSQL server several daemons share. Starting a run holds a
 * transaction-scoped advisory lock on the job, so two daemons deciding at the same moment take
 * turns, and the second sees the first's run alive; leases are one conditional upsert. Times are
 * the callers' clocks, not now() of the server (stores/scheduler.ts says why that is sound).
 */
export class PostgresSchedulerStore implements SchedulerStore {
  constructor(private readonly pool: pg.Pool) {}

  startRun(request: StartRunRequest): Promise<StartRunResult> {
    return inTransaction(this.pool, async (client) => {
      await client.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [JOB_LOCK, request.job]);
      return this.startLocked(client, request);
    });
  }

  private async startLocked(c: pg.PoolClient, r: StartRunRequest): Promise<StartRunResult> {
    const live = await one<RunRow>(c, LIVE, [r.job, r.staleBefore]);
    if (live) {
      const message = `${r.job} is already running (run ${live.id}, ${live.holder})`;
      return { started: false, why: "running", message };
    }
    if (r.lastSuccessId !== undefined) {
      const last = await one<RunRow>(c, LAST_SUCCESS, [r.job]);
      if (last && last.id !== r.lastSuccessId) {
        const message = `${r.job} ran meanwhile (run ${last.id}, ${last.holder})`;
        return { started: false, why: "ran", message };
      }
    }
    const resume = await one<RunRow>(c, RESUMABLE, [r.job, r.staleBefore]);
    const runId = resume?.id ?? r.newRunId;
    if (r.gpu !== null) {
      const holder = leaseHolderOf(r.holder, runId);
      const request = { gpu: r.gpu, holder, job: r.job, runId, now: r.now, ttlMs: r.leaseTtlMs };
      const taken = await takeLeaseOn(c, request);
      if (!taken.taken) {
        // Rolls back nothing written: the lease is the first write.
        const lease = taken.lease;
        return { started: false, why: "gpu_lease", message: describeLease(lease), lease };
      }
    }
    const row = resume
      ? await one<RunRow>(
          c,
          `UPDATE scheduler_runs SET status = 'running', holder = $1, mode = $2,
           attempts = attempts + 1, heartbeat_at = $3, error = NULL WHERE id = $4 RETURNING *`,
          [r.holder, r.mode, r.now, runId],
        )
      : await one<RunRow>(
          c,
          `INSERT INTO scheduler_runs (id, job, mode, status, holder, forced, attempts, started_at,
           heartbeat_at) VALUES ($1, $2, $3, 'running', $4, $5, 1, $6, $6) RETURNING *`,
          [runId, r.job, r.mode, r.holder, r.forced, r.now],
        );
    const run = toRun(row!);
    const decision = resume ? "resume" : "start";
    const details = {
      gpu: r.gpu,
      mode: r.mode,
      forced: r.forced,
      checkpoint: run.checkpoint !== null,
    };
    const reason = storableText(r.reason);
    await c.query(INSERT_DECISION, [r.now, r.job, runId, decision, reason, jsonOrNull(details)]);
    return { started: true, run, resumed: resume !== undefined };
  }

  async getRun(id: string): Promise<JobRun | undefined> {
    const row = await one<RunRow>(this.pool, "SELECT * FROM scheduler_runs WHERE id = $1", [id]);
    return row && toRun(row);
  }

  async runsOf(job: string, limit = 5): Promise<JobRun[]> {
    const { rows } = await this.pool.query<RunRow>(
      "SELECT * FROM scheduler_runs WHERE job = $1 ORDER BY started_at DESC, id DESC LIMIT $2",
      [job, limit],
    );
    return rows.map(toRun);
  }

  async resumableRun(job: string, staleBefore: number): Promise<JobRun | undefined> {
    const row = await one<RunRow>(this.pool, RESUMABLE, [job, staleBefore]);
    return row && toRun(row);
  }

  async liveRun(job: string, staleBefore: number): Promise<JobRun | undefined> {
    const row = await one<RunRow>(this.pool, LIVE, [job, staleBefore]);
    return row && toRun(row);
  }

  async lastSuccess(job: string): Promise<JobRun | undefined> {
    const row = await one<RunRow>(this.pool, LAST_SUCCESS, [job]);
    return row && toRun(row);
  }

  interruptStaleRun(id: string, staleBefore: number, now: number, reason: string) {
    return inTransaction(this.pool, async (c) => {
      // The row lock makes a second daemon's UPDATE wait, then re-check the status: it finds none.
      const run = await one<RunRow>(
        c,
        `UPDATE scheduler_runs SET status = 'interrupted'
         WHERE id = $1 AND status = 'running' AND heartbeat_at < $2 RETURNING *`,
        [id, staleBefore],
      );
      if (!run) return false;
      await c.query(INSERT_DECISION, [now, run.job, id, "interrupted", storableText(reason), null]);
      return true;
    });
  }

  async heartbeatRun(id: string, holder: string, now: number): Promise<boolean> {
    const result = await this.pool.query(
      `UPDATE scheduler_runs SET heartbeat_at = $1
       WHERE id = $2 AND holder = $3 AND status = 'running'`,
      [now, id, holder],
    );
    return result.rowCount === 1;
  }

  saveCheckpoint(
    id: string,
    holder: string,
    lease: { gpu: number; holder: string } | null,
    state: unknown,
    now: number,
  ): Promise<boolean> {
    return inTransaction(this.pool, async (client) => {
      if (lease) {
        // FOR SHARE: a taker's upsert waits until this checkpoint is in, never lands between.
        const held = await client.query(
          "SELECT 1 FROM gpu_leases WHERE gpu = $1 AND holder = $2 AND expires_at > $3 FOR SHARE",
          [lease.gpu, lease.holder, now],
        );
        if (held.rowCount === 0) return false;
      }
      const result = await client.query(
        `UPDATE scheduler_runs SET checkpoint = $1, checkpoint_at = $2, heartbeat_at = $2
         WHERE id = $3 AND holder = $4 AND status = 'running'`,
        [JSON.stringify(state ?? null), now, id, holder],
      );
      return result.rowCount === 1;
    });
  }

  async finishRun(
    id: string,
    holder: string,
    status: Exclude<RunStatus, "running">,
    now: number,
    outcome: RunOutcome = {},
  ): Promise<void> {
    const finished = status === "done" || status === "failed" ? now : null;
    await this.pool.query(
      `UPDATE scheduler_runs SET status = $1, finished_at = $2, summary = $3, error = $4,
       heartbeat_at = $5 WHERE id = $6 AND holder = $7`,
      [
        status,
        finished,
        jsonOrNull(outcome.summary),
        storableText(outcome.error ?? null),
        now,
        id,
        holder,
      ],
    );
  }

  async logRun(id: string, message: string): Promise<void> {
    await this.pool.query("UPDATE scheduler_runs SET last_log = $1 WHERE id = $2", [
      storableText(message),
      id,
    ]);
  }

  async recordDecision(d: Omit<DecisionRecord, "id">): Promise<void> {
    await this.pool.query(INSERT_DECISION, [
      d.at,
      d.job,
      d.runId,
      d.decision,
      storableText(d.reason),
      jsonOrNull(d.details),
    ]);
  }

  async decisions(job: string | null, limit = 20): Promise<DecisionRecord[]> {
    const { rows } = await this.pool.query<DecisionRow>(
      `SELECT * FROM scheduler_decisions WHERE ($1::text IS NULL OR job = $1)
       ORDER BY at DESC, id DESC LIMIT $2`,
      [job, limit],
    );
    return rows.map(toDecision);
  }

  takeLease(request: LeaseRequest): Promise<{ taken: boolean; lease: GpuLease }> {
    return takeLeaseOn(this.pool, request);
  }

  async renewLease(gpu: number, holder: string, now: number, ttlMs: number): Promise<boolean> {
    const result = await this.pool.query(
      `UPDATE gpu_leases SET heartbeat_at = $1, expires_at = $2
       WHERE gpu = $3 AND holder = $4 AND expires_at > $1`,
      [now, now + ttlMs, gpu, holder],
    );
    return result.rowCount === 1;
  }

  async releaseLease(gpu: number, holder: string): Promise<boolean> {
    const result = await this.pool.query("DELETE FROM gpu_leases WHERE gpu = $1 AND holder = $2", [
      gpu,
      holder,
    ]);
    return result.rowCount === 1;
  }

  async lease(gpu: number): Promise<GpuLease | undefined> {
    const row = await one<LeaseRow>(this.pool, "SELECT * FROM gpu_leases WHERE gpu = $1", [gpu]);
    return row && toLease(row);
  }

  async leases(): Promise<GpuLease[]> {
    const { rows } = await this.pool.query<LeaseRow>("SELECT * FROM gpu_leases ORDER BY gpu");
    return rows.map(toLease);
  }

  async dueSince(job: string): Promise<number | null> {
    const row = await one<{ due_since: number | null }>(
      this.pool,
      "SELECT due_since FROM scheduler_job_state WHERE job = $1",
      [job],
    );
    return row?.due_since ?? null;
  }

  async setDueSince(job: string, since: number | null, now: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO scheduler_job_state (job, due_since, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (job) DO UPDATE SET due_since = excluded.due_since, updated_at = excluded.updated_at`,
      [job, since, now],
    );
  }

  async getState<T>(key: string): Promise<T | undefined> {
    const row = await one<{ value: string }>(
      this.pool,
      "SELECT value FROM scheduler_state WHERE key = $1",
      [key],
    );
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  async setState(key: string, value: unknown, now: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO scheduler_state (key, value, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      [key, JSON.stringify(value), now],
    );
  }
}

async function one<T extends pg.QueryResultRow>(
  q: Queryable,
  text: string,
  values: unknown[],
): Promise<T | undefined> {
  const { rows } = await q.query<T>(text, values);
  return rows[0];
}

/**
 * The upsert answers only when it won; otherwise the lease in force is read. If that lease was
 * released in between (no row), the upsert is simply tried again.
 */
async function takeLeaseOn(
  q: Queryable,
  r: LeaseRequest,
): Promise<{ taken: boolean; lease: GpuLease }> {
  for (;;) {
    const values = [r.gpu, r.holder, r.job, r.runId, r.now, r.now + r.ttlMs];
    const won = await one<LeaseRow>(q, TAKE_LEASE, values);
    if (won) return { taken: true, lease: toLease(won) };
    const held = await one<LeaseRow>(q, "SELECT * FROM gpu_leases WHERE gpu = $1", [r.gpu]);
    if (held) return { taken: false, lease: toLease(held) };
  }
}
