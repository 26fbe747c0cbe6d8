/**
 * The contract between the scheduler and a job. A job does its work in items and checkpoints
 * after each; the scheduler persists checkpoints, so a paused, crashed or killed job resumes from
 * the last one and nothing is done twice.
 */
export type JobMode = "normal" | "degraded";

export interface JobContext {
  /** This run's id (stable across pause/resume of the same run). */
  runId: string;
  mode: JobMode;
  /** The checkpoint the previous attempt of this run left, or null on a fresh start. */
  checkpoint: unknown;
  /** Persists progress; call after each item (or batch). Throws if the run lost its lease. */
  saveCheckpoint(state: unknown): void;
  /** True once the scheduler wants the job to stop at its next checkpoint. */
  shouldPause(): boolean;
  /** Aborted when the job must stop (pause or shutdown); pass it to long awaits. */
  signal: AbortSignal;
  /** The GPU leased for the run, if the job asked for one. */
  gpu: number | null;
  log(message: string): void;
}

export type JobOutcome =
  | { status: "done"; summary?: Record<string, unknown> }
  | { status: "paused" };

export interface BacklogInfo {
  /** Items waiting (e.g. actions to review); compared against the job's min_backlog. */
  count: number;
}

export interface JobDefinition {
  name: string;
  description: string;
  /** Defaults for the job's conditions; nightshift.yaml `scheduler.jobs.NAME` overrides them. */
  defaults: {
    requiresIdle: boolean;
    quietWindowOnly: boolean;
    minIntervalH: number;
    minBacklog: number;
    gpu?: number;
    /** Model names this job loads, so the day models can be unloaded first. */
    models?: string[];
  };
  /** How much work is waiting; omitted for jobs without a backlog condition. */
  backlog?(now: number): BacklogInfo;
  run(context: JobContext): Promise<JobOutcome>;
}
