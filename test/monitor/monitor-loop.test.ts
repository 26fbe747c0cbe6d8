import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { parseConfig } from "../../src/config.js";
import { HOUR_MS, MonitorStore } from "../../src/ledger/monitor-store.js";
import { UserActivity } from "../../src/monitor/activity.js";
import { startMonitor } from "../../src/monitor/monitor.js";
import { tempLedger } from "../support/temp-ledger.js";

// A fake /proc whose counters the test moves, so the sampled numbers are known exactly.
let proc: string;
let store: MonitorStore;
let cleanup: () => void;
beforeEach(() => {
  const temp = tempLedger();
  store = new MonitorStore(temp.ledger.db);
  proc = mkdtempSync(join(tmpdir(), "nightshift-proc-"));
  mkdirSync(join(proc, "sys"));
  cleanup = () => {
    rmSync(proc, { recursive: true, force: true });
    temp.cleanup();
  };
  writeProc(0);
});
afterEach(() => cleanup());

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

describe("the sampling loop", () => {
  it("stores a sample every interval, with user activity from the gateway", async () => {
    const clock = new ManualClock(Date.parse("2026-01-05T10:57:30Z"));
    const activity = new UserActivity();
    const config = parseConfig({ monitor: { nvidia_smi: false, rocm_smi: false, logind: false } });
    const monitor = startMonitor({
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
    await monitor.ready;
    for (let minute = 1; minute <= 4; minute++) {
      writeProc(minute);
      if (minute === 2) activity.record("chat", "qwen2.5:7b", clock.now() + 30_000);
      await clock.advance(60_000);
      await vi.waitFor(() => expect(monitor.samplesTaken()).toBe(minute));
    }
    await monitor.stop();
    const samples = store.between(0, Number.MAX_SAFE_INTEGER);
    expect(samples).toHaveLength(4);
    expect(samples.map((s) => s.cpuPct)).toEqual([25, 25, 25, 25]);
    expect(samples.map((s) => s.ramPct)).toEqual([25, 25, 25, 25]);
    // Partitions are not counted twice: 1 MiB/s on sda alone.
    expect(samples.map((s) => s.diskWriteBps)).toEqual([1048576, 1048576, 1048576, 1048576]);
    expect(samples.map((s) => s.userActive)).toEqual([false, true, false, false]);
    // 11:00 passed before the 3rd sample (11:00:30): the 10:00 hour is rolled up, 2 samples.
    const hour = Date.parse("2026-01-05T10:00:00Z");
    const cpu = store.rollups(hour, hour + HOUR_MS, "cpu_pct");
    expect(cpu.map((r) => [r.samples, r.avg])).toEqual([[2, 25]]);
  });
});
