import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { HOUR_MS, type MonitorSample, type MonitorStore } from "../../src/ledger/stores/index.js";
import { learnQuietHours } from "../../src/monitor/quiet-hours.js";
import {
  rollUpAndPruneSamples,
  rollUpCompletedHours,
  rollupHourFromRaw,
} from "../../src/monitor/rollup.js";
import { MONITOR_ENGINES } from "./engines.js";
import { MONDAY, weekdaySleeper } from "./history.js";

const config = parseConfig({});

function sample(ts: number, cpuPct: number, gpuUtil: number, userActive = false): MonitorSample {
  return {
    ts,
    cpuPct,
    ramPct: 30,
    ramUsedMb: 4000,
    diskReadBps: 100,
    diskWriteBps: 200,
    userActive,
    lastActiveAt: userActive ? ts : null,
    gpus: [
      {
        index: 0,
        vendor: "nvidia",
        utilPct: gpuUtil,
        memUsedMb: 10,
        memTotalMb: 20,
        powerW: 30,
        tempC: 40,
      },
    ],
    source: "sampler",
  };
}

const T0 = Date.parse("2026-01-05T00:00:00Z");

for (const engine of MONITOR_ENGINES) {
  describe.skipIf(!engine.available)(`hourly rollups and retention on ${engine.name}`, () => {
    let store: MonitorStore;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      const opened = await engine.open();
      store = opened.stores.monitor;
      cleanup = opened.cleanup;
    });
    afterEach(() => cleanup());

    it("rolls up avg, max and p95 per metric and per GPU, with the share of idle samples", async () => {
      // 20 minutes at 1..20 % CPU, each with the GPU at 10× that.
      await store.insertMany(
        Array.from({ length: 20 }, (_, i) => sample(T0 + i * 60_000, i + 1, (i + 1) * 4)),
      );
      expect(await rollUpCompletedHours(store, T0 + HOUR_MS, config.idle)).toBe(1);
      const rows = await store.rollups(T0, T0 + HOUR_MS);
      const cpu = rows.find((r) => r.metric === "cpu_pct")!;
      expect(cpu).toMatchObject({ samples: 20, avg: 10.5, max: 20, p95: 19, gpu: -1 });
      const gpu = rows.find((r) => r.metric === "gpu_util_pct" && r.gpu === 0)!;
      expect(gpu).toMatchObject({ avg: 42, max: 80, p95: 76 });
      // Idle while CPU < 20 and GPU < 15: the first three minutes (GPU 4, 8, 12 %).
      expect(rows.find((r) => r.metric === "idle")!.avg).toBeCloseTo(3 / 20, 5);
      // The current hour is not rolled up before it completes.
      await store.insert(sample(T0 + HOUR_MS + 60_000, 1, 0));
      expect(await rollUpCompletedHours(store, T0 + HOUR_MS + 120_000, config.idle)).toBe(0);
    });

    it("rolls up a run of hours read at once as each hour read alone, across gaps and activity", async () => {
      // Hours 0-5 and 9-10 (a gap), one sample every 7 minutes; the user is active now and then,
      // so the idle share of an hour depends on activity in the lookback before it.
      const hours = [0, 1, 2, 3, 4, 5, 9, 10];
      const samples = hours.flatMap((h) =>
        Array.from({ length: 9 }, (_, k) => {
          const ts = T0 + h * HOUR_MS + k * 7 * 60_000;
          return sample(ts, (h * 9 + k) % 30, (k * 3) % 20, (h * 9 + k) % 11 === 0);
        }),
      );
      await store.insertMany(samples);
      expect(await rollUpCompletedHours(store, T0 + 11 * HOUR_MS, config.idle)).toBe(8);
      for (const h of hours) {
        const alone = await rollupHourFromRaw(store, T0 + h * HOUR_MS, config.idle);
        const stored = await store.rollups(T0 + h * HOUR_MS, T0 + (h + 1) * HOUR_MS);
        const key = (r: { metric: string; gpu: number }) => `${r.metric}/${r.gpu}`;
        const byKey = (rows: typeof stored) => [...rows].sort((a, b) => (key(a) < key(b) ? -1 : 1));
        expect(byKey(stored)).toEqual(byKey(alone));
      }
      const idle = await store.idleFractions(T0, T0 + 11 * HOUR_MS);
      expect(idle.some((r) => r.idleFraction > 0 && r.idleFraction < 1)).toBe(true);
    });

    it("turns raw samples past retention into rollups, idempotently, keeping newer ones raw", async () => {
      for (let h = 0; h < 5; h++) {
        await store.insertMany(
          Array.from({ length: 60 }, (_, i) => sample(T0 + h * HOUR_MS + i * 60_000, h, 0)),
        );
      }
      const first = await rollUpAndPruneSamples(store, T0 + 3 * HOUR_MS + 30 * 60_000, config.idle);
      expect(first).toEqual({ hoursRolledUp: 3, samplesDeleted: 180 });
      expect(await store.count()).toBe(120);
      const before = await store.rollups(0, Number.MAX_SAFE_INTEGER);
      expect(before.filter((r) => r.metric === "cpu_pct").map((r) => r.avg)).toEqual([0, 1, 2]);
      expect(await rollUpAndPruneSamples(store, T0 + 3 * HOUR_MS, config.idle)).toEqual({
        hoursRolledUp: 0,
        samplesDeleted: 0,
      });
      expect(await store.rollups(0, Number.MAX_SAFE_INTEGER)).toEqual(before);
    });

    it("learns quiet hours from rollups once the raw samples are gone", async () => {
      const days = 14;
      const start = MONDAY - days * 86_400_000;
      const samples: MonitorSample[] = [];
      for (let t = start; t < MONDAY; t += 5 * 60_000) {
        const date = new Date(t);
        const day = new Date(date.getFullYear(), date.getMonth(), date.getDate());
        const quiet = weekdaySleeper(day, date.getHours()) === 1;
        samples.push(sample(t, quiet ? 3 : 60, quiet ? 0 : 80, !quiet));
      }
      await store.insertMany(samples);
      const fromRaw = await learnQuietHours(store, config, MONDAY);
      await rollUpAndPruneSamples(store, MONDAY, config.idle);
      expect(await store.count()).toBe(0);
      const fromRollups = await learnQuietHours(store, config, MONDAY);
      expect(fromRollups.probabilities).toEqual(fromRaw.probabilities);
      expect(fromRollups.ready).toBe(true);
      // The office hours count as idle only 30 minutes after the last activity (08:55): 7 of 12.
      expect(fromRollups.probabilities[1]![3]).toBe(1);
      expect(fromRollups.probabilities[1]![9]).toBe(0.583);
      expect(fromRollups.probabilities[1]![20]).toBe(0);
    });
  });
}
