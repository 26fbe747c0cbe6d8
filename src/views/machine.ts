import { HOUR_MS, type MonitorSample, type RollupRow } from "../ledger/stores/monitor.js";

type Column = (number | null)[];

/** Time series as columns, as charting libraries take them: ts in seconds, one column a metric. */
export interface MachineSeries {
  range: string;
  resolution: "raw" | "hour";
  ts: number[];
  cpu_pct: Column;
  ram_pct: Column;
  disk_read_bps: Column;
  disk_write_bps: Column;
  gpus: Record<string, { util_pct: Column; mem_used_mb: Column; mem_total_mb: Column }>;
}

export function seriesFromSamples(
  samples: readonly MonitorSample[],
  range: string,
  resolution: "raw" | "hour",
): MachineSeries {
  const out = emptySeries(range, resolution);
  const indexes = [...new Set(samples.flatMap((s) => s.gpus.map((g) => g.index)))].sort();
  for (const i of indexes) out.gpus[i] = { util_pct: [], mem_used_mb: [], mem_total_mb: [] };
  for (const s of samples) {
    out.ts.push(Math.floor(s.ts / 1000));
    out.cpu_pct.push(s.cpuPct);
    out.ram_pct.push(s.ramPct);
    out.disk_read_bps.push(s.diskReadBps);
    out.disk_write_bps.push(s.diskWriteBps);
    for (const i of indexes) {
      const g = s.gpus.find((x) => x.index === i);
      const col = out.gpus[i]!;
      col.util_pct.push(g?.utilPct ?? null);
      col.mem_used_mb.push(g?.memUsedMb ?? null);
      col.mem_total_mb.push(g?.memTotalMb ?? null);
    }
  }
  return out;
}

const HOST: Record<string, "cpu_pct" | "ram_pct" | "disk_read_bps" | "disk_write_bps"> = {
  cpu_pct: "cpu_pct",
  ram_pct: "ram_pct",
  disk_read_bps: "disk_read_bps",
  disk_write_bps: "disk_write_bps",
};
const GPU: Record<string, "util_pct" | "mem_used_mb" | "mem_total_mb"> = {
  gpu_util_pct: "util_pct",
  gpu_mem_used_mb: "mem_used_mb",
  gpu_mem_total_mb: "mem_total_mb",
};

/** Hourly averages: the rollups, then the raw `tail` (hours not rolled up yet) averaged per hour. */
export function seriesFromRollups(
  rollups: readonly RollupRow[],
  tail: readonly MonitorSample[],
  range: string,
): MachineSeries {
  const hours = new Map<number, Map<string, number | null>>();
  const cell = (hour: number) => {
    const row = hours.get(hour) ?? new Map<string, number | null>();
    hours.set(hour, row);
    return row;
  };
  for (const r of rollups) {
    if (HOST[r.metric]) cell(r.hour).set(r.metric, r.avg);
    else if (GPU[r.metric]) cell(r.hour).set(`${r.gpu}:${GPU[r.metric]}`, r.avg);
  }
  const byHour = new Map<number, MonitorSample[]>();
  for (const s of tail) {
    const hour = Math.floor(s.ts / HOUR_MS) * HOUR_MS;
    byHour.set(hour, [...(byHour.get(hour) ?? []), s]);
  }
  for (const [hour, samples] of byHour) {
    const row = cell(hour);
    const avg = (values: (number | null)[]) => {
      const present = values.filter((v): v is number => v !== null);
      return present.length ? present.reduce((a, b) => a + b, 0) / present.length : null;
    };
    for (const key of Object.keys(HOST)) {
      row.set(key, avg(samples.map((s) => s[camel(key)] as number | null)));
    }
    const indexes = new Set(samples.flatMap((s) => s.gpus.map((g) => g.index)));
    for (const i of indexes) {
      const readings = samples.flatMap((s) => s.gpus.filter((g) => g.index === i));
      row.set(`${i}:util_pct`, avg(readings.map((g) => g.utilPct)));
      row.set(`${i}:mem_used_mb`, avg(readings.map((g) => g.memUsedMb)));
      row.set(`${i}:mem_total_mb`, avg(readings.map((g) => g.memTotalMb)));
    }
  }
  return toColumns(hours, range);
}

function camel(key: string): keyof MonitorSample {
  return key.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()) as keyof MonitorSample;
}

function toColumns(hours: Map<number, Map<string, number | null>>, range: string): MachineSeries {
  const out = emptySeries(range, "hour");
  const gpuKeys = new Set<string>();
  for (const row of hours.values()) for (const k of row.keys()) if (k.includes(":")) gpuKeys.add(k);
  const indexes = [...new Set([...gpuKeys].map((k) => k.split(":")[0]!))].sort();
  for (const i of indexes) out.gpus[i] = { util_pct: [], mem_used_mb: [], mem_total_mb: [] };
  for (const hour of [...hours.keys()].sort((a, b) => a - b)) {
    const row = hours.get(hour)!;
    out.ts.push(Math.floor(hour / 1000));
    for (const key of Object.values(HOST)) out[key].push(row.get(key) ?? null);
    for (const i of indexes) {
      for (const field of Object.values(GPU))
        out.gpus[i]![field].push(row.get(`${i}:${field}`) ?? null);
    }
  }
  return out;
}

function emptySeries(range: string, resolution: "raw" | "hour"): MachineSeries {
  return {
    range,
    resolution,
    ts: [],
    cpu_pct: [],
    ram_pct: [],
    disk_read_bps: [],
    disk_write_bps: [],
    gpus: {},
  };
}
