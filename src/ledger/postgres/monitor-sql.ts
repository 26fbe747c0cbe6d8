import {
  type GpuReading,
  type GpuVendor,
  HOUR_MS,
  type MonitorSample,
  type SampleSource,
} from "../stores/monitor.js";

/** Samples per INSERT: one statement (arrays through unnest) whatever the batch, bounded in size. */
export const INSERT_CHUNK = 5000;

const SAMPLE_COLUMNS = `s.ts, s.cpu_pct, s.ram_pct, s.ram_used_mb, s.disk_read_bps, s.disk_write_bps,
  s.user_active, s.last_active_at, s.source, g.gpu, g.vendor, g.util_pct, g.mem_used_mb,
  g.mem_total_mb, g.power_w, g.temp_c`;

export const SQL = {
  upsertSamples: `INSERT INTO monitor_samples (host, ts, cpu_pct, ram_pct, ram_used_mb,
      disk_read_bps, disk_write_bps, user_active, last_active_at, source)
    SELECT $1, * FROM unnest($2::int8[], $3::float8[], $4::float8[], $5::float8[], $6::float8[],
      $7::float8[], $8::bool[], $9::int8[], $10::text[])
    ON CONFLICT (host, ts) DO UPDATE SET cpu_pct = excluded.cpu_pct, ram_pct = excluded.ram_pct,
      ram_used_mb = excluded.ram_used_mb, disk_read_bps = excluded.disk_read_bps,
      disk_write_bps = excluded.disk_write_bps, user_active = excluded.user_active,
      last_active_at = excluded.last_active_at, source = excluded.source`,
  deleteGpusAt: "DELETE FROM monitor_gpu_samples WHERE host = $1 AND ts = ANY($2::int8[])",
  insertGpus: `INSERT INTO monitor_gpu_samples (host, ts, gpu, vendor, util_pct, mem_used_mb,
      mem_total_mb, power_w, temp_c)
    SELECT $1, * FROM unnest($2::int8[], $3::int4[], $4::text[], $5::float8[], $6::float8[],
      $7::float8[], $8::float8[], $9::float8[])`,
  // The range is repeated on the GPU rows: without it the generic plan of this prepared
  // statement hashed a sequential scan of every GPU sample on each call (55 ms a day-window at a
  // quarter year of samples, most of a year's rollup time); with it both sides are range scans.
  between: `SELECT ${SAMPLE_COLUMNS} FROM monitor_samples s
    LEFT JOIN monitor_gpu_samples g ON g.host = s.host AND g.ts = s.ts
      AND g.host = $1 AND g.ts >= $2 AND g.ts < $3
    WHERE s.host = $1 AND s.ts >= $2 AND s.ts < $3 ORDER BY s.ts, g.gpu`,
  latest: `WITH newest AS (SELECT * FROM monitor_samples WHERE host = $1 AND ts < $2
      ORDER BY ts DESC LIMIT 1)
    SELECT ${SAMPLE_COLUMNS} FROM newest s
    LEFT JOIN monitor_gpu_samples g ON g.host = s.host AND g.ts = s.ts ORDER BY g.gpu`,
  count: "SELECT count(*)::int8 AS n FROM monitor_samples WHERE host = $1 AND ts >= $2 AND ts < $3",
  range: "SELECT min(ts) AS oldest, max(ts) AS newest FROM monitor_samples WHERE host = $1",
  lastActivity: `SELECT
      (SELECT ts FROM monitor_samples WHERE host = $1 AND ts < $2 AND user_active
        ORDER BY ts DESC LIMIT 1) AS active,
      (SELECT last_active_at FROM monitor_samples WHERE host = $1 AND ts < $2
        AND last_active_at IS NOT NULL ORDER BY ts DESC LIMIT 1) AS noted`,
  latestRollupHour: "SELECT max(hour) AS hour FROM monitor_rollups WHERE host = $1 AND metric = $2",
  rawHours: `SELECT DISTINCT (ts / ${HOUR_MS}) * ${HOUR_MS} AS hour FROM monitor_samples
    WHERE host = $1 AND ts >= $2 AND ts < $3 ORDER BY 1`,
  hoursWithoutRollup: `SELECT h.hour FROM (SELECT DISTINCT (ts / ${HOUR_MS}) * ${HOUR_MS} AS hour
      FROM monitor_samples WHERE host = $1 AND ts >= $2 AND ts < $3) AS h
    WHERE NOT EXISTS (SELECT 1 FROM monitor_rollups r
      WHERE r.host = $1 AND r.hour = h.hour AND r.metric = $4 AND r.gpu = -1)
    ORDER BY 1`,
  upsertRollups: `INSERT INTO monitor_rollups (host, hour, metric, gpu, samples, avg, max, p95)
    SELECT $1, * FROM unnest($2::int8[], $3::text[], $4::int4[], $5::int4[], $6::float8[],
      $7::float8[], $8::float8[])
    ON CONFLICT (host, hour, metric, gpu) DO UPDATE SET samples = excluded.samples,
      avg = excluded.avg, max = excluded.max, p95 = excluded.p95`,
  rollups: `SELECT hour, metric, gpu, samples, avg, max, p95 FROM monitor_rollups
    WHERE host = $1 AND hour >= $2 AND hour < $3 ORDER BY hour, metric, gpu`,
  metricRollups: `SELECT hour, metric, gpu, samples, avg, max, p95 FROM monitor_rollups
    WHERE host = $1 AND metric = $4 AND hour >= $2 AND hour < $3 ORDER BY hour, gpu`,
  idleFractions: `SELECT hour, avg AS "idleFraction" FROM monitor_rollups
    WHERE host = $1 AND metric = 'idle' AND gpu = -1 AND hour >= $2 AND hour < $3
      AND avg IS NOT NULL ORDER BY hour`,
  // The GPU rows go with their samples (ON DELETE CASCADE): one statement, atomic on its own.
  deleteRawHour: "DELETE FROM monitor_samples WHERE host = $1 AND ts >= $2 AND ts < $3",
  // Hosts by a loose index scan of each table's primary key: one probe per host, not per row.
  hosts: `WITH RECURSIVE sampled (host) AS (
      (SELECT host FROM monitor_samples ORDER BY host LIMIT 1)
      UNION ALL
      SELECT (SELECT m.host FROM monitor_samples m WHERE m.host > sampled.host
        ORDER BY m.host LIMIT 1) FROM sampled WHERE sampled.host IS NOT NULL
    ), rolled (host) AS (
      (SELECT host FROM monitor_rollups ORDER BY host LIMIT 1)
      UNION ALL
      SELECT (SELECT r.host FROM monitor_rollups r WHERE r.host > rolled.host
        ORDER BY r.host LIMIT 1) FROM rolled WHERE rolled.host IS NOT NULL
    )
    SELECT host FROM sampled WHERE host IS NOT NULL
    UNION SELECT host FROM rolled WHERE host IS NOT NULL ORDER BY 1`,
  getProfile: "SELECT profile FROM monitor_quiet_hours WHERE host = $1",
  setProfile: `INSERT INTO monitor_quiet_hours (host, profile, learned_at) VALUES ($1, $2::jsonb, $3)
    ON CONFLICT (host) DO UPDATE SET profile = excluded.profile, learned_at = excluded.learned_at`,
} as const;

export interface JoinedRow {
  ts: number;
  cpu_pct: number | null;
  ram_pct: number | null;
  ram_used_mb: number | null;
  disk_read_bps: number | null;
  disk_write_bps: number | null;
  user_active: boolean | null;
  last_active_at: number | null;
  source: SampleSource;
  gpu: number | null;
  vendor: GpuVendor | null;
  util_pct: number | null;
  mem_used_mb: number | null;
  mem_total_mb: number | null;
  power_w: number | null;
  temp_c: number | null;
}

/** Joined rows (one per sample and GPU, ordered by ts) back to samples with their GPUs. */
export function samplesFromRows(rows: readonly JoinedRow[]): MonitorSample[] {
  const samples: MonitorSample[] = [];
  for (const row of rows) {
    let sample = samples[samples.length - 1];
    if (sample?.ts !== row.ts) {
      sample = {
        ts: row.ts,
        cpuPct: row.cpu_pct,
        ramPct: row.ram_pct,
        ramUsedMb: row.ram_used_mb,
        diskReadBps: row.disk_read_bps,
        diskWriteBps: row.disk_write_bps,
        userActive: row.user_active,
        lastActiveAt: row.last_active_at,
        gpus: [],
        source: row.source,
      };
      samples.push(sample);
    }
    if (row.gpu !== null) sample.gpus.push(gpuFromRow(row, row.gpu));
  }
  return samples;
}

function gpuFromRow(row: JoinedRow, index: number): GpuReading {
  return {
    index,
    vendor: row.vendor,
    utilPct: row.util_pct,
    memUsedMb: row.mem_used_mb,
    memTotalMb: row.mem_total_mb,
    powerW: row.power_w,
    tempC: row.temp_c,
  };
}
