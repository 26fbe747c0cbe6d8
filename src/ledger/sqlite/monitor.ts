import Database, { type Statement } from "better-sqlite3";
import { NightshiftError } from "../../errors.js";
import type { Db } from "../db.js";
import {
  type GpuReading,
  type GpuVendor,
  HOUR_MS,
  latestActivity,
  type MonitorSample,
  type MonitorStore,
  type RollupRow,
  type SampleSource,
} from "../stores/monitor.js";

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

/**
 * Where the profile has always been kept on SQLite: the scheduler's key-value table, so a ledger
 * from before the seam keeps its learned profile.
 */
const PROFILE_KEY = "quiet_hours_profile";

const SQL = {
  insertSample: `INSERT OR REPLACE INTO monitor_samples (ts, cpu_pct, ram_pct, ram_used_mb,
      disk_read_bps, disk_write_bps, user_active, last_active_at, source)
    VALUES (@ts, @cpu_pct, @ram_pct, @ram_used_mb, @disk_read_bps, @disk_write_bps,
      @user_active, @last_active_at, @source)`,
  deleteGpusAt: "DELETE FROM monitor_gpu_samples WHERE ts = ?",
  insertGpu: `INSERT OR REPLACE INTO monitor_gpu_samples (ts, gpu, vendor, util_pct, mem_used_mb,
      mem_total_mb, power_w, temp_c)
    VALUES (@ts, @gpu, @vendor, @util_pct, @mem_used_mb, @mem_total_mb, @power_w, @temp_c)`,
  samples: "SELECT * FROM monitor_samples WHERE ts >= ? AND ts < ? ORDER BY ts",
  gpus: "SELECT * FROM monitor_gpu_samples WHERE ts >= ? AND ts < ? ORDER BY ts, gpu",
  latestTs: "SELECT max(ts) FROM monitor_samples WHERE ts < ?",
  count: "SELECT count(*) FROM monitor_samples WHERE ts >= ? AND ts < ?",
  range: "SELECT min(ts) AS oldest, max(ts) AS newest FROM monitor_samples",
  upsertRollup: `INSERT INTO monitor_rollups (hour, metric, gpu, samples, avg, max, p95)
    VALUES (@hour, @metric, @gpu, @samples, @avg, @max, @p95)
    ON CONFLICT (hour, metric, gpu) DO UPDATE SET samples = excluded.samples,
      avg = excluded.avg, max = excluded.max, p95 = excluded.p95`,
  rollups: `SELECT hour, metric, gpu, samples, avg, max, p95 FROM monitor_rollups
    WHERE hour >= ? AND hour < ? ORDER BY hour, metric, gpu`,
  metricRollups: `SELECT hour, metric, gpu, samples, avg, max, p95 FROM monitor_rollups
    WHERE metric = ? AND hour >= ? AND hour < ? ORDER BY hour, gpu`,
  idleFractions: `SELECT hour, avg AS idleFraction FROM monitor_rollups
    WHERE metric = 'idle' AND gpu = -1 AND hour >= ? AND hour < ? AND avg IS NOT NULL
    ORDER BY hour`,
  latestRollupHour: "SELECT max(hour) FROM monitor_rollups WHERE metric = ?",
  rawHours: `SELECT DISTINCT (ts / ${HOUR_MS}) * ${HOUR_MS} FROM monitor_samples
    WHERE ts >= ? AND ts < ? ORDER BY 1`,
  hoursWithoutRollup: `SELECT h.hour FROM (SELECT DISTINCT (ts / ${HOUR_MS}) * ${HOUR_MS} AS hour
      FROM monitor_samples WHERE ts >= ? AND ts < ?) AS h
    WHERE NOT EXISTS (SELECT 1 FROM monitor_rollups r
      WHERE r.hour = h.hour AND r.metric = ? AND r.gpu = -1)
    ORDER BY 1`,
  deleteRawSamples: "DELETE FROM monitor_samples WHERE ts >= ? AND ts < ?",
  deleteRawGpus: "DELETE FROM monitor_gpu_samples WHERE ts >= ? AND ts < ?",
  lastActiveSample:
    "SELECT ts FROM monitor_samples WHERE ts < ? AND user_active = 1 ORDER BY ts DESC LIMIT 1",
  lastNotedActivity: `SELECT last_active_at FROM monitor_samples
    WHERE ts < ? AND last_active_at IS NOT NULL ORDER BY ts DESC LIMIT 1`,
  anyHistory: `SELECT EXISTS (SELECT 1 FROM monitor_samples)
    OR EXISTS (SELECT 1 FROM monitor_rollups)`,
  getProfile: "SELECT value FROM scheduler_state WHERE key = ?",
  setProfile: `INSERT INTO scheduler_state (key, value, updated_at) VALUES (?, ?, ?)
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
} as const;

/**
 * The monitor's tables on SQLite: one machine's history, as before the seam. The statements are
 * the same synchronous better-sqlite3 ones, prepared once; the async methods only wrap them.
 */
export class SqliteMonitorStore implements MonitorStore {
  private readonly stmt: { [K in keyof typeof SQL]: Statement };
  private readonly insertBatch: (samples: readonly MonitorSample[]) => void;
  /** Both tables read in one transaction, so a sample never comes without its GPU rows. */
  private readonly read: (from: number, to: number) => MonitorSample[];

  constructor(
    private readonly db: Db,
    readonly host: string,
    /** Set on the store a `transaction` hands out: its own connection, already in BEGIN. */
    private readonly inOwnTransaction = false,
  ) {
    const prepared: Partial<Record<keyof typeof SQL, Statement>> = {};
    for (const [name, text] of Object.entries(SQL)) {
      prepared[name as keyof typeof SQL] = db.prepare(text);
    }
    this.stmt = prepared as { [K in keyof typeof SQL]: Statement };
    this.insertBatch = db.transaction((samples: readonly MonitorSample[]) => {
      for (const sample of samples) this.writeOne(sample);
    });
    this.read = db.transaction((from: number, to: number) => {
      const rows = this.stmt.samples.all(from, to) as SampleRow[];
      const gpus = new Map<number, GpuReading[]>();
      for (const row of this.stmt.gpus.all(from, to) as GpuRow[]) {
        const list = gpus.get(row.ts) ?? [];
        list.push(gpuFromRow(row));
        gpus.set(row.ts, list);
      }
      return rows.map((row) => sampleFromRow(row, gpus.get(row.ts) ?? []));
    });
  }

  forHost(host: string): MonitorStore {
    if (host === this.host) return this;
    throw new NightshiftError(
      `the SQLite ledger holds one machine's monitor history (${this.host}), not ${host}'s; several machines' history needs the PostgreSQL ledger (ledger.url)`,
      { status: 404, code: "not_found" },
    );
  }

  async hosts(): Promise<string[]> {
    return this.stmt.anyHistory.pluck().get() ? [this.host] : [];
  }

  async insert(sample: MonitorSample): Promise<void> {
    this.insertBatch([sample]);
  }

  async insertMany(samples: readonly MonitorSample[]): Promise<void> {
    this.insertBatch(samples);
  }

  private writeOne(sample: MonitorSample): void {
    this.stmt.insertSample.run({
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
    this.stmt.deleteGpusAt.run(sample.ts);
    for (const gpu of sample.gpus) {
      this.stmt.insertGpu.run({
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

  async between(from: number, to: number): Promise<MonitorSample[]> {
    return this.read(from, to);
  }

  async latest(before = Number.MAX_SAFE_INTEGER): Promise<MonitorSample | undefined> {
    const ts = this.stmt.latestTs.pluck().get(before) as number | null;
    return ts === null ? undefined : this.read(ts, ts + 1)[0];
  }

  async count(from = 0, to = Number.MAX_SAFE_INTEGER): Promise<number> {
    return this.stmt.count.pluck().get(from, to) as number;
  }

  async range(): Promise<{ oldest: number; newest: number } | null> {
    const row = this.stmt.range.get() as { oldest: number | null; newest: number | null };
    return row.oldest === null || row.newest === null
      ? null
      : { oldest: row.oldest, newest: row.newest };
  }

  async lastActivityBefore(before: number): Promise<number | null> {
    const active = this.stmt.lastActiveSample.pluck().get(before) as number | undefined;
    const noted = this.stmt.lastNotedActivity.pluck().get(before) as number | undefined;
    return latestActivity(before, active, noted);
  }

  async latestRollupHour(metric: string): Promise<number | null> {
    return this.stmt.latestRollupHour.pluck().get(metric) as number | null;
  }

  async rawHours(before: number, from = 0): Promise<number[]> {
    return (this.stmt.rawHours.pluck().all(from, before) as number[]).map(Number);
  }

  async hoursWithoutRollup(metric: string, before: number, from = 0): Promise<number[]> {
    return (this.stmt.hoursWithoutRollup.pluck().all(from, before, metric) as number[]).map(Number);
  }

  async upsertRollups(rows: readonly RollupRow[]): Promise<void> {
    this.db.transaction(() => {
      for (const row of rows) this.stmt.upsertRollup.run(row);
    })();
  }

  async rollups(from: number, to: number, metric?: string): Promise<RollupRow[]> {
    if (metric === undefined) return this.stmt.rollups.all(from, to) as RollupRow[];
    return this.stmt.metricRollups.all(metric, from, to) as RollupRow[];
  }

  async idleFractions(from: number, to: number): Promise<{ hour: number; idleFraction: number }[]> {
    return this.stmt.idleFractions.all(from, to) as { hour: number; idleFraction: number }[];
  }

  async deleteRawHour(hour: number): Promise<number> {
    return this.db.transaction(() => {
      this.stmt.deleteRawGpus.run(hour, hour + HOUR_MS);
      return this.stmt.deleteRawSamples.run(hour, hour + HOUR_MS).changes;
    })();
  }

  /**
   * On a connection of its own: the daemon's connection is shared by the gateway's writer and
   * every other part, whose writes would otherwise join (and roll back with) a transaction left
   * open across awaits. An in-memory database has no second connection; it uses its own.
   */
  async transaction<T>(work: (tx: MonitorStore) => Promise<T>): Promise<T> {
    if (this.inOwnTransaction) return work(this);
    const separate = !this.db.memory;
    const db = separate ? openSecondConnection(this.db) : this.db;
    try {
      db.exec("BEGIN IMMEDIATE");
      try {
        const result = await work(separate ? new SqliteMonitorStore(db, this.host, true) : this);
        db.exec("COMMIT");
        return result;
      } catch (error) {
        if (db.inTransaction) db.exec("ROLLBACK");
        throw error;
      }
    } finally {
      if (separate) db.close();
    }
  }

  async quietHoursProfile<T>(): Promise<T | undefined> {
    const value = this.stmt.getProfile.pluck().get(PROFILE_KEY) as string | undefined;
    return value === undefined ? undefined : (JSON.parse(value) as T);
  }

  async saveQuietHoursProfile(profile: unknown, at: number): Promise<void> {
    this.stmt.setProfile.run(PROFILE_KEY, JSON.stringify(profile ?? null), at);
  }
}

function openSecondConnection(db: Db): Db {
  const second = new Database(db.name, { fileMustExist: true });
  second.pragma("busy_timeout = 5000");
  second.pragma("foreign_keys = ON");
  return second;
}

function gpuFromRow(row: GpuRow): GpuReading {
  return {
    index: row.gpu,
    vendor: row.vendor,
    utilPct: row.util_pct,
    memUsedMb: row.mem_used_mb,
    memTotalMb: row.mem_total_mb,
    powerW: row.power_w,
    tempC: row.temp_c,
  };
}

function sampleFromRow(row: SampleRow, gpus: GpuReading[]): MonitorSample {
  return {
    ts: row.ts,
    cpuPct: row.cpu_pct,
    ramPct: row.ram_pct,
    ramUsedMb: row.ram_used_mb,
    diskReadBps: row.disk_read_bps,
    diskWriteBps: row.disk_write_bps,
    userActive: row.user_active === null ? null : row.user_active === 1,
    lastActiveAt: row.last_active_at,
    gpus,
    source: row.source,
  };
}
