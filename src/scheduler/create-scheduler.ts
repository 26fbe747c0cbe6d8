import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import type { DecisionRecord, LedgerStores, SchedulerStore } from "../ledger/stores/index.js";
import type { UserActivity } from "../monitor/activity.js";
import type { MonitorStore } from "../monitor/index.js";
import type { JobFactory } from "./job.js";
import { builtInJobs, createJobs } from "./jobs/index.js";
import { ModelManager } from "./models.js";
import { monitorIdleGate, storedQuietWindow } from "./monitor-providers.js";
import { Scheduler } from "./scheduler.js";

export interface CreateSchedulerDeps {
  /** The ledger on the selected engine: runs, decisions, leases and job state live there. */
  stores: LedgerStores;
  /** The monitor's samples: the idle gate, the quiet-hours profile, free VRAM. */
  monitor: MonitorStore;
  config: Config;
  home: string;
  clock: Clock;
  /** The gateway's activity in the daemon; absent in a CLI process. */
  activity?: UserActivity;
  warn?: (line: string) => void;
  /** Each decision as it is recorded (the daemon logs them: run, skip and why, degraded, ...). */
  onDecision?: (decision: Omit<DecisionRecord, "id">) => void;
  factories?: readonly JobFactory[];
  /** This scheduler's name in leases and runs (tests); host:pid:random by default. */
  holder?: string;
}

/**
 * The scheduler as the daemon and the CLI use it: the registered jobs and the user's command
 * jobs, the monitor's idle gate and the stored quiet-hours profile, and the model servers of
 * config.upstreams. Every daemon and CLI sharing the ledger coordinates leases and runs there.
 */
export function createScheduler(deps: CreateSchedulerDeps): Scheduler {
  const { stores, monitor, config, clock, home } = deps;
  const store = deps.onDecision ? observed(stores.scheduler, deps.onDecision) : stores.scheduler;
  const jobs = createJobs({ stores, monitor, config, clock, home }, deps.factories ?? builtInJobs);
  return new Scheduler({
    store,
    config,
    clock,
    jobs,
    idleGate: monitorIdleGate(monitor, config, deps.activity),
    quietWindow: storedQuietWindow(monitor, config),
    ...(deps.activity ? { activity: deps.activity } : {}),
    models: new ModelManager(config),
    gpuFreeMb: (gpu) => latestFreeVram(monitor, clock.now(), gpu),
    ...(deps.warn ? { warn: deps.warn } : {}),
    ...(deps.holder ? { holder: deps.holder } : {}),
  });
}

/** The store, telling `onDecision` of every decision recorded through it, starts included. */
function observed(
  store: SchedulerStore,
  onDecision: (decision: Omit<DecisionRecord, "id">) => void,
): SchedulerStore {
  const view = Object.create(store) as SchedulerStore;
  view.recordDecision = async (decision) => {
    await store.recordDecision(decision);
    onDecision(decision);
  };
  view.startRun = async (request) => {
    const result = await store.startRun(request);
    if (result.started) {
      onDecision({
        at: request.now,
        job: request.job,
        runId: result.run.id,
        decision: result.resumed ? "resume" : "start",
        reason: request.reason,
        details: null,
      });
    }
    return result;
  };
  return view;
}

/** Free VRAM from the newest sample of the last 5 minutes; null when unknown. */
async function latestFreeVram(
  monitor: MonitorStore,
  now: number,
  gpu: number,
): Promise<number | null> {
  const samples = await monitor.between(now - 300_000, now + 1);
  const reading = samples.at(-1)?.gpus.find((g) => g.index === gpu);
  if (!reading || reading.memTotalMb === null || reading.memUsedMb === null) return null;
  return reading.memTotalMb - reading.memUsedMb;
}
