import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import type { Ledger } from "../ledger/ledger.js";
import { MonitorStore } from "../ledger/monitor-store.js";
import { type DecisionRecord, SchedulerStore } from "../ledger/scheduler-store.js";
import type { UserActivity } from "../monitor/activity.js";
import type { JobFactory } from "./job.js";
import { builtInJobs, createJobs } from "./jobs/index.js";
import { ModelManager } from "./models.js";
import { monitorIdleGate, storedQuietWindow } from "./monitor-providers.js";
import { Scheduler } from "./scheduler.js";

export interface CreateSchedulerDeps {
  ledger: Ledger;
  config: Config;
  home: string;
  clock: Clock;
  /** The gateway's activity in the daemon; absent in a CLI process. */
  activity?: UserActivity;
  warn?: (line: string) => void;
  /** Each decision as it is recorded (the daemon logs them: run, skip and why, degraded, ...). */
  onDecision?: (decision: Omit<DecisionRecord, "id">) => void;
  factories?: readonly JobFactory[];
}

/**
 * The scheduler as the daemon and the CLI use it: the registered jobs and the user's command
 * jobs, the monitor's idle gate and the stored quiet-hours profile, and the model servers of
 * config.upstreams. Both processes share the ledger, so leases and runs coordinate across them.
 */
export function createScheduler(deps: CreateSchedulerDeps): Scheduler {
  const { ledger, config, clock } = deps;
  const store = new SchedulerStore(ledger.db);
  const { onDecision } = deps;
  if (onDecision) {
    // Every decision passes through the store, wherever in the scheduler it is taken.
    const record = store.recordDecision.bind(store);
    store.recordDecision = (decision) => {
      record(decision);
      onDecision(decision);
    };
  }
  const monitor = new MonitorStore(ledger.db);
  const jobs = createJobs(
    { ledger, config, clock, home: deps.home },
    deps.factories ?? builtInJobs,
  );
  return new Scheduler({
    store,
    config,
    clock,
    jobs,
    idleGate: monitorIdleGate(monitor, config, deps.activity),
    quietWindow: storedQuietWindow(store, monitor, config),
    ...(deps.activity ? { activity: deps.activity } : {}),
    models: new ModelManager(config),
    gpuFreeMb: (gpu) => latestFreeVram(monitor, clock.now(), gpu),
    ...(deps.warn ? { warn: deps.warn } : {}),
  });
}

/** Free VRAM from the newest sample of the last 5 minutes; null when unknown. */
function latestFreeVram(monitor: MonitorStore, now: number, gpu: number): number | null {
  const reading = monitor
    .between(now - 300_000, now + 1)
    .at(-1)
    ?.gpus.find((g) => g.index === gpu);
  if (!reading || reading.memTotalMb === null || reading.memUsedMb === null) return null;
  return reading.memTotalMb - reading.memUsedMb;
}
