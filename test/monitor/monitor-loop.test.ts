import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { parseConfig } from "../../src/config.js";
import { HOUR_MS, type LedgerStores, type MonitorStore } from "../../src/ledger/stores/index.js";
import { UserActivity } from "../../src/monitor/activity.js";
import { startMonitor } from "../../src/monitor/monitor.js";
import { MONITOR_ENGINES, type MonitorHome } from "./engines.js";

// A fake /proc whose counters the test moves, so the sampled numbers are known exactly.
let proc: string;
const homes: MonitorHome[] = [];
beforeEach(() => {
  proc = mkdtempSync(join(tmpdir(), "nightshift-proc-"));
  mkdirSync(join(proc, "sys"));
  writeProc(0);
});
afterEach(async () => {
  await Promise.all(homes.splice(0).map((h) => h.cleanup()));
  rmSync(proc, { recursive: true, force: true });
});

/** After `minutes` minutes of a machine 25 % busy, writing 1 MiB/s to sda. */
function writeProc(minutes: number): void {
  const busy = minutes * 60 * 100 * 0.25;
  const idle = minutes * 60 * 100 * 0.75;
  writeFileSync(join(proc, "stat"), `cpu  ${1000 + busy} 0 0 ${5000 + idle} 0 0 0 0 0 0\n`);
  writeFileSync(
    join(proc, "meminfo"),
    "MemTotal:       16384000 kB\nMemFree:         1000000 kB\nMemAvailable:   12288000 kB\n",
  );
  const sectors = minutes * 60 * 2048;
  writeFileSync(
    join(proc, "diskstats"),
    `   8       0 sda 100 0 800 0 100 0 ${800 + sectors} 0 0 0 0 0 0 0 0 0 0\n   8       1 sda1 100 0 800 0 100 0 ${800 + sectors} 0 0 0 0 0 0 0 0 0 0\n`,
  );
}

const config = parseConfig({ monitor: { nvidia_smi: false, rocm_smi: false, logind: false } });

function loop(store: MonitorStore, clock: ManualClock, activity?: UserActivity) {
  return startMonitor({
    store,
    config,
    clock,
    activity,
    procRoot: proc,
    sysRoot: join(proc, "sys"),
    log: (m) => {
      throw new Error(`unexpected warning: ${m}`);
    },
  });
}

for (const engine of MONITOR_ENGINES) {
  describe.skipIf(!engine.available)(`the sampling loop on ${engine.name}`, () => {
    const open = async (): Promise<LedgerStores> => {
      const home = await engine.open();
      homes.push(home);
      return home.stores;
    };

    it("stores a sample every interval, with user activity from the gateway", async () => {
      const store = (await open()).monitor;
      const clock = new ManualClock(Date.parse("2026-01-05T10:57:30Z"));
      const activity = new UserActivity();
      const monitor = loop(store, clock, activity);
      await monitor.ready;
      for (let minute = 1; minute <= 4; minute++) {
        writeProc(minute);
        if (minute === 2) activity.record("chat", "qwen2.5:7b", clock.now() + 30_000);
        await clock.advance(60_000);
        await vi.waitFor(() => expect(monitor.samplesTaken()).toBe(minute), { timeout: 30_000 });
      }
      await monitor.stop();
      const samples = await store.between(0, Number.MAX_SAFE_INTEGER);
      expect(samples).toHaveLength(4);
      expect(samples.map((s) => s.cpuPct)).toEqual([25, 25, 25, 25]);
      expect(samples.map((s) => s.ramPct)).toEqual([25, 25, 25, 25]);
      // Partitions are not counted twice: 1 MiB/s on sda alone.
      expect(samples.map((s) => s.diskWriteBps)).toEqual([1048576, 1048576, 1048576, 1048576]);
      expect(samples.map((s) => s.userActive)).toEqual([false, true, false, false]);
      // 11:00 passed before the 3rd sample (11:00:30): the 10:00 hour is rolled up, 2 samples.
      const hour = Date.parse("2026-01-05T10:00:00Z");
      const cpu = await store.rollups(hour, hour + HOUR_MS, "cpu_pct");
      expect(cpu.map((r) => [r.samples, r.avg])).toEqual([[2, 25]]);
    });
  });
}

describe.skipIf(!MONITOR_ENGINES[1]!.available)(
  "two machines' sampling loops on one PostgreSQL ledger",
  () => {
    it("roll up each machine's hours from its own samples only", async () => {
      const engine = MONITOR_ENGINES[1]!;
      const [a, b] = await Promise.all([engine.open(), engine.open()]);
      homes.push(a, b);
      // Both machines start before 11:00; b samples every minute at :15, a at :45.
      const clockA = new ManualClock(Date.parse("2026-01-05T10:56:45Z"));
      const clockB = new ManualClock(Date.parse("2026-01-05T10:57:15Z"));
      const loopA = loop(a.stores.monitor, clockA);
      const loopB = loop(b.stores.monitor, clockB);
      await Promise.all([loopA.ready, loopB.ready]);
      for (let minute = 1; minute <= 5; minute++) {
        writeProc(minute);
        await Promise.all([clockA.advance(60_000), clockB.advance(60_000)]);
        await vi.waitFor(
          () => {
            expect(loopA.samplesTaken()).toBe(minute);
            expect(loopB.samplesTaken()).toBe(minute);
          },
          { timeout: 30_000 },
        );
      }
      await Promise.all([loopA.stop(), loopB.stop()]);
      const hour = Date.parse("2026-01-05T10:00:00Z");
      const cpuSamples = async (store: MonitorStore) =>
        (await store.rollups(hour, hour + 1, "cpu_pct")).map((r) => r.samples);
      // a: 10:57:45, 10:58:45, 10:59:45 in the 10:00 hour; b: 10:58:15, 10:59:15.
      expect(await cpuSamples(a.stores.monitor)).toEqual([3]);
      expect(await cpuSamples(b.stores.monitor)).toEqual([2]);
      expect(await a.stores.monitor.count()).toBe(5);
      expect(await b.stores.monitor.count()).toBe(5);
      expect(await a.stores.monitor.hoursWithoutRollup("idle", hour + HOUR_MS)).toEqual([]);
    });
  },
);
