import type { Config } from "../config.js";
import {
  HOUR_MS,
  type MonitorSample,
  type MonitorStore,
  type RollupRow,
} from "../ledger/monitor-store.js";

export type IdleConfig = Config["idle"];

/** The idle thresholds of an empty config, for callers that have no config at hand. */
export const DEFAULT_IDLE: IdleConfig = {
  lookback_min: 15,
  cpu_pct: 20,
  gpu_pct: 15,
  ram_pct: 60,
  user_idle_min: 30,
  min_coverage: 0.6,
};

const HOST_METRICS = [
  ["cpu_pct", (s: MonitorSample) => s.cpuPct],
  ["ram_pct", (s: MonitorSample) => s.ramPct],
  ["ram_used_mb", (s: MonitorSample) => s.ramUsedMb],
  ["disk_read_bps", (s: MonitorSample) => s.diskReadBps],
  ["disk_write_bps", (s: MonitorSample) => s.diskWriteBps],
  ["user_active", (s: MonitorSample) => (s.userActive === null ? null : s.userActive ? 1 : 0)],
] as const;

const GPU_METRICS = [
  ["gpu_util_pct", "utilPct"],
  ["gpu_mem_used_mb", "memUsedMb"],
  ["gpu_mem_total_mb", "memTotalMb"],
  ["gpu_power_w", "powerW"],
  ["gpu_temp_c", "tempC"],
] as const;

export function hourStart(ts: number): number {
  return Math.floor(ts / HOUR_MS) * HOUR_MS;
}

/**
 * Whether one sample, on its own, looks like an idle machine: every resource under its
 * threshold and no user activity within user_idle_min before it. `lastActiveAt` is the latest
 * activity known at the sample. A sample without a CPU or RAM reading is not idle: no guessing.
 */
export function isSampleIdle(
  sample: MonitorSample,
  lastActiveAt: number | null,
  idle: IdleConfig,
): boolean {
  if (sample.cpuPct === null || sample.cpuPct >= idle.cpu_pct) return false;
  if (sample.ramPct === null || sample.ramPct >= idle.ram_pct) return false;
  for (const gpu of sample.gpus) {
    if (gpu.utilPct !== null && gpu.utilPct >= idle.gpu_pct) return false;
  }
  if (sample.userActive) return false;
  return lastActiveAt === null || sample.ts - lastActiveAt >= idle.user_idle_min * 60_000;
}

/**
 * Walks samples oldest first and answers, for each, whether it was idle; `priorActivity` is the
 * latest activity before the first sample.
 */
export function idleFlags(
  samples: readonly MonitorSample[],
  priorActivity: number | null,
  idle: IdleConfig,
): boolean[] {
  let last = priorActivity;
  return samples.map((sample) => {
    if (sample.lastActiveAt !== null) last = Math.max(last ?? 0, sample.lastActiveAt);
    if (sample.userActive) last = Math.max(last ?? 0, sample.ts);
    return isSampleIdle(sample, last, idle);
  });
}

/** avg, max and p95 (nearest rank) of the non-null values; null when there are none. */
export function summarize(values: readonly (number | null)[]): {
  samples: number;
  avg: number | null;
  max: number | null;
  p95: number | null;
} {
  const present = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  if (present.length === 0) return { samples: 0, avg: null, max: null, p95: null };
  const sum = present.reduce((a, b) => a + b, 0);
  const rank = Math.max(0, Math.ceil(0.95 * present.length) - 1);
  return {
    samples: present.length,
    avg: sum / present.length,
    max: present[present.length - 1]!,
    p95: present[rank]!,
  };
}

/**
 * The rollup rows of one hour from its raw samples (and the idle flag of each, computed with
 * the lookback before the hour). The 'idle' metric's avg is the fraction of idle samples.
 */
export function computeHourRollups(
  hour: number,
  samples: readonly MonitorSample[],
  idleOf: readonly boolean[],
): RollupRow[] {
  const rows: RollupRow[] = [];
  for (const [metric, pick] of HOST_METRICS) {
    rows.push({ hour, metric, gpu: -1, ...summarize(samples.map(pick)) });
  }
  rows.push({ hour, metric: "idle", gpu: -1, ...summarize(idleOf.map((v) => (v ? 1 : 0))) });
  const indexes = new Set(samples.flatMap((s) => s.gpus.map((g) => g.index)));
  for (const index of [...indexes].sort((a, b) => a - b)) {
    for (const [metric, field] of GPU_METRICS) {
      const values = samples.map((s) => s.gpus.find((g) => g.index === index)?.[field] ?? null);
      rows.push({ hour, metric, gpu: index, ...summarize(values) });
    }
  }
  return rows;
}

/** Reads one hour's raw samples (plus the lookback before it) and computes its rollups. */
export function rollupHourFromRaw(
  store: MonitorStore,
  hour: number,
  idle: IdleConfig,
): RollupRow[] {
  const lookback = idle.user_idle_min * 60_000;
  const before = store.between(hour - lookback, hour);
  const samples = store.between(hour, hour + HOUR_MS);
  const prior = store.lastActivityBefore(hour - lookback);
  const flags = idleFlags([...before, ...samples], prior, idle).slice(before.length);
  return computeHourRollups(hour, samples, flags);
}

/**
 * Writes the rollups of every complete hour (ending at or before `now`) that holds raw samples
 * and has no rollup yet; `from` limits the search to samples since then. The sampling loop
 * calls it as hours complete.
 */
export function rollUpCompletedHours(
  store: MonitorStore,
  now: number,
  idle: IdleConfig = DEFAULT_IDLE,
  from = 0,
): number {
  const hours = store.hoursWithoutRollup("idle", hourStart(now), from);
  // A day of hours per transaction: a backlog (a year after an upgrade) commits 365 times, not
  // 8760, and no single transaction holds the writer for long.
  for (let i = 0; i < hours.length; i += 24) {
    store.transaction(() => {
      for (const hour of hours.slice(i, i + 24)) {
        store.upsertRollups(rollupHourFromRaw(store, hour, idle));
      }
    });
  }
  return hours.length;
}

/** Recomputes the rollups of the given hours from raw samples (after an import adds to them). */
export function refreshRollups(
  store: MonitorStore,
  hours: readonly number[],
  now: number,
  idle: IdleConfig = DEFAULT_IDLE,
  onProgress?: (done: number, total: number) => void,
): void {
  const current = hourStart(now);
  hours.forEach((hour, i) => {
    if (hour < current) store.upsertRollups(rollupHourFromRaw(store, hour, idle));
    if (onProgress && ((i + 1) % 500 === 0 || i + 1 === hours.length)) {
      onProgress(i + 1, hours.length);
    }
  });
}

export interface PruneResult {
  hoursRolledUp: number;
  samplesDeleted: number;
}

/**
 * Retention: every complete hour older than `olderThan` that still holds raw samples ends up as
 * rollups only. Hours without rollups get them first, while the raw samples before them (the
 * user-activity lookback) still exist; then each hour's raw rows are deleted in its own small
 * transaction, so the gateway's writes are never blocked for long. Running it again does
 * nothing: an hour without raw rows is skipped and its rollups stay as they were.
 */
export function rollUpAndPruneSamples(
  store: MonitorStore,
  olderThan: number,
  idle: IdleConfig = DEFAULT_IDLE,
): PruneResult {
  const cutoff = hourStart(olderThan);
  const result: PruneResult = { hoursRolledUp: 0, samplesDeleted: 0 };
  for (const hour of store.hoursWithoutRollup("idle", cutoff)) {
    store.upsertRollups(rollupHourFromRaw(store, hour, idle));
  }
  for (const hour of store.rawHours(cutoff)) {
    result.samplesDeleted += store.deleteRawHour(hour);
    result.hoursRolledUp++;
  }
  return result;
}
