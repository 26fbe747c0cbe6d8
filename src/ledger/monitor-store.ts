import type { Statement } from "better-sqlite3";
import type { Db } from "./db.js";

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

interface SampleRow {
  ts: number;
  cpu_pct: number | null;
  ram_pct: number | null;
  ram_used_mb: number | null;
  disk_read_bps: number | null;
  disk_write_bps: number | null;
  user_active: number | null;
  last_active_at: number | null;
  source: SampleSource;
}

interface GpuRow {
  ts: number;
  gpu: number;
  vendor: GpuVendor | null;
  util_pct: number | null;
  mem_used_mb: number | null;
  mem_total_mb: number | null;
  power_w: number | null;
  temp_c: number | null;
}

export const HOUR_MS = 3_600_000;

/** The monitor's tables: raw samples, per-GPU readings, and hourly rollups. */
export class MonitorStore {
  private readonly insertSampleStmt: Statement;
  private readonly deleteGpusAtStmt: Statement;
  private readonly insertGpuStmt: Statement;
  private readonly samplesStmt: Statement;
  private readonly gpusStmt: Statement;
  private readonly upsertRollupStmt: Statement;
  private readonly rollupsStmt: Statement;
  private readonly metricRollupsStmt: Statement;
  private readonly idleFractionsStmt: Statement;
  private readonly deleteRawSamplesStmt: Statement;
  private readonly deleteRawGpusStmt: Statement;
  private readonly lastActiveSampleStmt: Statement;
  private readonly lastNotedActivityStmt: Statement;

  constructor(readonly db: Db) {
    this.insertSampleStmt = db.prepare(
      `INSERT OR REPLACE INTO monitor_samples (ts, cpu_pct, ram_pct, ram_used_mb, disk_read_bps,
         disk_write_bps, user_active, last_active_at, source)
       VALUES (@ts, @cpu_pct, @ram_pct, @ram_used_mb, @disk_read_bps, @disk_write_bps,
         @user_active, @last_active_at, @source)`,
    );
    this.deleteGpusAtStmt = db.prepare("DELETE FROM monitor_gpu_samples WHERE ts = ?");
    this.insertGpuStmt = db.prepare(
      `INSERT OR REPLACE INTO monitor_gpu_samples (ts, gpu, vendor, util_pct, mem_used_mb,
         mem_total_mb, power_w, temp_c)
       VALUES (@ts, @gpu, @vendor, @util_pct, @mem_used_mb, @mem_total_mb, @power_w, @temp_c)`,
    );
    this.samplesStmt = db.prepare(
      "SELECT * FROM monitor_samples WHERE ts >= ? AND ts < ? ORDER BY ts",
    );
    this.gpusStmt = db.prepare(
      "SELECT * FROM monitor_gpu_samples WHERE ts >= ? AND ts < ? ORDER BY ts, gpu",
    );
    this.upsertRollupStmt = db.prepare(
      `INSERT INTO monitor_rollups (hour, metric, gpu, samples, avg, max, p95)
       VALUES (@hour, @metric, @gpu, @samples, @avg, @max, @p95)
       ON CONFLICT (hour, metric, gpu) DO UPDATE SET samples = excluded.samples,
         avg = excluded.avg, max = excluded.max, p95 = excluded.p95`,
    );
    this.rollupsStmt = db.prepare(
      `SELECT hour, metric, gpu, samples, avg, max, p95 FROM monitor_rollups
       WHERE hour >= ? AND hour < ? ORDER BY hour, metric, gpu`,
    );
    this.idleFractionsStmt = db.prepare(
      `SELECT hour, avg AS idleFraction FROM monitor_rollups
       WHERE metric = 'idle' AND gpu = -1 AND hour >= ? AND hour < ? AND avg IS NOT NULL
       ORDER BY hour`,
    );
    this.metricRollupsStmt = db.prepare(
      `SELECT hour, metric, gpu, samples, avg, max, p95 FROM monitor_rollups
       WHERE metric = ? AND hour >= ? AND hour < ? ORDER BY hour, gpu`,
    );
    this.deleteRawSamplesStmt = db.prepare("DELETE FROM monitor_samples WHERE ts >= ? AND ts < ?");
    this.deleteRawGpusStmt = db.prepare("DELETE FROM monitor_gpu_samples WHERE ts >= ? AND ts < ?");
    this.lastActiveSampleStmt = db
      .prepare(
        "SELECT ts FROM monitor_samples WHERE ts < ? AND user_active = 1 ORDER BY ts DESC LIMIT 1",
      )
      .pluck();
    this.lastNotedActivityStmt = db
      .prepare(
        `SELECT last_active_at FROM monitor_samples WHERE ts < ? AND last_active_at IS NOT NULL
         ORDER BY ts DESC LIMIT 1`,
      )
      .pluck();
  }

  insert(sample: MonitorSample): void {
    this.insertMany([sample]);
  }

  /** Inserts (or replaces, by ts) samples in one transaction: all of them or none. */
  insertMany(samples: readonly MonitorSample[]): void {
    this.db.transaction(() => {
      for (const sample of samples) this.writeOne(sample);
    })();
  }

  private writeOne(sample: MonitorSample): void {
    this.insertSampleStmt.run({
      ts: sample.ts,
      cpu_pct: sample.cpuPct,
      ram_pct: sample.ramPct,
      ram_used_mb: sample.ramUsedMb,
      disk_read_bps: sample.diskReadBps,
      disk_write_bps: sample.diskWriteBps,
      user_active: sample.userActive === null ? null : sample.userActive ? 1 : 0,
      last_active_at: sample.lastActiveAt,
      source: sample.source,
    });
    this.deleteGpusAtStmt.run(sample.ts);
    for (const gpu of sample.gpus) {
      this.insertGpuStmt.run({
        ts: sample.ts,
        gpu: gpu.index,
        vendor: gpu.vendor,
        util_pct: gpu.utilPct,
        mem_used_mb: gpu.memUsedMb,
        mem_total_mb: gpu.memTotalMb,
        power_w: gpu.powerW,
        temp_c: gpu.tempC,
      });
    }
  }

  /** Samples with from <= ts < to, oldest first, each with its GPU readings. */
  between(from: number, to: number): MonitorSample[] {
    const rows = this.samplesStmt.all(from, to) as SampleRow[];
    const gpus = new Map<number, GpuReading[]>();
    for (const row of this.gpusStmt.all(from, to) as GpuRow[]) {
      const list = gpus.get(row.ts) ?? [];
      list.push({
        index: row.gpu,
        vendor: row.vendor,
        utilPct: row.util_pct,
        memUsedMb: row.mem_used_mb,
        memTotalMb: row.mem_total_mb,
        powerW: row.power_w,
        tempC: row.temp_c,
      });
      gpus.set(row.ts, list);
    }
    return rows.map((row) => ({
      ts: row.ts,
      cpuPct: row.cpu_pct,
      ramPct: row.ram_pct,
      ramUsedMb: row.ram_used_mb,
      diskReadBps: row.disk_read_bps,
      diskWriteBps: row.disk_write_bps,
      userActive: row.user_active === null ? null : row.user_active === 1,
      lastActiveAt: row.last_active_at,
      gpus: gpus.get(row.ts) ?? [],
      source: row.source,
    }));
  }

  count(from = 0, to = Number.MAX_SAFE_INTEGER): number {
    return this.db
      .prepare("SELECT count(*) FROM monitor_samples WHERE ts >= ? AND ts < ?")
      .pluck()
      .get(from, to) as number;
  }

  /** Oldest and newest sample times, or null when there are none. */
  range(): { oldest: number; newest: number } | null {
    const row = this.db
      .prepare("SELECT min(ts) AS oldest, max(ts) AS newest FROM monitor_samples")
      .get() as { oldest: number | null; newest: number | null };
    return row.oldest === null || row.newest === null
      ? null
      : { oldest: row.oldest, newest: row.newest };
  }

  /**
   * The latest user activity known before `before`: the newest sample's last_active_at, or the
   * newest sample marked active, whichever is later. Both are index lookups.
   */
  lastActivityBefore(before: number): number | null {
    const active = this.lastActiveSampleStmt.get(before) as number | undefined;
    const noted = this.lastNotedActivityStmt.get(before) as number | undefined;
    const known = [active, noted].filter((v): v is number => v !== undefined && v !== null);
    return known.length === 0 ? null : Math.min(before, Math.max(...known));
  }

  /** The start of the newest hour with a rollup of `metric`, or null. */
  latestRollupHour(metric: string): number | null {
    const hour = this.db
      .prepare("SELECT max(hour) FROM monitor_rollups WHERE metric = ?")
      .pluck()
      .get(metric) as number | null;
    return hour;
  }

  /** Start times of the hours that still hold raw samples, for ts < before, oldest first. */
  rawHours(before: number, from = 0): number[] {
    return (
      this.db
        .prepare(
          `SELECT DISTINCT (ts / ${HOUR_MS}) * ${HOUR_MS} FROM monitor_samples
           WHERE ts >= ? AND ts < ? ORDER BY 1`,
        )
        .pluck()
        .all(from, before) as number[]
    ).map(Number);
  }

  /** Hours holding raw samples but no rollup of `metric` yet, for from <= ts < before. */
  hoursWithoutRollup(metric: string, before: number, from = 0): number[] {
    return (
      this.db
        .prepare(
          `SELECT h.hour FROM (SELECT DISTINCT (ts / ${HOUR_MS}) * ${HOUR_MS} AS hour
             FROM monitor_samples WHERE ts >= ? AND ts < ?) AS h
           WHERE NOT EXISTS (SELECT 1 FROM monitor_rollups r
             WHERE r.hour = h.hour AND r.metric = ? AND r.gpu = -1)
           ORDER BY 1`,
        )
        .pluck()
        .all(from, before, metric) as number[]
    ).map(Number);
  }

  upsertRollups(rows: readonly RollupRow[]): void {
    this.db.transaction(() => {
      for (const row of rows) this.upsertRollupStmt.run(row);
    })();
  }

  /** Rollups with from <= hour < to, optionally of one metric. */
  rollups(from: number, to: number, metric?: string): RollupRow[] {
    if (metric === undefined) return this.rollupsStmt.all(from, to) as RollupRow[];
    return this.metricRollupsStmt.all(metric, from, to) as RollupRow[];
  }

  /** Deletes one hour's raw samples and GPU readings in one transaction; returns the samples. */
  deleteRawHour(hour: number): number {
    return this.db.transaction(() => {
      this.deleteRawGpusStmt.run(hour, hour + HOUR_MS);
      return this.deleteRawSamplesStmt.run(hour, hour + HOUR_MS).changes;
    })();
  }

  /**
   * Opens a transaction that spans asynchronous work (an import reading its file as it goes):
   * commit with `commitBulk`, or `rollbackBulk` to leave the tables as they were.
   */
  beginBulk(): void {
    this.db.exec("BEGIN IMMEDIATE");
  }

  commitBulk(): void {
    this.db.exec("COMMIT");
  }

  rollbackBulk(): void {
    if (this.db.inTransaction) this.db.exec("ROLLBACK");
  }

  /** Each rolled-up hour's share of idle samples (the 'idle' rollup), from <= hour < to. */
  idleFractions(from: number, to: number): { hour: number; idleFraction: number }[] {
    return this.idleFractionsStmt.all(from, to) as { hour: number; idleFraction: number }[];
  }

  /** Runs `fn` in one transaction (an import is all or nothing). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
}
