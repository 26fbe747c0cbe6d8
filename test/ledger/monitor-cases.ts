import { afterEach, describe, expect, it } from "vitest";
import { NightshiftError } from "../../src/errors.js";
import {
  HOUR_MS,
  type LedgerStores,
  type MonitorSample,
  type MonitorStore,
  type RollupRow,
} from "../../src/ledger/stores/index.js";

const T0 = Date.parse("2026-03-02T08:00:00Z");

export function sample(ts: number, over: Partial<MonitorSample> = {}): MonitorSample {
  return {
    ts,
    cpuPct: 12.5,
    ramPct: 40.25,
    ramUsedMb: 6553.6,
    diskReadBps: 1024,
    diskWriteBps: 2048.5,
    userActive: false,
    lastActiveAt: null,
    gpus: [
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
        vendor: "amd",
        utilPct: null,
        memUsedMb: null,
        memTotalMb: null,
        powerW: null,
        tempC: null,
      },
    ],
    source: "sampler",
    ...over,
  };
}

function rollup(hour: number, metric: string, avg: number | null, gpu = -1): RollupRow {
  return { hour, metric, gpu, samples: 60, avg, max: avg, p95: avg };
}

export interface MonitorEngine {
  /** A ledger whose monitor history is empty: a fresh file, or a fresh host in one database. */
  open(): Promise<LedgerStores>;
  /** Two daemons on two machines sharing one database (two pools), when the engine can. */
  openMachines?: () => Promise<[LedgerStores, LedgerStores]>;
}

/**
 * The monitor store's contract: every engine behind MonitorStore passes these same cases
 * (test/ledger/monitor-contract.test.ts runs them on SQLite and on PostgreSQL).
 */
export function monitorContract(engine: MonitorEngine): void {
  const opened: LedgerStores[] = [];
  const open = async () => {
    const ledger = await engine.open();
    opened.push(ledger);
    return ledger.monitor;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((l) => l.close()));
  });

  it("reads back every field of a sample, its GPUs in index order, nulls as nulls", async () => {
    const store = await open();
    const written = sample(T0, { userActive: true, lastActiveAt: T0 - 5000, source: "import" });
    await store.insert(written);
    await store.insert(sample(T0 + 60_000, { userActive: null, cpuPct: null, gpus: [] }));
    expect(await store.between(T0, T0 + 1)).toEqual([written]);
    const [, second] = await store.between(T0, T0 + 120_000);
    expect(second).toMatchObject({ userActive: null, cpuPct: null, gpus: [] });
    expect(await store.latest()).toEqual(second);
    expect(await store.latest(T0 + 60_000)).toEqual(written);
    expect(await store.latest(T0)).toBeUndefined();
    expect(await store.count()).toBe(2);
    expect(await store.count(T0 + 1)).toBe(1);
    expect(await store.range()).toEqual({ oldest: T0, newest: T0 + 60_000 });
  });

  it("replaces a sample at the same time, GPU rows included, instead of doubling it", async () => {
    const store = await open();
    await store.insert(sample(T0));
    const again = sample(T0, { cpuPct: 99, gpus: [sample(T0).gpus[0]!] });
    await store.insertMany([again]);
    expect(await store.between(0, Number.MAX_SAFE_INTEGER)).toEqual([again]);
  });

  it("stores a large batch in one call, the last of two samples at one time winning", async () => {
    const store = await open();
    const batch = Array.from({ length: 12_001 }, (_, i) =>
      sample(T0 + i * 1000, { cpuPct: i % 100 }),
    );
    batch.push(sample(T0, { cpuPct: 77 }));
    await store.insertMany(batch);
    expect(await store.count()).toBe(12_001);
    const [first] = await store.between(T0, T0 + 1);
    expect(first?.cpuPct).toBe(77);
    expect((await store.between(T0 + 12_000_000, T0 + 12_000_001))[0]?.gpus).toHaveLength(2);
  });

  it("writes a batch all or nothing: one refused sample leaves none of them", async () => {
    const store = await open();
    const bad = sample(T0 + 2000, { source: "elsewhere" as MonitorSample["source"] });
    await expect(store.insertMany([sample(T0), sample(T0 + 1000), bad])).rejects.toThrow();
    expect(await store.count()).toBe(0);
    expect(await store.range()).toBeNull();
  });

  it("finds the latest user activity before a time from active samples and noted activity", async () => {
    const store = await open();
    expect(await store.lastActivityBefore(T0)).toBeNull();
    await store.insertMany([
      sample(T0, { userActive: true }),
      sample(T0 + 60_000, { lastActiveAt: T0 + 90_000 }),
      sample(T0 + 120_000),
    ]);
    expect(await store.lastActivityBefore(T0)).toBeNull();
    expect(await store.lastActivityBefore(T0 + 1)).toBe(T0);
    // Noted activity later than the sample's own time is capped at `before`.
    expect(await store.lastActivityBefore(T0 + 60_001)).toBe(T0 + 60_001);
    expect(await store.lastActivityBefore(T0 + 200_000)).toBe(T0 + 90_000);
  });

  it("keeps hourly rollups: rewritten by key, read by range and metric, idle shares by hour", async () => {
    const store = await open();
    const h = T0;
    await store.upsertRollups([rollup(h, "cpu_pct", 10), rollup(h, "idle", 0.5)]);
    await store.upsertRollups([
      rollup(h, "idle", 0.75),
      rollup(h + HOUR_MS, "idle", null),
      rollup(h + 2 * HOUR_MS, "idle", 1),
      rollup(h, "gpu_util_pct", 3, 0),
    ]);
    expect((await store.rollups(h, h + HOUR_MS)).map((r) => [r.metric, r.gpu, r.avg])).toEqual([
      ["cpu_pct", -1, 10],
      ["gpu_util_pct", 0, 3],
      ["idle", -1, 0.75],
    ]);
    expect(await store.rollups(h, h + 3 * HOUR_MS, "idle")).toEqual([
      rollup(h, "idle", 0.75),
      rollup(h + HOUR_MS, "idle", null),
      rollup(h + 2 * HOUR_MS, "idle", 1),
    ]);
    expect(await store.idleFractions(h, h + 3 * HOUR_MS)).toEqual([
      { hour: h, idleFraction: 0.75 },
      { hour: h + 2 * HOUR_MS, idleFraction: 1 },
    ]);
    expect(await store.latestRollupHour("idle")).toBe(h + 2 * HOUR_MS);
    expect(await store.latestRollupHour("no_such_metric")).toBeNull();
  });

  it("lists the hours holding raw samples, and those without a rollup yet", async () => {
    const store = await open();
    await store.insertMany([
      sample(T0 + 10),
      sample(T0 + HOUR_MS + 10),
      sample(T0 + HOUR_MS + 20),
      sample(T0 + 3 * HOUR_MS),
    ]);
    await store.upsertRollups([rollup(T0 + HOUR_MS, "idle", 1), rollup(T0, "cpu_pct", 1)]);
    expect(await store.rawHours(T0 + 4 * HOUR_MS)).toEqual([T0, T0 + HOUR_MS, T0 + 3 * HOUR_MS]);
    expect(await store.rawHours(T0 + 3 * HOUR_MS, T0 + 11)).toEqual([T0 + HOUR_MS]);
    expect(await store.hoursWithoutRollup("idle", T0 + 4 * HOUR_MS)).toEqual([
      T0,
      T0 + 3 * HOUR_MS,
    ]);
    expect(await store.hoursWithoutRollup("idle", T0 + 3 * HOUR_MS, T0 + HOUR_MS)).toEqual([]);
  });

  it("deletes one hour's raw samples with their GPU rows, and nothing else", async () => {
    const store = await open();
    await store.insertMany([sample(T0 - 1), sample(T0), sample(T0 + 59_000), sample(T0 + HOUR_MS)]);
    expect(await store.deleteRawHour(T0)).toBe(2);
    expect((await store.between(0, Number.MAX_SAFE_INTEGER)).map((s) => s.ts)).toEqual([
      T0 - 1,
      T0 + HOUR_MS,
    ]);
    // The GPU rows went with them: the same times can be written again from scratch.
    await store.insert(sample(T0, { gpus: [] }));
    expect((await store.between(T0, T0 + 1))[0]?.gpus).toEqual([]);
    expect(await store.deleteRawHour(T0 - HOUR_MS * 5)).toBe(0);
  });

  it("commits a transaction's writes together, and leaves nothing of one that throws", async () => {
    const store = await open();
    const seen = await store.transaction(async (tx) => {
      await tx.insertMany([sample(T0), sample(T0 + 1000)]);
      await tx.upsertRollups([rollup(T0, "idle", 0.5)]);
      return (await tx.between(T0, T0 + 2000)).length;
    });
    expect(seen).toBe(2);
    expect(await store.count()).toBe(2);
    await expect(
      store.transaction(async (tx) => {
        await tx.insert(sample(T0 + 5000));
        await tx.upsertRollups([rollup(T0, "idle", 0.9)]);
        expect(await tx.count()).toBe(3);
        throw new NightshiftError("the file changed");
      }),
    ).rejects.toThrow("the file changed");
    expect(await store.count()).toBe(2);
    expect((await store.rollups(T0, T0 + 1, "idle"))[0]?.avg).toBe(0.5);
  });

  it("stores this machine's quiet-hours profile and reads it back", async () => {
    const store = await open();
    expect(await store.quietHoursProfile()).toBeUndefined();
    const profile = {
      ready: true,
      windows: [{ label: "Mon 01:00–06:00" }],
      probabilities: [[0.5, null]],
    };
    await store.saveQuietHoursProfile(profile, T0);
    await store.saveQuietHoursProfile({ ...profile, ready: false }, T0 + 1);
    expect(await store.quietHoursProfile()).toEqual({ ...profile, ready: false });
  });

  if (engine.openMachines) {
    describeTwoMachines(engine.openMachines, opened);
  } else {
    it("holds one machine's history and says so when asked for another's", async () => {
      const store = await open();
      expect(store.forHost(store.host)).toBe(store);
      expect(() => store.forHost("other-box")).toThrow(/one machine's monitor history.*PostgreSQL/);
      expect(await store.hosts()).toEqual([]);
      await store.insert(sample(T0));
      expect(await store.hosts()).toEqual([store.host]);
    });
  }
}

function describeTwoMachines(
  openMachines: () => Promise<[LedgerStores, LedgerStores]>,
  opened: LedgerStores[],
): void {
  const machines = async (): Promise<[MonitorStore, MonitorStore]> => {
    const pair = await openMachines();
    opened.push(...pair);
    return [pair[0].monitor, pair[1].monitor];
  };

  describe("two machines sharing one ledger", () => {
    it("keeps each machine's samples apart, at the same instants", async () => {
      const [a, b] = await machines();
      expect(a.host).not.toBe(b.host);
      await a.insertMany([sample(T0, { cpuPct: 1 }), sample(T0 + 60_000, { userActive: true })]);
      await b.insertMany([sample(T0, { cpuPct: 2, gpus: [] })]);
      expect((await a.between(T0, T0 + 1))[0]?.cpuPct).toBe(1);
      expect(await b.between(T0, T0 + HOUR_MS)).toEqual([sample(T0, { cpuPct: 2, gpus: [] })]);
      expect(await a.count()).toBe(2);
      expect(await b.count()).toBe(1);
      expect(await b.lastActivityBefore(T0 + HOUR_MS)).toBeNull();
      expect(await a.lastActivityBefore(T0 + HOUR_MS)).toBe(T0 + 60_000);
      expect(await b.range()).toEqual({ oldest: T0, newest: T0 });
      // Each reads the other through forHost; both are listed.
      expect((await a.forHost(b.host).between(T0, T0 + 1))[0]?.cpuPct).toBe(2);
      expect(await a.hosts()).toEqual(expect.arrayContaining([a.host, b.host]));
    });

    it("rolls up, prunes and keeps quiet hours per machine", async () => {
      const [a, b] = await machines();
      await a.insertMany([sample(T0), sample(T0 + 60_000)]);
      await b.insertMany([sample(T0 + 30_000)]);
      await a.upsertRollups([rollup(T0, "idle", 1)]);
      expect(await b.hoursWithoutRollup("idle", T0 + HOUR_MS)).toEqual([T0]);
      expect(await b.idleFractions(0, Number.MAX_SAFE_INTEGER)).toEqual([]);
      expect(await b.latestRollupHour("idle")).toBeNull();
      await b.upsertRollups([rollup(T0, "idle", 0.25)]);
      expect((await a.rollups(T0, T0 + 1, "idle"))[0]?.avg).toBe(1);
      expect(await b.deleteRawHour(T0)).toBe(1);
      expect(await a.count()).toBe(2);
      await a.saveQuietHoursProfile({ owner: "a" }, T0);
      expect(await b.quietHoursProfile()).toBeUndefined();
      await b.saveQuietHoursProfile({ owner: "b" }, T0);
      expect(await a.quietHoursProfile()).toEqual({ owner: "a" });
    });

    it("refuses a host name that is no name, before it reaches the database", async () => {
      const [a] = await machines();
      expect(() => a.forHost("")).toThrow(/monitor.host/);
      expect(() => a.forHost("bad\u0000name")).toThrow(/printable/);
    });
  });
}

export const CONTRACT_T0 = T0;
