import type { Clock } from "../../src/clock.js";
import { ManualClock } from "../../src/clock.js";
import { type Config, parseConfig } from "../../src/config.js";
import type { Ledger } from "../../src/ledger/ledger.js";
import { SqliteActionLedger } from "../../src/ledger/sqlite/action-ledger.js";
import { SqliteSchedulerStore } from "../../src/ledger/sqlite/scheduler.js";
import { UserActivity } from "../../src/monitor/activity.js";
import type {
  IdleVerdict,
  LoadExclusion,
  QuietWindowVerdict,
} from "../../src/scheduler/conditions.js";
import type {
  JobContext,
  JobDefinition,
  JobDependencies,
  JobOutcome,
} from "../../src/scheduler/job.js";
import { ModelManager } from "../../src/scheduler/models.js";
import { Scheduler } from "../../src/scheduler/scheduler.js";
import { tempLedger } from "../support/temp-ledger.js";

/** Synthetic monitor data: the load the idle gate sees, per source, so exclusion is visible. */
export class SyntheticMonitor {
  cpuPct = 5;
  ramPct = 30;
  gpuUtil = new Map<number, number>();
  notEnoughData = false;
  quiet: QuietWindowVerdict = { inside: true, window: "Mon 01:00 – Mon 06:00" };

  constructor(private readonly config: Config) {}

  idleGate = (_now: number, exclude?: LoadExclusion): IdleVerdict => {
    if (this.notEnoughData)
      return { idle: false, notEnoughData: true, failed: [], detail: "2 of 15 samples" };
    const t = this.config.idle;
    const failed = [];
    const cpu = Math.max(0, this.cpuPct - (exclude?.cpuPct ?? 0));
    if (cpu >= t.cpu_pct)
      failed.push({
        metric: "cpu_pct",
        value: cpu,
        threshold: t.cpu_pct,
        message: `cpu_pct ${cpu} ≥ ${t.cpu_pct}`,
      });
    for (const [gpu, util] of this.gpuUtil) {
      if (exclude?.gpus.includes(gpu) || util < t.gpu_pct) continue;
      failed.push({
        metric: `gpu${gpu}_util_pct`,
        value: util,
        threshold: t.gpu_pct,
        message: `gpu${gpu}_util_pct ${util} ≥ ${t.gpu_pct}`,
      });
    }
    if (this.ramPct >= t.ram_pct)
      failed.push({
        metric: "ram_pct",
        value: this.ramPct,
        threshold: t.ram_pct,
        message: `ram_pct ${this.ramPct} ≥ ${t.ram_pct}`,
      });
    return { idle: failed.length === 0, failed };
  };

  quietWindow = (): QuietWindowVerdict => this.quiet;
}

export interface ItemJob {
  definition: JobDefinition;
  /** Items processed, in order, across every run and resume. */
  processed: number[];
  contexts: JobContext[];
  concurrent: { now: number; max: number };
  /** True while the job waits on the clock: the moment a test may advance it. */
  waiting: boolean;
}

/** A job of `items` items, one per `itemMs` of clock time, checkpointing after each. */
export function itemJob(
  clock: ManualClock,
  options: Partial<JobDefinition["defaults"]> & {
    name?: string;
    items?: number;
    itemMs?: number;
    backlog?: number;
    load?: (context: JobContext) => Promise<void>;
    shared?: ItemJob["concurrent"];
  } = {},
): ItemJob {
  const items = options.items ?? 10;
  const itemMs = options.itemMs ?? 1000;
  const state: ItemJob = {
    processed: [],
    contexts: [],
    waiting: false,
    concurrent: options.shared ?? { now: 0, max: 0 },
    definition: undefined as never,
  };
  state.definition = {
    name: options.name ?? "work",
    description: "processes numbered items",
    defaults: {
      requiresIdle: options.requiresIdle ?? true,
      quietWindowOnly: options.quietWindowOnly ?? false,
      minIntervalH: options.minIntervalH ?? 12,
      minBacklog: options.minBacklog ?? 0,
      ...(options.gpu === undefined ? {} : { gpu: options.gpu }),
      ...(options.models ? { models: options.models } : {}),
      ...(options.degradedModels ? { degradedModels: options.degradedModels } : {}),
      ...(options.degradedAfterH ? { degradedAfterH: options.degradedAfterH } : {}),
    },
    ...(options.backlog === undefined ? {} : { backlog: () => ({ count: options.backlog! }) }),
    run: async (context): Promise<JobOutcome> => {
      state.contexts.push(context);
      state.concurrent.now++;
      state.concurrent.max = Math.max(state.concurrent.max, state.concurrent.now);
      try {
        await options.load?.(context);
        const start = (context.checkpoint as { next: number } | null)?.next ?? 0;
        for (let i = start; i < items; i++) {
          if (context.shouldPause()) return { status: "paused" };
          state.waiting = true;
          await clock.sleep(itemMs, context.signal).finally(() => {
            state.waiting = false;
          });
          state.processed.push(i);
          await context.saveCheckpoint({ next: i + 1 });
        }
        return { status: "done", summary: { items } };
      } finally {
        state.concurrent.now--;
      }
    },
  };
  return state;
}

export function harness(rawConfig: Record<string, unknown> = {}) {
  const { ledger, cleanup } = tempLedger();
  const config = parseConfig(rawConfig);
  const clock = new ManualClock(Date.parse("2026-01-05T02:00:00Z"));
  const store = new SqliteSchedulerStore(ledger.db);
  const monitor = new SyntheticMonitor(config);
  const activity = new UserActivity(["auditor"]);
  const warnings: string[] = [];
  const make = (jobs: JobDefinition[], holder = "test-holder") =>
    new Scheduler({
      store,
      config,
      clock,
      jobs,
      idleGate: monitor.idleGate,
      quietWindow: monitor.quietWindow,
      activity,
      models: new ModelManager(config, 2000),
      holder,
      warn: (line) => warnings.push(line),
    });
  return { ledger, config, clock, store, monitor, activity, warnings, make, cleanup };
}

/** Waits (real time, briefly) for real I/O such as model unload requests to land. */
export async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** What a job factory receives, over one SQLite ledger (the stores, its monitor, the ledger). */
export function jobDependencies(parts: {
  ledger: Ledger;
  config: Config;
  clock: Clock;
  home: string;
}): JobDependencies {
  const stores = new SqliteActionLedger(parts.ledger, false);
  return { ...parts, stores, monitor: stores.monitor };
}
