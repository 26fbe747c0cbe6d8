/**
 * The scheduler's part of the ledger: job runs with their checkpoints, every decision the
 * scheduler takes, GPU leases and per-job state. Several daemons (on several machines) may share
 * one ledger, so what must hold across them is decided here, in the database, never in a
 * process's memory:
 *
 * - a GPU lease is one row per GPU, taken by one atomic statement only when free, expired or the
 *   caller's own; the holder renews it while its job runs, and a dead holder's lease simply runs
 *   out and is taken over;
 * - a job runs on one machine at a time: `startRun` refuses while another holder's run of the
 *   job is alive (status running, heartbeat within the lease TTL), and refuses a run the caller
 *   assessed as due when another holder finished one meanwhile.
 *
 * Times are the scheduler's Clock (milliseconds), passed in by the caller, not the database's
 * clock: the same code then runs on SQLite (which has no server clock) and on PostgreSQL, and
 * tests drive time. Across machines this relies on their clocks agreeing to well within the
 * lease TTL (60 s by default, renewed every 5 s): NTP (systemd-timesyncd, chrony) keeps home-lab
 * machines within milliseconds to a second of each other. A skew of d only moves the moment a
 * dead holder's lease is taken over by d; a live holder renews long before expiry, and a holder
 * that did lose its lease cannot checkpoint over the new holder's progress (`saveCheckpoint`).
 */
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

export interface LeaseRequest {
  gpu: number;
  holder: string;
  job: string;
  runId: string | null;
  now: number;
  ttlMs: number;
}

export interface StartRunRequest {
  job: string;
  /** The scheduler taking the run (host, pid and its own id). */
  holder: string;
  mode: RunMode;
  forced: boolean;
  now: number;
  /** A run whose heartbeat is older than this is dead: it may be resumed by another holder. */
  staleBefore: number;
  /** The id for a new run; a paused, interrupted or dead run of the job is resumed instead. */
  newRunId: string;
  /** The GPU to lease for the run, held by `leaseHolderOf(holder, runId)`; null for none. */
  gpu: number | null;
  leaseTtlMs: number;
  /**
   * The id of the job's last successful run as the caller saw it when it found the job due.
   * If another holder finished a run since, the job is no longer due: not started. Omitted for
   * a forced run, which runs anyway (but still one at a time).
   */
  lastSuccessId?: string | null;
  /** Why, recorded with the start (or resume) decision in the same transaction. */
  reason: string;
}

export type StartRunResult =
  | { started: true; run: JobRun; resumed: boolean }
  | {
      started: false;
      /** running: another holder's run is alive; ran: another holder finished one meanwhile. */
      why: "running" | "ran" | "gpu_lease";
      message: string;
      /** The lease in force, when the GPU was the reason. */
      lease?: GpuLease;
    };

export interface RunOutcome {
  summary?: Record<string, unknown> | undefined;
  error?: string | undefined;
}

export interface SchedulerStore {
  /**
   * Starts a run of a job, or resumes its paused, interrupted or dead one, in one transaction:
   * one run of a job at a time across every daemon sharing the ledger, its GPU lease taken, the
   * run claimed for `holder`, and the start (or resume) decision recorded. Nothing is written
   * when it is refused.
   */
  startRun(request: StartRunRequest): Promise<StartRunResult>;
  getRun(id: string): Promise<JobRun | undefined>;
  runsOf(job: string, limit?: number): Promise<JobRun[]>;
  /** The newest run of `job` to resume: paused, interrupted, or running with a stale heartbeat. */
  resumableRun(job: string, staleBefore: number): Promise<JobRun | undefined>;
  /** The run of `job` some holder is working on now (running, heartbeat since `staleBefore`). */
  liveRun(job: string, staleBefore: number): Promise<JobRun | undefined>;
  lastSuccess(job: string): Promise<JobRun | undefined>;
  /**
   * Marks a run its holder left "running" (heartbeat before `staleBefore`) interrupted and
   * records the "interrupted" decision, in one transaction: true for the one caller across every
   * daemon sharing the ledger that did it, false when the run was alive, resumed or already marked.
   */
  interruptStaleRun(id: string, staleBefore: number, now: number, reason: string): Promise<boolean>;
  /** False when `holder` no longer owns the run (another holder took it over). */
  heartbeatRun(id: string, holder: string, now: number): Promise<boolean>;
  /**
   * Saves a checkpoint only while `holder` still owns the run and, when `lease` is given, that
   * lease is still held; one transaction, so a holder whose lease ran out and was taken cannot
   * write over the new holder's progress.
   */
  saveCheckpoint(
    id: string,
    holder: string,
    lease: { gpu: number; holder: string } | null,
    state: unknown,
    now: number,
  ): Promise<boolean>;
  finishRun(
    id: string,
    holder: string,
    status: Exclude<RunStatus, "running">,
    now: number,
    outcome?: RunOutcome,
  ): Promise<void>;
  logRun(id: string, message: string): Promise<void>;
  recordDecision(decision: Omit<DecisionRecord, "id">): Promise<void>;
  /** Newest first; every job's when `job` is null. */
  decisions(job: string | null, limit?: number): Promise<DecisionRecord[]>;
  /**
   * Takes `gpu` for `holder` if it is free, expired, or already this holder's: one atomic
   * statement. Returns the lease now in force (the caller's on success, the other's on not).
   */
  takeLease(request: LeaseRequest): Promise<{ taken: boolean; lease: GpuLease }>;
  /** Extends a lease the holder still has; false if it expired (it may have been taken). */
  renewLease(gpu: number, holder: string, now: number, ttlMs: number): Promise<boolean>;
  releaseLease(gpu: number, holder: string): Promise<boolean>;
  lease(gpu: number): Promise<GpuLease | undefined>;
  leases(): Promise<GpuLease[]>;
  dueSince(job: string): Promise<number | null>;
  setDueSince(job: string, since: number | null, now: number): Promise<void>;
  getState<T>(key: string): Promise<T | undefined>;
  setState(key: string, value: unknown, now: number): Promise<void>;
}

/** Leases belong to one run, so two jobs of one daemon never share a GPU either. */
export function leaseHolderOf(holder: string, runId: string): string {
  return `${holder}#${runId}`;
}

/** Why a GPU lease keeps a run from starting, for the skip decision and the CLI. */
export function describeLease(lease: GpuLease): string {
  return `GPU ${lease.gpu} is leased by ${lease.job} (${lease.holder}) until ${new Date(lease.expiresAt).toISOString()}`;
}
