import type { Config } from "../config.js";
import {
  HOUR_MS,
  type MonitorSample,
  type MonitorStore,
  type RollupRow,
} from "../ledger/stores/monitor.js";

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
export async function rollupHourFromRaw(
  store: MonitorStore,
  hour: number,
  idle: IdleConfig,
): Promise<RollupRow[]> {
  const lookback = idle.user_idle_min * 60_000;
  const [window, prior] = await Promise.all([
    store.between(hour - lookback, hour + HOUR_MS),
    store.lastActivityBefore(hour - lookback),
  ]);
  const first = window.findIndex((s) => s.ts >= hour);
  const inHour = first === -1 ? window.length : first;
  const flags = idleFlags(window, prior, idle).slice(inHour);
  return computeHourRollups(hour, window.slice(inHour), flags);
}

/**
 * The rollups of several hours (ascending), reading each run of consecutive hours with one
 * window query and one activity query instead of two queries per hour. The idle flags walk the
 * whole run, so each sample's "latest activity" is the same one rollupHourFromRaw finds (the
 * sampler's last_active_at only ever grows) without asking the store again for every hour.
 */
async function rollupHours(
  store: MonitorStore,
  hours: readonly number[],
  idle: IdleConfig,
): Promise<RollupRow[]> {
  const rows: RollupRow[] = [];
  for (let start = 0; start < hours.length; ) {
    let end = start + 1;
    while (end < hours.length && hours[end] === hours[end - 1]! + HOUR_MS) end++;
    rows.push(...(await rollupRun(store, hours.slice(start, end), idle)));
    start = end;
  }
  return rows;
}

/** Rollups of consecutive hours from one read of their samples (plus the lookback before). */
async function rollupRun(
  store: MonitorStore,
  hours: readonly number[],
  idle: IdleConfig,
): Promise<RollupRow[]> {
  const from = hours[0]! - idle.user_idle_min * 60_000;
  const [window, prior] = await Promise.all([
    store.between(from, hours[hours.length - 1]! + HOUR_MS),
    store.lastActivityBefore(from),
  ]);
  const flags = idleFlags(window, prior, idle);
  const rows: RollupRow[] = [];
  let i = window.findIndex((s) => s.ts >= hours[0]!);
  if (i === -1) i = window.length;
  for (const hour of hours) {
    let j = i;
    while (j < window.length && window[j]!.ts < hour + HOUR_MS) j++;
    rows.push(...computeHourRollups(hour, window.slice(i, j), flags.slice(i, j)));
    i = j;
  }
  return rows;
}

/**
 * Writes the rollups of every complete hour (ending at or before `now`) that holds raw samples
 * and has no rollup yet; `from` limits the search to samples since then. The sampling loop
 * calls it as hours complete, after the sample that completed the hour is stored, so an hour's
 * rollup is computed from all of its samples. Rewriting a rollup is harmless (an upsert of the
 * same figures), so two processes rolling up the same hour agree.
 */
export async function rollUpCompletedHours(
  store: MonitorStore,
  now: number,
  idle: IdleConfig = DEFAULT_IDLE,
  from = 0,
): Promise<number> {
  const hours = await store.hoursWithoutRollup("idle", hourStart(now), from);
  // A day of hours per write: a backlog (a year after an upgrade) commits 365 times, not 8760,
  // and no single transaction holds the writer for long. The reads come first, outside it.
  for (let i = 0; i < hours.length; i += 24) {
    await store.upsertRollups(await rollupHours(store, hours.slice(i, i + 24), idle));
  }
  return hours.length;
}

/** Recomputes the rollups of the given hours from raw samples (after an import adds to them). */
export async function refreshRollups(
  store: MonitorStore,
  hours: readonly number[],
  now: number,
  idle: IdleConfig = DEFAULT_IDLE,
  onProgress?: (done: number, total: number) => void,
): Promise<void> {
  const complete = hours.filter((hour) => hour < hourStart(now));
  for (let i = 0; i < complete.length; i += 24) {
    const day = complete.slice(i, i + 24);
    await store.upsertRollups(await rollupHours(store, day, idle));
    const done = i + day.length;
    if (onProgress && (Math.floor(done / 500) > Math.floor(i / 500) || done === complete.length)) {
      onProgress(done, complete.length);
    }
  }
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
export async function rollUpAndPruneSamples(
  store: MonitorStore,
  olderThan: number,
  idle: IdleConfig = DEFAULT_IDLE,
): Promise<PruneResult> {
  const cutoff = hourStart(olderThan);
  const result: PruneResult = { hoursRolledUp: 0, samplesDeleted: 0 };
  await rollUpCompletedHours(store, cutoff, idle);
  for (const hour of await store.rawHours(cutoff)) {
    result.samplesDeleted += await store.deleteRawHour(hour);
    result.hoursRolledUp++;
  }
  return result;
}
