import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import { HOUR_MS, type MonitorSample, type MonitorStore } from "../ledger/stores/monitor.js";
import type { UserActivity } from "./activity.js";
import {
  hourStart,
  type IdleConfig,
  rollUpAndPruneSamples,
  rollUpCompletedHours,
} from "./rollup.js";
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
  /** The number of samples stored since start (each counted once its hour's rollups are done). */
  samplesTaken(): number;
}

/** Samples kept in memory while the ledger cannot take them (a PostgreSQL server restarting). */
const MAX_PENDING = 1440;

/**
 * The daemon's sampling loop: a sample every monitor.interval_s, stored at once; when an hour
 * completes its rollups are written, and raw samples past monitor.raw_retention_days become
 * rollups only. A failed sample is reported and the loop goes on: one bad read must not end
 * the history. Samples the ledger refuses (a server away) are kept and written with the next
 * one, and an hour is rolled up only once every sample of it is stored, so its rollup is whole.
 */
export function startMonitor(deps: MonitorDeps): RunningMonitor {
  const log = deps.log ?? ((m: string) => process.stderr.write(`nightshift monitor: ${m}\n`));
  const sampler = new Sampler({
    config: deps.config,
    activity: deps.activity,
    log,
    clock: deps.clock,
    ...(deps.procRoot ? { procRoot: deps.procRoot } : {}),
    ...(deps.sysRoot ? { sysRoot: deps.sysRoot } : {}),
    ...(deps.env ? { env: deps.env } : {}),
  });
  const abort = new AbortController();
  const history = new History(deps.store, deps.config, log);
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  const loop = async () => {
    const intervalMs = deps.config.monitor.interval_s * 1000;
    history.start(deps.clock.now());
    await sampler.prime(deps.clock.now());
    while (!abort.signal.aborted) {
      try {
        const sleeping = deps.clock.sleep(intervalMs, abort.signal);
        markReady();
        await sleeping;
      } catch {
        break; // aborted by stop()
      }
      const now = deps.clock.now();
      try {
        await history.add(await sampler.sample(now), now);
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
    samplesTaken: () => history.stored,
  };
}

/** What the loop writes: the samples (with those still pending), then the hours they complete. */
class History {
  stored = 0;
  private pending: MonitorSample[] = [];
  /** Every complete hour before this one has its rollups. */
  private rolledBefore = 0;
  /** Where the search for hours without rollups starts (0 at first: hours missed while down). */
  private searchFrom = 0;

  constructor(
    private readonly store: MonitorStore,
    private readonly config: Pick<Config, "monitor"> & { idle: IdleConfig },
    private readonly log: (message: string) => void,
  ) {}

  start(now: number): void {
    this.rolledBefore = hourStart(now);
  }

  async add(sample: MonitorSample, now: number): Promise<void> {
    this.pending.push(sample);
    try {
      await this.store.insertMany(this.pending);
    } catch (error) {
      const dropped = Math.max(0, this.pending.length - MAX_PENDING);
      this.pending.splice(0, dropped);
      this.log(
        `storing ${this.pending.length} sample(s) failed, kept to retry with the next one${dropped > 0 ? ` (${dropped} oldest dropped)` : ""}: ${(error as Error).message}`,
      );
      return;
    }
    const written = this.pending.length;
    this.pending = [];
    if (hourStart(now) > this.rolledBefore) await this.rollUp(now);
    // Counted once the step is over (rollups included): a caller that sees the count knows the
    // loop is waiting for its next sample.
    this.stored += written;
  }

  /** Not marked done when it fails, so the next sample tries again. */
  private async rollUp(now: number): Promise<void> {
    const { monitor, idle } = this.config;
    try {
      await rollUpCompletedHours(this.store, now, idle, this.searchFrom);
      this.rolledBefore = hourStart(now);
      this.searchFrom = this.rolledBefore - HOUR_MS;
      await rollUpAndPruneSamples(this.store, now - monitor.raw_retention_days * 86_400_000, idle);
    } catch (error) {
      this.log(
        `rolling up the last hour failed, tried again with the next sample: ${(error as Error).message}`,
      );
    }
  }
}
