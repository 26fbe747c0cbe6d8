import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { Sampler } from "../../src/monitor/sampler.js";
import {
  lastActivityFromSessions,
  parseSessionList,
  parseShowSession,
} from "../../src/monitor/sources/logind.js";
import { parseNvidiaSmiCsv } from "../../src/monitor/sources/nvidia-smi.js";
import {
  cpuPercent,
  diskRates,
  isWholeDisk,
  parseDiskstats,
  parseMeminfo,
  parseProcStat,
} from "../../src/monitor/sources/procfs.js";
import { parseRocmSmiJson } from "../../src/monitor/sources/rocm-smi.js";

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/monitor/${name}`, import.meta.url), "utf8");

describe("procfs parsers", () => {
  it("computes CPU busy % from two /proc/stat readings, counting iowait as idle", () => {
    const a = parseProcStat(fixture("stat-a.txt"));
    const b = parseProcStat(fixture("stat-b.txt"));
    expect(a).toEqual({ total: 3_728_250, idle: 3_722_221 });
    expect(cpuPercent(a, b)).toBeCloseTo(66.667, 2);
    expect(cpuPercent(b, b)).toBeNull();
  });

  it("reads this machine's saved /proc/stat, /proc/meminfo and /proc/diskstats", () => {
    const cpu = parseProcStat(fixture("proc-stat-this-machine.txt"));
    expect(cpu.total).toBeGreaterThan(cpu.idle);
    const mem = parseMeminfo(fixture("meminfo-this-machine.txt"));
    expect(mem.totalMb).toBeGreaterThan(100);
    expect(mem.usedMb).toBeGreaterThan(0);
    expect(mem.usedPct).toBeGreaterThan(0);
    expect(mem.usedPct).toBeLessThan(100);
    const disks = parseDiskstats(fixture("diskstats-this-machine.txt"));
    expect(disks.map((d) => d.name)).toContain("vda");
    expect(disks.filter((d) => isWholeDisk(d.name)).map((d) => d.name)).toEqual(["vda"]);
  });

  it("takes RAM used as MemTotal − MemAvailable, and free + cache on kernels without it", () => {
    const text = "MemTotal: 16000000 kB\nMemFree: 1000000 kB\nMemAvailable: 12000000 kB\n";
    const mem = parseMeminfo(text);
    expect(mem.usedPct).toBeCloseTo(25, 5);
    expect(mem.usedMb).toBeCloseTo(4_000_000 / 1024, 5);
    const old = parseMeminfo(fixture("meminfo-old-kernel.txt"));
    expect(old.usedMb).toBeCloseTo(4_030_760 / 1024, 3);
    expect(old.usedPct).toBeCloseTo(50.025, 2);
  });

  it("sums disk bytes/s over whole disks only: no partitions, dm, md, loop or zram", () => {
    const a = parseDiskstats(fixture("diskstats-multi-a.txt"));
    const b = parseDiskstats(fixture("diskstats-multi-b.txt"));
    const whole = b.filter((d) => isWholeDisk(d.name)).map((d) => d.name);
    expect(whole).toEqual(["sda", "sdb", "nvme0n1"]);
    // sda +12000 and nvme0n1 +120000 sectors each way, 512 bytes a sector, over 60 s.
    expect(diskRates(a, b, 60_000)).toEqual({ readBps: 1_126_400, writeBps: 1_126_400 });
    // With /sys/block's list as the authority, only those count.
    expect(diskRates(a, b, 60_000, new Set(["sda"]))).toEqual({
      readBps: 102_400,
      writeBps: 102_400,
    });
  });

  it("never reports negative rates when a disk's counters restart", () => {
    const a = parseDiskstats(fixture("diskstats-multi-b.txt"));
    const b = parseDiskstats(fixture("diskstats-multi-a.txt"));
    expect(diskRates(a, b, 60_000)).toEqual({ readBps: 0, writeBps: 0 });
  });
});

describe("GPU tool parsers", () => {
  it("reads nvidia-smi CSV for several GPUs", () => {
    expect(parseNvidiaSmiCsv(fixture("nvidia-smi-two-gpus.csv"))).toEqual([
      {
        index: 0,
        vendor: "nvidia",
        utilPct: 3,
        memUsedMb: 1187,
        memTotalMb: 24564,
        powerW: 28.47,
        tempC: 41,
      },
      {
        index: 1,
        vendor: "nvidia",
        utilPct: 97,
        memUsedMb: 22016,
        memTotalMb: 24564,
        powerW: 301.12,
        tempC: 78,
      },
    ]);
  });

  it('turns "[N/A]" fields into null, not zero', () => {
    const gpus = parseNvidiaSmiCsv(fixture("nvidia-smi-na.csv"));
    expect(gpus).toHaveLength(3);
    expect(gpus[0]).toMatchObject({ index: 0, utilPct: 0, powerW: null, tempC: 34 });
    expect(gpus[1]).toMatchObject({
      index: 1,
      utilPct: null,
      memUsedMb: 15,
      powerW: null,
      tempC: null,
    });
    expect(gpus[2]).toMatchObject({ index: 2, utilPct: 62, memUsedMb: 40871, powerW: 287.9 });
  });

  it("rejects output that is not the query's CSV", () => {
    expect(() =>
      parseNvidiaSmiCsv("NVIDIA-SMI has failed because it couldn't communicate"),
    ).toThrow(/expected 6 fields/);
  });

  it("reads rocm-smi JSON across the labels of different ROCm releases", () => {
    const gpus = parseRocmSmiJson(fixture("rocm-smi.json"));
    expect(gpus).toEqual([
      {
        index: 0,
        vendor: "amd",
        utilPct: 12,
        memUsedMb: 1024,
        memTotalMb: 25753026560 / 1048576,
        powerW: 41,
        tempC: 46,
      },
      {
        index: 1,
        vendor: "amd",
        utilPct: 88,
        memUsedMb: 12288,
        memTotalMb: 16368,
        powerW: 215,
        tempC: 71,
      },
    ]);
  });
});

describe("logind parsers", () => {
  it("finds the user's last activity from the sessions' idle hints, ignoring the greeter", () => {
    const ids = parseSessionList(fixture("loginctl-list-sessions.txt"));
    expect(ids).toEqual(["2", "14", "c1"]);
    const sessions = parseShowSession(fixture("loginctl-show-session.txt"));
    expect(sessions.map((s) => [s.id, s.className, s.idleHint])).toEqual([
      ["2", "user", true],
      ["14", "user", true],
      ["c1", "greeter", false],
    ]);
    // Both user sessions idle: the later one went idle at 1764082200 s.
    expect(lastActivityFromSessions(sessions, 1_764_090_000_000)).toBe(1_764_082_200_000);
    const active = sessions.map((s) => (s.id === "14" ? { ...s, idleHint: false } : s));
    expect(lastActivityFromSessions(active, 1_764_090_000_000)).toBe(1_764_090_000_000);
  });
});

describe("sampling this machine's live /proc", () => {
  it("gives CPU %, RAM and disk rates within their ranges", async () => {
    const config = parseConfig({ monitor: { nvidia_smi: false, rocm_smi: false, logind: false } });
    const sampler = new Sampler({ config });
    const start = Date.now();
    await sampler.prime(start);
    await new Promise((resolve) => setTimeout(resolve, 250));
    const sample = await sampler.sample(Date.now());
    expect(sample.cpuPct).not.toBeNull();
    expect(sample.cpuPct!).toBeGreaterThanOrEqual(0);
    expect(sample.cpuPct!).toBeLessThanOrEqual(100);
    const total = parseMeminfo(readFileSync("/proc/meminfo", "utf8")).totalMb;
    expect(sample.ramUsedMb!).toBeGreaterThan(0);
    expect(sample.ramUsedMb!).toBeLessThan(total);
    expect(sample.ramPct!).toBeGreaterThan(0);
    expect(sample.diskReadBps!).toBeGreaterThanOrEqual(0);
    expect(sample.diskWriteBps!).toBeGreaterThanOrEqual(0);
    expect(sample.gpus).toEqual([]);
    // No activity signal is on, so activity is unknown rather than "not active".
    expect(sample.userActive).toBeNull();
  });
});
