import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { parseConfig } from "../../src/config.js";
import type { Ledger } from "../../src/ledger/ledger.js";
import { SqliteActionLedger } from "../../src/ledger/sqlite/action-ledger.js";
import type { MonitorSample } from "../../src/ledger/stores/index.js";
import { retentionJob } from "../../src/retention/job.js";
import type { JobContext } from "../../src/scheduler/job.js";
import { jobDependencies } from "../scheduler/harness.js";
import { tempLedger } from "../support/temp-ledger.js";
import { DAY_MS, NOW, retentionOf, seed } from "./seed.js";

let ledger: Ledger;
let home: string;
let cleanup: () => void;
beforeEach(() => {
  ({ ledger, home, cleanup } = tempLedger());
});
afterEach(() => cleanup());

function context(
  overrides: Partial<JobContext> = {},
): JobContext & { saved: unknown[]; lines: string[] } {
  const saved: unknown[] = [];
  const lines: string[] = [];
  return {
    job: "retention",
    runId: "run-1",
    mode: "normal",
    checkpoint: null,
    saveCheckpoint: async (state) => {
      saved.push(structuredClone(state));
    },
    shouldPause: () => false,
    signal: new AbortController().signal,
    gpu: null,
    models: [],
    log: (line) => lines.push(line),
    saved,
    lines,
    ...overrides,
  };
}

function sample(ts: number): MonitorSample {
  return {
    ts,
    cpuPct: 5,
    ramPct: 30,
    ramUsedMb: 4000,
    diskReadBps: 0,
    diskWriteBps: 0,
    userActive: false,
    lastActiveAt: null,
    gpus: [],
    source: "sampler",
  };
}

describe("the retention job", () => {
  it("runs weekly by default, biweekly when configured, and only when the machine is idle", () => {
    const clock = new ManualClock(NOW);
    const weekly = retentionJob(jobDependencies({ ledger, config: parseConfig({}), clock, home }));
    expect(weekly).toMatchObject({
      name: "retention",
      defaults: { minIntervalH: 168, requiresIdle: true },
    });
    const biweekly = retentionJob(
      jobDependencies({
        ledger,
        config: parseConfig({ retention: { every_days: 14 } }),
        clock,
        home,
      }),
    );
    expect(biweekly.defaults.minIntervalH).toBe(336);
  });

  it("prunes the ledger, rolls up old resource samples, and reports what moved", async () => {
    seed(ledger, [
      { ageDays: 20, status: "verified" },
      { ageDays: 120, status: "passed" },
      { ageDays: 120, status: null },
    ]);
    const monitor = new SqliteActionLedger(ledger, false).monitor;
    const old = Date.parse("2026-02-01T10:00:00Z"); // older than raw_retention_days (90)
    await monitor.insertMany(Array.from({ length: 10 }, (_, i) => sample(old + i * 60_000)));
    await monitor.insert(sample(NOW - DAY_MS));
    const job = retentionJob(
      jobDependencies({
        ledger,
        config: parseConfig({}),
        clock: new ManualClock(NOW),
        home,
      }),
    );
    const ctx = context();
    const outcome = await job.run(ctx);
    expect(outcome).toMatchObject({
      status: "done",
      summary: { compressed: 1, aggregated: 1, kept: { unaudited: 1, flagged: 0, in_review: 0 } },
    });
    expect(await monitor.count()).toBe(1); // the raw samples of February became rollups
    expect((await monitor.rollups(old - 3_600_000, old + 3_600_000)).length).toBeGreaterThan(0);
    expect(ctx.saved.at(-1)).toMatchObject({ now: NOW, totals: { compressed: 1, aggregated: 1 } });
    expect(ctx.lines.some((line) => line.startsWith("compress: 100%"))).toBe(true);
  });

  it("pauses between transactions when the scheduler asks and resumes the same run later", async () => {
    seed(
      ledger,
      Array.from({ length: 1200 }, () => ({ ageDays: 30, status: "verified" as const })),
    );
    const clock = new ManualClock(NOW);
    const config = parseConfig({});
    const first = context({ shouldPause: () => true });
    expect(await retentionJob(jobDependencies({ ledger, config, clock, home })).run(first)).toEqual(
      {
        status: "paused",
      },
    );
    const checkpoint = first.saved.at(-1) as { pruneRunId: string; totals: { compressed: number } };
    expect(checkpoint.totals.compressed).toBeGreaterThan(0);
    expect(checkpoint.totals.compressed).toBeLessThan(1200);

    // days later the run resumes with the cutoffs it started with
    await clock.advance(3 * DAY_MS);
    const second = context({ checkpoint });
    const outcome = await retentionJob(jobDependencies({ ledger, config, clock, home })).run(
      second,
    );
    expect(outcome).toMatchObject({
      status: "done",
      summary: { compressed: 1200, run_id: checkpoint.pruneRunId },
    });
    const runs = await retentionOf(ledger).runs();
    expect(runs.map((run) => [run.id, run.status])).toEqual([[checkpoint.pruneRunId, "done"]]);
  });
});
