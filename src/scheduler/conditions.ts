import type { Config, JobConfig } from "../config.js";
import type { JobDefinition, JobMode } from "./job.js";

/** One idle-gate threshold that failed, with the value that failed it. */
export interface ThresholdFailure {
  /** e.g. "cpu_pct", "gpu0_util_pct", "ram_pct", "user_idle_min". */
  metric: string;
  value: number;
  threshold: number;
  /** How the comparison reads for a person, e.g. "CPU 35.2 % ≥ 20 %". */
  message: string;
}

/** The monitor's answer to "is the machine idle now?" (see src/monitor). */
export interface IdleVerdict {
  idle: boolean;
  /** Too few samples in the lookback window to decide: never a guess, always "not idle". */
  notEnoughData?: boolean;
  failed: ThresholdFailure[];
  /** Why, when not enough data (e.g. "3 of 15 samples"). */
  detail?: string;
}

/**
 * Load the running job causes itself, so it never counts against the job while it is watched:
 * utilization of the GPUs it leased and its own share of the machine's CPU.
 */
export interface LoadExclusion {
  gpus: number[];
  cpuPct: number;
}

/** Async where the monitor's samples are read over the network (the PostgreSQL ledger). */
export type IdleGate = (now: number, exclude?: LoadExclusion) => IdleVerdict | Promise<IdleVerdict>;

export interface QuietWindowVerdict {
  inside: boolean;
  /** The learned window now or next, for messages ("quiet 01:00–06:00"). */
  window?: string;
  /** Why no answer: no profile learned yet, too little history. */
  detail?: string;
}

export type QuietWindow = (now: number) => QuietWindowVerdict | Promise<QuietWindowVerdict>;

/** A job's conditions after nightshift.yaml overrides its defaults. */
export interface JobSettings {
  name: string;
  enabled: boolean;
  requiresIdle: boolean;
  quietWindowOnly: boolean;
  minIntervalH: number;
  minBacklog: number;
  gpu: number | null;
  vramMb: number | null;
  models: string[];
  degradedAfterH: number;
  degradedModels: string[];
  degradedUsesGpu: boolean;
}

export function resolveSettings(definition: JobDefinition, config: Config): JobSettings {
  const d = definition.defaults;
  const o: Partial<JobConfig> = config.scheduler.jobs[definition.name] ?? {};
  const models = o.models ?? d.models ?? [];
  return {
    name: definition.name,
    enabled: o.enabled ?? true,
    requiresIdle: o.requires_idle ?? d.requiresIdle,
    quietWindowOnly: o.quiet_window_only ?? d.quietWindowOnly,
    minIntervalH: o.min_interval_h ?? d.minIntervalH,
    minBacklog: o.min_backlog ?? d.minBacklog,
    gpu: o.gpu ?? d.gpu ?? null,
    vramMb: o.vram_mb ?? d.vramMb ?? null,
    models,
    degradedAfterH: o.degraded_after_h ?? d.degradedAfterH ?? config.scheduler.degraded_after_h,
    degradedModels: o.models ?? d.degradedModels ?? models,
    degradedUsesGpu: d.degradedUsesGpu ?? false,
  };
}

export type Condition =
  | "enabled"
  | "running"
  | "min_interval"
  | "backlog"
  | "idle"
  | "quiet_window"
  | "gpu_lease";

/** A condition that keeps a job from running now, with the value that failed it. */
export interface Blocker {
  condition: Condition;
  message: string;
  /** For idle: which threshold (cpu_pct, gpu0_util_pct, ...). */
  metric?: string;
  value?: number | string | null;
  threshold?: number | string;
}

export interface AssessmentInput {
  settings: JobSettings;
  now: number;
  running: boolean;
  /** Where it runs, when that is another daemon sharing the ledger (its holder). */
  runningOn?: string | null;
  /** When the last successful run finished, or null. */
  lastSuccessAt: number | null;
  /** A paused or interrupted run exists: interval and backlog were met when it started. */
  resumable: boolean;
  backlog: number | null;
  idle: IdleVerdict | null;
  quiet: QuietWindowVerdict | null;
  /** Another holder's unexpired lease on the job's GPU. */
  leaseHeldBy: { holder: string; job: string; expiresAt: number } | null;
  dueSince: number | null;
}

export interface Assessment {
  job: string;
  runnable: boolean;
  /** Interval and backlog met (or a run to resume): the work is waiting. */
  due: boolean;
  mode: JobMode;
  blockers: Blocker[];
  dueSince: number | null;
  backlog: number | null;
}

const H = 3_600_000;

/** Every blocking condition of a job at `now`, and whether (and how) it may start. */
export function assessJob(input: AssessmentInput): Assessment {
  const { settings: s, now } = input;
  const waiting = workBlockers(input);
  const due = waiting.length === 0 && s.enabled;
  const machine = machineBlockers(input);
  const lease = input.leaseHeldBy ? [leaseBlocker(s, input.leaseHeldBy, now)] : [];
  const blockers: Blocker[] = [];
  if (!s.enabled)
    blockers.push({
      condition: "enabled",
      message: "disabled in nightshift.yaml",
      value: "disabled",
    });
  if (input.running) {
    const where = input.runningOn ? ` on ${input.runningOn}` : "";
    blockers.push({ condition: "running", message: `already running${where}`, value: "running" });
  }
  blockers.push(...waiting, ...machine, ...lease);
  const base = { job: s.name, due, dueSince: input.dueSince, backlog: input.backlog };
  if (blockers.length === 0) return { ...base, runnable: true, mode: "normal", blockers };

  // Degraded mode: the work is due, only the machine's business keeps it back, and that has
  // lasted longer than the limit. A CPU-only degraded run does not need the GPU lease either.
  const overdue = due && input.dueSince !== null && now - input.dueSince >= s.degradedAfterH * H;
  const onlyMachine =
    !input.running &&
    machine.length > 0 &&
    (lease.length === 0 || !s.degradedUsesGpu) &&
    blockers.every((b) => b.condition !== "enabled");
  const onlyBusy = onlyMachine && blockers.length === machine.length + lease.length;
  if (overdue && onlyBusy) return { ...base, runnable: true, mode: "degraded", blockers };
  return { ...base, runnable: false, mode: "normal", blockers };
}

function workBlockers(input: AssessmentInput): Blocker[] {
  const { settings: s, now } = input;
  if (input.resumable) return [];
  const blockers: Blocker[] = [];
  if (input.lastSuccessAt !== null && now - input.lastSuccessAt < s.minIntervalH * H) {
    const since = (now - input.lastSuccessAt) / H;
    blockers.push({
      condition: "min_interval",
      message: `last success ${since.toFixed(1)} h ago, needs ${s.minIntervalH} h`,
      value: round(since),
      threshold: s.minIntervalH,
    });
  }
  if (s.minBacklog > 0 && (input.backlog ?? 0) < s.minBacklog) {
    blockers.push({
      condition: "backlog",
      message: `backlog ${input.backlog ?? 0} < ${s.minBacklog}`,
      value: input.backlog ?? 0,
      threshold: s.minBacklog,
    });
  }
  return blockers;
}

function machineBlockers(input: AssessmentInput): Blocker[] {
  const blockers: Blocker[] = [];
  if (input.settings.requiresIdle && input.idle && !input.idle.idle) {
    if (input.idle.notEnoughData || input.idle.failed.length === 0) {
      const detail = input.idle.detail ? `: ${input.idle.detail}` : "";
      blockers.push({ condition: "idle", message: `not idle: not enough data${detail}` });
    }
    for (const failure of input.idle.failed) {
      blockers.push({
        condition: "idle",
        message: `not idle: ${failure.message}`,
        metric: failure.metric,
        value: round(failure.value),
        threshold: failure.threshold,
      });
    }
  }
  if (input.settings.quietWindowOnly && input.quiet && !input.quiet.inside) {
    const where = input.quiet.window ? ` (quiet window ${input.quiet.window})` : "";
    const detail = input.quiet.detail ? `: ${input.quiet.detail}` : "";
    blockers.push({
      condition: "quiet_window",
      message: `outside the learned quiet window${where}${detail}`,
      value: input.quiet.window ?? null,
    });
  }
  return blockers;
}

function leaseBlocker(
  s: JobSettings,
  lease: NonNullable<AssessmentInput["leaseHeldBy"]>,
  now: number,
): Blocker {
  const left = Math.max(0, Math.round((lease.expiresAt - now) / 1000));
  return {
    condition: "gpu_lease",
    message: `GPU ${s.gpu} leased by ${lease.job} (${lease.holder}), expires in ${left} s`,
    value: lease.holder,
  };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
