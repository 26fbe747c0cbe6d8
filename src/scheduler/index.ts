/**
 * The scheduler: background jobs that run only when the machine is quiet, on leased GPUs, and get
 * out of the way the moment the user is back. See README "Scheduler and service".
 *
 * - `Scheduler` (scheduler.ts): `evaluate()` one pass, `start()`/`stop()` the loop, `status()` for
 *   `nightshift jobs`, `runNow(name, {force})` for `nightshift jobs run`.
 * - Jobs: the contract in job.ts (`JobFactory` → `JobDefinition`, `JobContext` with checkpoints);
 *   the registry in jobs/index.ts (`builtInJobs`, `createJobs`).
 * - Conditions (conditions.ts): the providers the monitor answers (`IdleGate`, `QuietWindow`).
 */
export type {
  Assessment,
  Blocker,
  IdleGate,
  IdleVerdict,
  LoadExclusion,
  QuietWindow,
  QuietWindowVerdict,
  ThresholdFailure,
} from "./conditions.js";
export { type CreateSchedulerDeps, createScheduler } from "./create-scheduler.js";
export type {
  BacklogInfo,
  JobContext,
  JobDefinition,
  JobDependencies,
  JobFactory,
  JobMode,
  JobOutcome,
} from "./job.js";
export { builtInJobs, createJobs } from "./jobs/index.js";
export { ModelManager } from "./models.js";
export type { RunResult } from "./run-job.js";
export { type JobStatus, Scheduler, type SchedulerOptions } from "./scheduler.js";
