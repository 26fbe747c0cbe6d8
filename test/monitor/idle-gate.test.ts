import { spawnSync } from "node:child_process";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import type { MonitorSample, MonitorStore } from "../../src/ledger/stores/index.js";
import { UserActivity } from "../../src/monitor/activity.js";
import { describeIdleGate, evaluateIdleGate } from "../../src/monitor/idle-gate.js";
import { CLI } from "../support/cli.js";
import { MONITOR_ENGINES } from "./engines.js";

const NOW = Date.parse("2026-01-07T03:00:00Z");
const { idle } = parseConfig({});

for (const engine of MONITOR_ENGINES) {
  describe.skipIf(!engine.available)(`the idle gate on ${engine.name}`, () => {
    let store: MonitorStore;
    let home: string;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      const opened = await engine.open();
      store = opened.stores.monitor;
      home = opened.home;
      cleanup = opened.cleanup;
    });
    afterEach(() => cleanup());

    /** A sample every minute for the last `minutes` minutes. */
    async function fill(minutes: number, sample: Partial<MonitorSample> = {}) {
      const samples: MonitorSample[] = [];
      for (let i = minutes - 1; i >= 0; i--) {
        samples.push({
          ts: NOW - i * 60_000,
          cpuPct: 4,
          ramPct: 35,
          ramUsedMb: 5600,
          diskReadBps: 0,
          diskWriteBps: 0,
          userActive: false,
          lastActiveAt: null,
          gpus: [
            {
              index: 0,
              vendor: "nvidia",
              utilPct: 0,
              memUsedMb: 400,
              memTotalMb: 24564,
              powerW: 20,
              tempC: 35,
            },
            {
              index: 1,
              vendor: "nvidia",
              utilPct: 1,
              memUsedMb: 400,
              memTotalMb: 24564,
              powerW: 20,
              tempC: 35,
            },
          ],
          source: "sampler",
          ...sample,
        });
      }
      await store.insertMany(samples);
    }

    it("is idle when every average is under its threshold and nobody was around", async () => {
      await fill(15);
      const result = await evaluateIdleGate(store, idle, NOW);
      expect(result.idle).toBe(true);
      expect(result.reasons).toEqual([]);
      expect(result.values).toMatchObject({
        samples: 15,
        expectedSamples: 15,
        cpuPct: 4,
        ramPct: 35,
      });
      expect(describeIdleGate(result)).toBe("idle");
    });

    it("names each failed threshold with its value", async () => {
      await fill(15, {
        cpuPct: 35,
        ramPct: 72,
        lastActiveAt: NOW - 5 * 60_000,
        gpus: [
          {
            index: 0,
            vendor: "nvidia",
            utilPct: 3,
            memUsedMb: 1,
            memTotalMb: 2,
            powerW: null,
            tempC: null,
          },
          {
            index: 1,
            vendor: "nvidia",
            utilPct: 45,
            memUsedMb: 1,
            memTotalMb: 2,
            powerW: null,
            tempC: null,
          },
        ],
      });
      const result = await evaluateIdleGate(store, idle, NOW);
      expect(result.idle).toBe(false);
      expect(result.reasons).toEqual([
        { metric: "cpu_pct", value: 35, threshold: 20 },
        { metric: "gpu1_util_pct", value: 45, threshold: 15 },
        { metric: "ram_pct", value: 72, threshold: 60 },
        { metric: "minutes_since_user_activity", value: 5, threshold: 30 },
      ]);
      expect(describeIdleGate(result)).toBe(
        "not idle: cpu_pct 35.0 ≥ 20, gpu1_util_pct 45.0 ≥ 15, ram_pct 72.0 ≥ 60, user active 5.0 min ago (< 30 min)",
      );
    });

    it("averages over the window: one busy minute among quiet ones does not fail it", async () => {
      await fill(15);
      await store.insert({ ...(await store.between(NOW, NOW + 1))[0]!, cpuPct: 90 });
      const result = await evaluateIdleGate(store, idle, NOW);
      expect(result.values.cpuPct).toBeCloseTo((14 * 4 + 90) / 15, 5);
      expect(result.idle).toBe(true);
    });

    it("counts live gateway activity newer than the last sample", async () => {
      await fill(15);
      const activity = new UserActivity();
      activity.record("chat", "qwen2.5:7b", NOW - 2 * 60_000);
      activity.record("auditor", "qwen2.5:14b", NOW - 60_000); // background: not a person
      const result = await evaluateIdleGate(store, idle, NOW, { activity });
      expect(result.reasons).toEqual([
        { metric: "minutes_since_user_activity", value: 2, threshold: 30 },
      ]);
    });

    it("answers not idle: not enough data when the window has too few samples", async () => {
      await fill(5);
      const result = await evaluateIdleGate(store, idle, NOW);
      expect(result.idle).toBe(false);
      expect(result.reasons).toBe("not enough data");
      expect(describeIdleGate(result)).toBe(
        "not idle: not enough data (5 of 15 expected samples in the window)",
      );
    });

    it("expects fewer samples when sampling is slower", async () => {
      for (let i = 0; i < 3; i++) await store.insert({ ...sampleAt(NOW - i * 300_000) });
      expect((await evaluateIdleGate(store, idle, NOW, { intervalS: 300 })).idle).toBe(true);
      expect((await evaluateIdleGate(store, idle, NOW)).reasons).toBe("not enough data");
    });

    it("prints the answer from the command line, and the numbers with --json", async () => {
      await fill(15, { cpuPct: 50 });
      const now = Date.now();
      // The command judges the real now, so the same history is written ending now.
      await store.insertMany(
        (await store.between(0, NOW + 1)).map((s) => ({ ...s, ts: s.ts - NOW + now })),
      );
      const run = (...args: string[]) =>
        spawnSync(process.execPath, [...CLI, "monitor", "idle", ...args], {
          env: { ...process.env, NIGHTSHIFT_HOME: home },
          encoding: "utf8",
        });
      const text = run();
      expect(text.status).toBe(0);
      expect(text.stdout.split("\n")[0]).toBe("not idle: cpu_pct 50.0 ≥ 20");
      const json = JSON.parse(run("--json").stdout);
      expect(json.idle).toBe(false);
      expect(json.reasons).toEqual([{ metric: "cpu_pct", value: 50, threshold: 20 }]);
      expect(json.values.gpus).toEqual([
        { index: 0, util_pct: 0 },
        { index: 1, util_pct: 1 },
      ]);
    });
  });
}

function sampleAt(ts: number): MonitorSample {
  return {
    ts,
    cpuPct: 2,
    ramPct: 20,
    ramUsedMb: 1000,
    diskReadBps: null,
    diskWriteBps: null,
    userActive: null,
    lastActiveAt: null,
    gpus: [],
    source: "sampler",
  };
}
