import { hostname } from "node:os";
import { NightshiftError } from "../../errors.js";

/**
 * The monitor's history of one machine: raw samples (CPU, RAM, disk, GPUs, user activity), the
 * hourly rollups kept after the raw rows are pruned, and the learned quiet-hours profile.
 *
 * Every daemon samples its own machine. On PostgreSQL several machines share one ledger, so each
 * row carries its host and a store reads and writes one host's rows (`host`, by default this
 * machine's name or monitor.host); `forHost` opens another machine's history. SQLite holds one
 * machine's history, as it always has.
 */
export const HOUR_MS = 3_600_000;

export type GpuVendor = "nvidia" | "amd";
export type SampleSource = "sampler" | "import";

/** One GPU's reading in a sample; null where the tool reported nothing ("[N/A]"). */
export interface GpuReading {
  index: number;
  vendor: GpuVendor | null;
  utilPct: number | null;
  memUsedMb: number | null;
  memTotalMb: number | null;
  powerW: number | null;
  tempC: number | null;
}

/** One sample of the host. camelCase here; snake_case columns in monitor_samples. */
export interface MonitorSample {
  ts: number;
  cpuPct: number | null;
  ramPct: number | null;
  ramUsedMb: number | null;
  diskReadBps: number | null;
  diskWriteBps: number | null;
  /** A person was at work during the interval ending at ts; null when no signal was on. */
  userActive: boolean | null;
  /** The latest user activity known at ts, if any. */
  lastActiveAt: number | null;
  gpus: GpuReading[];
  source: SampleSource;
}

export interface RollupRow {
  /** Start of the hour, ms since the epoch (UTC hour boundary). */
  hour: number;
  metric: string;
  /** -1 for host metrics. */
  gpu: number;
  samples: number;
  avg: number | null;
  max: number | null;
  p95: number | null;
}

export interface MonitorStore {
  /** The machine whose history this store reads and writes. */
  readonly host: string;
  /** Another machine's history in the same ledger (PostgreSQL; SQLite holds only its own). */
  forHost(host: string): MonitorStore;
  /** The machines with samples or rollups in the ledger, by name. */
  hosts(): Promise<string[]>;

  /** Stores one sample; a sample at the same ts replaces the one there (with its GPU rows). */
  insert(sample: MonitorSample): Promise<void>;
  /** Stores (or replaces, by ts) samples in one transaction: all of them or none. */
  insertMany(samples: readonly MonitorSample[]): Promise<void>;
  /** Samples with from <= ts < to, oldest first, each with its GPU readings. */
  between(from: number, to: number): Promise<MonitorSample[]>;
  /** The newest sample with ts < before (any time by default), or undefined. */
  latest(before?: number): Promise<MonitorSample | undefined>;
  count(from?: number, to?: number): Promise<number>;
  /** Oldest and newest sample times, or null when there are none. */
  range(): Promise<{ oldest: number; newest: number } | null>;
  /**
   * The latest user activity known before `before`: the newest sample's last_active_at, or the
   * newest sample marked active, whichever is later (never after `before`).
   */
  lastActivityBefore(before: number): Promise<number | null>;

  /** The start of the newest hour with a rollup of `metric`, or null. */
  latestRollupHour(metric: string): Promise<number | null>;
  /** Start times of the hours that still hold raw samples, from <= ts < before, oldest first. */
  rawHours(before: number, from?: number): Promise<number[]>;
  /** Hours holding raw samples but no host rollup of `metric` yet, from <= ts < before. */
  hoursWithoutRollup(metric: string, before: number, from?: number): Promise<number[]>;
  /** Writes (or rewrites) rollup rows in one transaction. */
  upsertRollups(rows: readonly RollupRow[]): Promise<void>;
  /** Rollups with from <= hour < to, optionally of one metric, by hour, metric and GPU. */
  rollups(from: number, to: number, metric?: string): Promise<RollupRow[]>;
  /** Each rolled-up hour's share of idle samples (the 'idle' rollup), from <= hour < to. */
  idleFractions(from: number, to: number): Promise<{ hour: number; idleFraction: number }[]>;
  /** Deletes one hour's raw samples and GPU readings in one transaction; returns the samples. */
  deleteRawHour(hour: number): Promise<number>;

  /**
   * Runs `work` in one transaction of its own that may span asynchronous work (an import reading
   * its file as it goes): everything written through `tx` lands, or nothing when `work` throws.
   * Reads through `tx` see its own writes. Nobody else's writes join it.
   */
  transaction<T>(work: (tx: MonitorStore) => Promise<T>): Promise<T>;

  /** The stored quiet-hours profile of this machine (JSON as saved), or undefined. */
  quietHoursProfile<T>(): Promise<T | undefined>;
  saveQuietHoursProfile(profile: unknown, at: number): Promise<void>;
}

/** The longest host name kept (a DNS name's limit). */
const MAX_HOST = 253;

/** The name this machine's history is kept under: monitor.host, else the system's hostname. */
export function monitorHostName(configured?: string | undefined): string {
  const name = (configured ?? hostname()).trim();
  if (name === "" || name.length > MAX_HOST || !isPrintable(name)) {
    throw new NightshiftError(
      `monitor.host: ${JSON.stringify(name.slice(0, 80))} is not a usable machine name (1–${MAX_HOST} printable characters)`,
    );
  }
  return name;
}

/** No control characters (a NUL would not even reach PostgreSQL). */
export function isPrintable(text: string): boolean {
  return !/\p{Cc}/u.test(text);
}

/** Samples with one per ts, the last given winning (as a replace by ts would leave them). */
export function lastPerTs(samples: readonly MonitorSample[]): MonitorSample[] {
  const byTs = new Map<number, MonitorSample>();
  for (const sample of samples) byTs.set(sample.ts, sample);
  return byTs.size === samples.length ? [...samples] : [...byTs.values()];
}

/** The later of the two activity lookups, never after `before`. */
export function latestActivity(
  before: number,
  active: number | null | undefined,
  noted: number | null | undefined,
): number | null {
  const known = [active, noted].filter((v): v is number => v !== undefined && v !== null);
  return known.length === 0 ? null : Math.min(before, Math.max(...known));
}
