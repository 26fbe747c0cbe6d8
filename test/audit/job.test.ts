import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createAuditJob } from "../../src/audit/job.js";
import { ManualClock } from "../../src/clock.js";
import { type Config, parseConfig } from "../../src/config.js";
import type { Ledger } from "../../src/ledger/ledger.js";
import { SqliteSchedulerStore } from "../../src/ledger/sqlite/scheduler.js";
import { sqliteStoresOf } from "../../src/ledger/sqlite/stores-of.js";
import { Scheduler } from "../../src/scheduler/scheduler.js";
import { jobDependencies, SyntheticMonitor } from "../scheduler/harness.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { tempLedger } from "../support/temp-ledger.js";
import { reviewerScript } from "./reviewer-script.js";
import { chatAction, DAY, HOUR, insertStages } from "./seed.js";

const NOW = Date.parse("2026-03-10T03:00:00Z");

describe("the audit job under the scheduler", () => {
  let ledger: Ledger;
  let cleanup: () => void;
  let upstream: ScriptedUpstream;
  let clock: ManualClock;
  let config: Config;

  beforeEach(async () => {
    ({ ledger, cleanup } = tempLedger());
    upstream = await startScriptedUpstream({ models: ["qwen2.5:14b", "qwen2.5:7b"] });
    clock = new ManualClock(NOW);
    config = parseConfig({
      models: {
        auditor: { model: "qwen2.5:14b", url: upstream.url, context_window: 32768, gpu: 1 },
        "auditor-small": { model: "qwen2.5:7b", url: upstream.url },
      },
      audit: { sample_rate: 0, batch_max_items: 2 },
    });
  });
  afterEach(async () => {
    await upstream.close();
    cleanup();
  });

  function scheduler(): { scheduler: Scheduler; store: SqliteSchedulerStore } {
    const store = new SqliteSchedulerStore(ledger.db);
    const job = createAuditJob()(jobDependencies({ ledger, config, clock, home: "/nonexistent" }));
    const monitor = new SyntheticMonitor(config);
    const s = new Scheduler({
      store,
      config,
      clock,
      jobs: [job],
      idleGate: monitor.idleGate,
      quietWindow: monitor.quietWindow,
      models: null,
      warn: () => {},
    });
    return { scheduler: s, store };
  }

  it("declares its conditions: 12 h apart, 100 actions of backlog, the reviewer's model and GPU", async () => {
    ledger.actions.insert(Array.from({ length: 30 }, (_, i) => chatAction("chat", NOW - i * HOUR)));
    ledger.actions.insert([chatAction("auditor", NOW - HOUR), chatAction("chat", NOW - 8 * DAY)]);
    const job = createAuditJob()(jobDependencies({ ledger, config, clock, home: "/nonexistent" }));
    expect(job.name).toBe("audit");
    expect(job.defaults).toMatchObject({
      requiresIdle: true,
      minIntervalH: 12,
      minBacklog: 100,
      gpu: 1,
      models: ["qwen2.5:14b"],
      degradedModels: ["qwen2.5:7b"],
    });
    expect(await job.backlog!(NOW + 1)).toEqual({ count: 30 });
    const { scheduler: s } = scheduler();
    const [status] = await s.status("audit");
    expect(status!.assessment.runnable).toBe(false);
    expect(status!.assessment.blockers.map((b) => b.condition)).toContain("backlog");
  });

  it("pauses at a batch boundary when asked and resumes where it stopped", async () => {
    const at = NOW - DAY;
    const items = insertStages(
      ledger,
      Array.from({ length: 6 }, (_, i) => ({
        input: { merchant: `m${i}` },
        output: { category: "x" },
        at: at + i * HOUR,
        flags: ["low_confidence"],
      })),
    );
    const { scheduler: s, store } = scheduler();
    let stopping: Promise<void> | undefined;
    const reviewer = reviewerScript(() => ({ verdict: "correct", confidence: 0.9 }));
    upstream.setScript((request) => {
      // The user comes back while the second batch is with the reviewer.
      if (reviewer.calls.length === 1) stopping = s.stop("the user is back");
      return reviewer.script(request);
    });

    const first = await s.runNow("audit", { force: true });
    await stopping;
    expect(first.status).toBe("paused");
    const audit = sqliteStoresOf(ledger).audit;
    const run = (await audit.latestRun())!;
    expect(run).toMatchObject({ status: "paused", nextBatch: 2, batches: 3 });
    expect((await store.getRun(first.runId!))?.checkpoint).toMatchObject({
      run_id: run.id,
      next_batch: 2,
    });

    const second = await s.runNow("audit", { force: true });
    expect(second).toMatchObject({ status: "done", runId: first.runId });
    expect(second.summary).toMatchObject({ run_id: run.id, items: 6 });
    expect(reviewer.calls.flat().sort()).toEqual(items.map((a) => a.id).sort());
    expect(items.every((a) => ledger.actions.get(a.id)!.auditStatus === "verified")).toBe(true);
  });
});
