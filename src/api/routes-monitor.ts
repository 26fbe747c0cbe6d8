import { systemClock } from "../clock.js";
import { NightshiftError } from "../errors.js";
import { HOUR_MS, type MonitorSample, type MonitorStore } from "../ledger/stores/monitor.js";
import { evaluateIdleGate } from "../monitor/idle-gate.js";
import { learnQuietHours } from "../monitor/quiet-hours.js";
import { type MachineSeries, seriesFromRollups, seriesFromSamples } from "../views/machine.js";
import { idleToJson, profileToJson } from "../views/monitor.js";
import type { Deps, Request, Route } from "./route-types.js";

/** The ranges the Machine page offers; up to a day is drawn from raw samples, longer from rollups. */
const RANGES: Record<string, number> = {
  "1h": HOUR_MS,
  "6h": 6 * HOUR_MS,
  "24h": 24 * HOUR_MS,
  "7d": 7 * 24 * HOUR_MS,
  "30d": 30 * 24 * HOUR_MS,
  "90d": 90 * 24 * HOUR_MS,
};
const RAW_UP_TO = 24 * HOUR_MS;

/** The monitor's history and what it concluded: the quiet hours, the idle gate, the charts. */
export const monitorRoutes: Route[] = [
  { method: "GET", pattern: ["monitor", "quiet-hours"], handler: quietHours },
  { method: "GET", pattern: ["monitor", "idle"], handler: idleNow },
  { method: "GET", pattern: ["monitor", "series"], handler: series },
];

/** This machine's history, or another's with ?host=NAME (several machines, one ledger). */
function storeFor(r: Request, deps: Deps): MonitorStore {
  const host = r.query.get("host");
  return host === null ? deps.stores.monitor : deps.stores.monitor.forHost(host);
}

async function quietHours(r: Request, deps: Deps) {
  const now = (deps.clock ?? systemClock).now();
  return profileToJson(await learnQuietHours(storeFor(r, deps), deps.config, now));
}

async function idleNow(r: Request, deps: Deps) {
  const now = (deps.clock ?? systemClock).now();
  const result = await evaluateIdleGate(storeFor(r, deps), deps.config.idle, now, {
    intervalS: deps.config.monitor.interval_s,
  });
  return idleToJson(result);
}

/**
 * GET /v0/monitor/series?range=24h: CPU, RAM, disk and per-GPU series as columns (uPlot's
 * shape). Up to 24 h from raw samples; beyond, hourly averages from the rollups, with the
 * newest hours not rolled up yet averaged from their raw samples.
 */
async function series(r: Request, deps: Deps): Promise<MachineSeries> {
  const range = r.query.get("range") ?? "24h";
  const span = RANGES[range];
  if (span === undefined) {
    throw new NightshiftError(`range=${range}: use one of ${Object.keys(RANGES).join(", ")}`);
  }
  const now = (deps.clock ?? systemClock).now();
  const store = storeFor(r, deps);
  const from = now - span;
  if (span <= RAW_UP_TO) return seriesFromSamples(await store.between(from, now + 1), range, "raw");
  const rolled = await store.rollups(from, now + 1);
  const lastHour = rolled.reduce((max, row) => Math.max(max, row.hour), from - HOUR_MS);
  const tail: MonitorSample[] = await store.between(lastHour + HOUR_MS, now + 1);
  return seriesFromRollups(rolled, tail, range);
}
