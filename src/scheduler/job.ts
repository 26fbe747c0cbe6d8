import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import type { LedgerStores } from "../ledger/stores/index.js";
import type { MonitorStore } from "../monitor/index.js";

/**
 * The contract between the scheduler and a job. A job does its work in items and checkpoints
 * after each; the scheduler persists checkpoints, so a paused, crashed or killed job resumes from
 * the last one and nothing is done twice.
 *
 * A job is registered as a `JobFactory` in src/scheduler/jobs/index.ts: a function from the
 * shared dependencies (the ledger's stores, config, clock) to a `JobDefinition`, so nothing
 * reaches for a global. Example (src/audit/job.ts):
 *
 * ```ts
 * export const auditJob: JobFactory = ({ stores, config }) => ({
 *   name: "audit",
 *   description: "reviews the day's uncertain work with the big model",
 *   defaults: { requiresIdle: true, quietWindowOnly: false, minIntervalH: 12, minBacklog: 100,
 *               gpu: 0, models: ["qwen2.5:14b"], degradedModels: ["qwen2.5:7b"] },
 *   backlog: async (now) => ({ count: await stores.audit.unauditedCount(now - 7 * 864e5) }),
 *   run: async (context) => { ... context.saveCheckpoint(...) after each batch ... },
 * });
 * ```
 */
export type JobMode = "normal" | "degraded";

export interface JobContext {
  /** The job's registered name. */
  job: string;
  /** This run's id (stable across pause/resume of the same run). */
  runId: string;
  /**
   * "degraded" when the job has been due for longer than degraded_after_h without the machine
   * ever being idle: the job should do the same work more cheaply (a smaller model, CPU only).
   * Degraded runs hold no GPU lease unless the job's `degradedUsesGpu` says so.
   */
  mode: JobMode;
  /** The checkpoint the previous attempt of this run left, or null on a fresh start. */
  checkpoint: unknown;
  /**
   * Persists progress (any JSON value); call after each item (or batch), after the item's own
   * writes are committed. Rejects if the run lost its GPU lease or the run itself (another holder
   * took it over after expiry), so a stale run cannot overwrite a newer one's progress; the run
   * is then paused. Checkpoints are written in order; awaiting is best (a job that does not
   * await finds a lost lease thrown by its next call, and its run paused).
   */
  saveCheckpoint(state: unknown): Promise<void>;
  /** True once the scheduler wants the job to stop at its next checkpoint. */
  shouldPause(): boolean;
  /** Aborted when the job must stop (pause or shutdown); pass it to long awaits (fetch, sleep). */
  signal: AbortSignal;
  /** The GPU leased for the run, if the job asked for one and runs in normal mode. */
  gpu: number | null;
  /** The models the scheduler made room for (defaults.models, or degradedModels when degraded). */
  models: string[];
  /** A progress line, recorded with the run and printed by `nightshift jobs`. */
  log(message: string): void;
}

export type JobOutcome =
  | { status: "done"; summary?: Record<string, unknown> }
  | { status: "paused" };

export interface BacklogInfo {
  /** Items waiting (e.g. actions to review); compared against the job's min_backlog. */
  count: number;
}

export interface JobDefaults {
  requiresIdle: boolean;
  quietWindowOnly: boolean;
  minIntervalH: number;
  minBacklog: number;
  gpu?: number;
  /** VRAM the job needs on its GPU; day models are unloaded only when free VRAM is short. */
  vramMb?: number;
  /** Model names this job loads, so the day models can be unloaded first. */
  models?: string[];
  /** Overrides scheduler.degraded_after_h for this job. */
  degradedAfterH?: number;
  /** The (smaller) models a degraded run loads; defaults to `models`. */
  degradedModels?: string[];
  /** Whether a degraded run still takes the GPU lease (default false: CPU only). */
  degradedUsesGpu?: boolean;
}

export interface JobDefinition {
  name: string;
  description: string;
  /** Defaults for the job's conditions; nightshift.yaml `scheduler.jobs.NAME` overrides them. */
  defaults: JobDefaults;
  /** How much work is waiting; omitted for jobs without a backlog condition. */
  backlog?(now: number): BacklogInfo | Promise<BacklogInfo>;
  /**
   * Does the work. Return `{status: "paused"}` when `shouldPause()` turns true (after saving a
   * checkpoint), or throw (an AbortError from `signal` is fine): the run is then resumable.
   */
  run(context: JobContext): Promise<JobOutcome>;
}

/** What a job factory receives: the daemon's (or the CLI's) shared parts. */
export interface JobDependencies {
  /** The ledger on the selected engine (SQLite or PostgreSQL), through the store seam. */
  stores: LedgerStores;
  /** The monitor's samples (the quiet-hours relearn reads them). */
  monitor: MonitorStore;
  config: Config;
  clock: Clock;
  /** The data dir. */
  home: string;
}

export type JobFactory = (dependencies: JobDependencies) => JobDefinition;
