import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import { HOUR_MS, type MonitorStore } from "../ledger/monitor-store.js";
import type { UserActivity } from "./activity.js";
import { hourStart, rollUpAndPruneSamples, rollUpCompletedHours } from "./rollup.js";
import { Sampler } from "./sampler.js";

export interface MonitorDeps {
  store: MonitorStore;
  config: Pick<Config, "monitor" | "idle">;
  clock: Clock;
  /** The gateway's interactive activity; omit where there is no gateway. */
  activity?: UserActivity | undefined;
  procRoot?: string;
  sysRoot?: string;
  env?: NodeJS.ProcessEnv;
  log?: (message: string) => void;
}

export interface RunningMonitor {
  /** Resolves once the baseline reading is taken and the first interval is being waited out. */
  ready: Promise<void>;
  /** Stops sampling; resolves once a sample in progress is stored. */
  stop(): Promise<void>;
  /** The number of samples stored since start. */
  samplesTaken(): number;
}

/**
 * The daemon's sampling loop: a sample every monitor.interval_s, stored at once; when an hour
 * completes its rollups are written, and raw samples past monitor.raw_retention_days become
 * rollups only. A failed sample is reported and the loop goes on: one bad read must not end
 * the history.
 */
export function startMonitor(deps: MonitorDeps): RunningMonitor {
  const log = deps.log ?? ((m: string) => process.stderr.write(`nightshift monitor: ${m}\n`));
  const sampler = new Sampler({
    config: deps.config,
    activity: deps.activity,
    log,
    ...(deps.procRoot ? { procRoot: deps.procRoot } : {}),
    ...(deps.sysRoot ? { sysRoot: deps.sysRoot } : {}),
    ...(deps.env ? { env: deps.env } : {}),
  });
  const abort = new AbortController();
  let taken = 0;
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  const loop = async () => {
    const { monitor, idle } = deps.config;
    const intervalMs = monitor.interval_s * 1000;
    let lastHour = hourStart(deps.clock.now());
    let rolledUpTo = 0;
    await sampler.prime(deps.clock.now());
    while (!abort.signal.aborted) {
      try {
        const sleeping = deps.clock.sleep(intervalMs, abort.signal);
        markReady();
        await sleeping;
      } catch {
        break; // aborted by stop()
      }
      try {
        const now = deps.clock.now();
        deps.store.insert(await sampler.sample(now));
        taken++;
        if (hourStart(now) !== lastHour) {
          lastHour = hourStart(now);
          // The first pass after start covers hours completed while the daemon was down.
          rollUpCompletedHours(deps.store, now, idle, rolledUpTo);
          rolledUpTo = lastHour - HOUR_MS;
          rollUpAndPruneSamples(deps.store, now - monitor.raw_retention_days * 86_400_000, idle);
        }
      } catch (error) {
        log(`sample failed: ${(error as Error).message}`);
      }
    }
  };
  const running = loop().catch((error: unknown) => {
    log(`stopped: ${(error as Error).message}`);
  });
  void running.then(markReady);
  return {
    ready,
    async stop() {
      abort.abort();
      await running;
    },
    samplesTaken: () => taken,
  };
}
