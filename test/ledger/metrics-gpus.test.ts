import { join } from "node:path";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterAll, describe, expect, it } from "vitest";
import { Ledger } from "../../src/ledger/ledger.js";
import { PostgresActionLedger } from "../../src/ledger/postgres/action-ledger.js";
import { SqliteActionLedger } from "../../src/ledger/sqlite/action-ledger.js";
import type { GpuReading, LedgerStores, MonitorSample } from "../../src/ledger/stores/index.js";
import { Metrics } from "../../src/telemetry/metrics.js";
import { createTestDatabase, postgresUrl } from "../support/postgres-db.js";
import { tempHome } from "../support/temp-ledger.js";

const T0 = Date.parse("2026-03-04T10:00:00Z");

function sample(ts: number, gpus: Array<[number, number]>): MonitorSample {
  const readings: GpuReading[] = gpus.map(([index, utilPct]) => ({
    index,
    vendor: "nvidia",
    utilPct,
    memUsedMb: 1024,
    memTotalMb: 24576,
    powerW: 80,
    tempC: 51,
  }));
  return {
    ts,
    cpuPct: 5,
    ramPct: 30,
    ramUsedMb: 4096,
    diskReadBps: 0,
    diskWriteBps: 0,
    userActive: null,
    lastActiveAt: null,
    gpus: readings,
    source: "sampler",
  };
}

/** The GPU utilization series a scrape of `stores`' daemon exposes, as label sets and values. */
async function scrapeUtilization(stores: LedgerStores, now: number) {
  const metrics = new Metrics(stores, { now: () => now });
  const text = (await metrics.render()).body;
  const families = parsePrometheusTextFormat(text);
  const age = families.find((f) => f.name === "nightshift_gpu_sample_age_seconds")!.metrics;
  const util = families.find((f) => f.name === "nightshift_gpu_utilization_ratio")!.metrics;
  return { util, age };
}

const home = tempHome();
afterAll(() => home.cleanup());

describe("/metrics GPU readings", () => {
  it("on SQLite: the newest sample's GPUs, labelled with this machine's host", async () => {
    const ledger = new SqliteActionLedger(Ledger.open(join(home.home, "gpus.db")), true, {
      monitorHost: "gpu-box",
    });
    try {
      await ledger.monitor.insert(
        sample(T0, [
          [0, 10],
          [1, 20],
        ]),
      );
      await ledger.monitor.insert(
        sample(T0 + 60_000, [
          [0, 45],
          [1, 55],
        ]),
      );
      const { util, age } = await scrapeUtilization(ledger, T0 + 90_000);
      expect(util).toEqual([
        { value: "0.45", labels: { host: "gpu-box", gpu: "0", vendor: "nvidia" } },
        { value: "0.55", labels: { host: "gpu-box", gpu: "1", vendor: "nvidia" } },
      ]);
      expect(age.map((m) => m.value)).toEqual(["30", "30"]);
    } finally {
      await ledger.close();
    }
  });

  it.skipIf(postgresUrl === null)(
    "on PostgreSQL: each daemon its own machine's GPUs, whatever another machine sampled later",
    async () => {
      const url = await createTestDatabase("metrics_gpus");
      const a = await PostgresActionLedger.open(url, { monitorHost: "box-a", poolSize: 2 });
      const b = await PostgresActionLedger.open(url, { monitorHost: "box-b", poolSize: 2 });
      try {
        await a.monitor.insert(
          sample(T0, [
            [0, 10],
            [1, 20],
          ]),
        );
        await a.monitor.insert(
          sample(T0 + 60_000, [
            [0, 45],
            [1, 55],
          ]),
        );
        // box-b: newer samples, one GPU only: the newest across hosts would hide box-a's cards.
        await b.monitor.insert(sample(T0 + 90_000, [[0, 99]]));
        await b.monitor.insert(sample(T0 + 120_000, [[0, 70]]));

        const fromA = await scrapeUtilization(a, T0 + 150_000);
        expect(fromA.util).toEqual([
          { value: "0.45", labels: { host: "box-a", gpu: "0", vendor: "nvidia" } },
          { value: "0.55", labels: { host: "box-a", gpu: "1", vendor: "nvidia" } },
        ]);
        expect(fromA.age.map((m) => m.value)).toEqual(["90", "90"]);
        const fromB = await scrapeUtilization(b, T0 + 150_000);
        expect(fromB.util).toEqual([
          { value: "0.7", labels: { host: "box-b", gpu: "0", vendor: "nvidia" } },
        ]);
        expect(fromB.age.map((m) => m.value)).toEqual(["30"]);
      } finally {
        await a.close();
        await b.close();
      }
    },
  );
});
