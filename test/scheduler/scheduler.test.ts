import { afterEach, describe, expect, it } from "vitest";
import { leaseHolderOf } from "../../src/ledger/stores/index.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { harness, itemJob, until } from "./harness.js";

const H = 3_600_000;
let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

function setup(raw: Record<string, unknown> = {}) {
  const h = harness(raw);
  cleanups.push(h.cleanup);
  return h;
}

async function upstream(): Promise<ScriptedUpstream> {
  const server = await startScriptedUpstream();
  cleanups.push(() => server.close());
  return server;
}

describe("conditions", () => {
  it("starts a job only when idle gate, interval and backlog all hold, naming each blocker", async () => {
    const h = setup();
    const job = itemJob(h.clock, { minBacklog: 100, backlog: 40, items: 1 });
    const scheduler = h.make([job.definition]);
    h.monitor.cpuPct = 35;
    h.monitor.gpuUtil.set(0, 50);

    const [blocked] = await scheduler.evaluate();
    expect(blocked!.runnable).toBe(false);
    expect(
      blocked!.blockers.map((b) => [b.condition, b.metric ?? null, b.value, b.threshold]),
    ).toEqual([
      ["backlog", null, 40, 100],
      ["idle", "cpu_pct", 35, 20],
      ["idle", "gpu0_util_pct", 50, 15],
    ]);
    expect(scheduler.running()).toHaveLength(0);

    h.monitor.cpuPct = 4;
    h.monitor.gpuUtil.set(0, 3);
    expect((await scheduler.evaluate())[0]!.blockers.map((b) => b.condition)).toEqual(["backlog"]);
    job.definition.backlog = () => ({ count: 150 });
    const [ok] = await scheduler.evaluate();
    expect(ok!.runnable).toBe(true);
    await until(() => job.waiting);
    const run = scheduler.running()[0]!;
    await h.clock.advance(1000);
    expect((await run.finished).status).toBe("done");
    const decisions = (await h.store.decisions("work")).map((d) => d.decision);
    expect(decisions).toEqual(["done", "start", "skip", "skip"]);
  });

  it("blocks for the minimum interval after a success and reports the hours", async () => {
    const h = setup();
    const job = itemJob(h.clock, { minIntervalH: 12, items: 1 });
    const scheduler = h.make([job.definition]);
    await scheduler.evaluate();
    await until(() => job.waiting);
    await h.clock.advance(1000);
    await scheduler.settle();
    await h.clock.advance(3 * H);
    const [status] = await scheduler.status();
    expect(status!.assessment.blockers).toEqual([
      expect.objectContaining({ condition: "min_interval", value: 3, threshold: 12 }),
    ]);
    expect(status!.lastRuns[0]).toMatchObject({ status: "done", summary: { items: 1 } });
    await h.clock.advance(9 * H);
    expect((await scheduler.status())[0]!.assessment.runnable).toBe(true);
  });

  it("says not enough data, and outside the quiet window, instead of guessing", async () => {
    const h = setup();
    const job = itemJob(h.clock, { quietWindowOnly: true });
    const scheduler = h.make([job.definition]);
    h.monitor.notEnoughData = true;
    h.monitor.quiet = { inside: false, window: "Tue 01:00 – Tue 06:00" };
    const messages = (await scheduler.status())[0]!.assessment.blockers.map((b) => b.message);
    expect(messages).toEqual([
      "not idle: not enough data: 2 of 15 samples",
      "outside the learned quiet window (quiet window Tue 01:00 – Tue 06:00)",
    ]);
  });

  it("honours nightshift.yaml overrides and disabled jobs", async () => {
    const h = setup({ scheduler: { jobs: { work: { enabled: false, min_backlog: 5 } } } });
    const job = itemJob(h.clock, { backlog: 2 });
    const blockers = (await h.make([job.definition]).status())[0]!.assessment.blockers;
    expect(blockers.map((b) => b.condition)).toEqual(["enabled", "backlog"]);
  });
});

describe("out of the way", () => {
  it("pauses on an interactive request, unloads its model, releases the GPU and resumes where it stopped", async () => {
    const server = await upstream();
    const h = setup({ upstreams: { default: server.url } });
    // A day model is resident on the GPU before the night job.
    await fetch(`${server.url}/api/generate`, {
      method: "POST",
      body: JSON.stringify({ model: "qwen2.5:7b", prompt: "hi", stream: false }),
    });
    const job = itemJob(h.clock, {
      gpu: 0,
      models: ["qwen2.5:14b"],
      load: async (context) => {
        await fetch(`${server.url}/api/generate`, {
          method: "POST",
          body: JSON.stringify({ model: "qwen2.5:14b", prompt: "load", stream: false }),
          signal: context.signal,
        });
      },
    });
    const scheduler = h.make([job.definition]);
    scheduler.start();
    cleanups.push(() => scheduler.stop());
    await until(() => server.loaded.has("qwen2.5:14b"));
    expect(server.loaded.has("qwen2.5:7b")).toBe(false);
    expect(await h.store.lease(0)).toMatchObject({
      holder: expect.stringMatching(/^test-holder#/),
      job: "work",
    });

    await until(() => job.waiting);
    await h.clock.advance(3500);
    expect(job.processed).toEqual([0, 1, 2]);
    h.activity.record("auditor", "qwen2.5:14b"); // background traffic is not the user
    expect(scheduler.running()[0]!.pauseReason).toBeNull();
    h.activity.record("chat", "qwen2.5:7b");
    const [paused] = await scheduler.settle();
    expect(paused).toMatchObject({
      status: "paused",
      reason: "interactive request from chat for qwen2.5:7b",
    });
    expect(paused!.pauseToReleaseMs).toBeLessThan(10_000);
    expect(await h.store.lease(0)).toBeUndefined();
    expect(server.loaded.has("qwen2.5:14b")).toBe(false);
    expect(server.loaded.has("qwen2.5:7b")).toBe(true); // day model warmed again
    const unloads = server.requests.filter(
      (r) => (r.body as { keep_alive?: number }).keep_alive === 0,
    );
    expect(unloads.map((r) => (r.body as { model: string }).model)).toEqual([
      "qwen2.5:7b",
      "qwen2.5:14b",
    ]);

    // The user is away again: the next evaluation resumes the same run from its checkpoint.
    await h.clock.advance(60_000);
    await until(() => scheduler.running().length === 1);
    await until(() => server.loaded.has("qwen2.5:14b"));
    expect((await h.store.decisions("work")).map((d) => d.decision)).toContain("resume");
    await until(() => job.waiting);
    const resumed = scheduler.running()[0]!;
    await h.clock.advance(7000);
    const done = await resumed.finished;
    expect(done).toMatchObject({ status: "done", runId: paused!.runId });
    expect(job.processed).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(job.contexts[1]!.checkpoint).toEqual({ next: 3 });
  });

  it("ignores the job's own GPU load but pauses when something else breaks a threshold", async () => {
    const h = setup();
    const job = itemJob(h.clock, { gpu: 0, items: 100 });
    const scheduler = h.make([job.definition]);
    await scheduler.evaluate();
    await until(() => job.waiting);
    const run = scheduler.running()[0]!;
    h.monitor.gpuUtil.set(0, 97); // the job itself
    await h.clock.advance(h.config.scheduler.watch_every_s * 1000);
    expect(scheduler.running()[0]!.pauseReason).toBeNull();
    h.monitor.gpuUtil.set(1, 60); // someone else's work on the other card
    await h.clock.advance(h.config.scheduler.watch_every_s * 1000);
    const result = await run.finished;
    expect(result).toMatchObject({
      status: "paused",
      reason: "machine busy: gpu1_util_pct 60 ≥ 15",
    });
    expect(await h.store.lease(0)).toBeUndefined();
  });

  it("renews its lease while running so it never expires under a live job", async () => {
    const h = setup({ scheduler: { lease_ttl_s: 20, watch_every_s: 5 } });
    const job = itemJob(h.clock, { gpu: 0, items: 60 });
    const scheduler = h.make([job.definition]);
    await scheduler.evaluate();
    await until(() => job.waiting);
    await h.clock.advance(45_000);
    expect((await h.store.lease(0))!.expiresAt).toBeGreaterThan(h.clock.now());
    expect(scheduler.running()[0]!.pauseReason).toBeNull();
    await scheduler.stop();
  });
});

describe("GPU leases", () => {
  it("never lets two jobs (or two schedulers) use one GPU at once", async () => {
    const h = setup();
    const shared = { now: 0, max: 0 };
    const a = itemJob(h.clock, { name: "a", gpu: 0, items: 3, shared });
    const b = itemJob(h.clock, { name: "b", gpu: 0, items: 3, shared });
    const first = h.make([a.definition, b.definition], "daemon");
    const second = h.make([b.definition, a.definition], "cli");
    await first.evaluate();
    const blocked = await second.evaluate();
    expect(blocked.every((x) => !x.runnable || x.job === "a")).toBe(true);
    expect(blocked.find((x) => x.job === "b")!.blockers[0]).toMatchObject({
      condition: "gpu_lease",
      value: expect.stringMatching(/^daemon#/),
    });
    expect((await first.status()).find((s) => s.name === "b")!.assessment.runnable).toBe(false);
    await until(() => a.waiting);
    await h.clock.advance(3000);
    await first.settle();
    await second.settle();
    expect(shared.max).toBe(1);
    await first.evaluate();
    await until(() => b.waiting);
    await h.clock.advance(3000);
    await first.settle();
    expect(shared.max).toBe(1);
    expect(a.processed).toEqual([0, 1, 2]);
    expect(b.processed).toEqual([0, 1, 2]);
  });
});

describe("degraded mode", () => {
  it("runs a job loudly in degraded mode after it has been due too long on a never-idle machine", async () => {
    const h = setup();
    const job = itemJob(h.clock, {
      gpu: 0,
      items: 1,
      minBacklog: 100,
      backlog: 500,
      models: ["qwen2.5:14b"],
      degradedModels: ["qwen2.5:7b"],
    });
    const scheduler = h.make([job.definition]);
    h.monitor.cpuPct = 60;
    await scheduler.evaluate();
    await h.clock.advance(71 * H);
    expect((await scheduler.evaluate())[0]!.runnable).toBe(false);
    expect(h.warnings).toEqual([]);
    await h.clock.advance(1 * H);
    const [assessment] = await scheduler.evaluate();
    expect(assessment).toMatchObject({ runnable: true, mode: "degraded" });
    await until(() => job.waiting);
    const run = scheduler.running()[0]!;
    await h.clock.advance(1000);
    expect(await run.finished).toMatchObject({ status: "done", mode: "degraded" });
    expect(job.contexts[0]).toMatchObject({ mode: "degraded", gpu: null, models: ["qwen2.5:7b"] });
    expect(h.warnings[0]).toMatch(
      /WARNING: work has been due for 72 h \(limit 72 h\).*degraded mode \(qwen2.5:7b, CPU only, niced\)/,
    );
    expect((await h.store.decisions("work")).map((d) => d.decision)).toContain("degraded");
    expect(await h.store.dueSince("work")).toBeNull();
  });
});

describe("crash recovery", () => {
  it("resumes a run whose holder stopped heartbeating from its last checkpoint", async () => {
    const h = setup();
    const now = h.clock.now();
    // A holder that started the run, took GPU 0 and checkpointed, then died (no heartbeat).
    const started = await h.store.startRun({
      job: "work",
      holder: "dead:1",
      mode: "normal",
      forced: false,
      now,
      staleBefore: now - 60_000,
      newRunId: "run-1",
      gpu: 0,
      leaseTtlMs: 60_000,
      reason: "test",
    });
    expect(started).toMatchObject({ started: true, resumed: false });
    const lease = { gpu: 0, holder: leaseHolderOf("dead:1", "run-1") };
    expect(await h.store.saveCheckpoint("run-1", "dead:1", lease, { next: 7 }, now)).toBe(true);
    const job = itemJob(h.clock, { gpu: 0 });
    const scheduler = h.make([job.definition]);
    // Until its heartbeat is stale, the run counts as alive on its holder, and so does the lease.
    const [blocked] = await scheduler.evaluate();
    expect(blocked!.blockers.map((b) => [b.condition, b.message.split(",")[0]])).toEqual([
      ["running", "already running on dead:1"],
      ["gpu_lease", "GPU 0 leased by work (dead:1#run-1)"],
    ]);
    await h.clock.advance(61_000);
    expect((await scheduler.evaluate())[0]!.runnable).toBe(true);
    await until(() => job.waiting);
    const run = scheduler.running()[0]!;
    await h.clock.advance(3000);
    const result = await run.finished;
    expect(result).toMatchObject({ status: "done", runId: "run-1" });
    expect(job.processed).toEqual([7, 8, 9]);
    expect(await h.store.getRun("run-1")).toMatchObject({ attempts: 2, status: "done" });
  });

  it("refuses a checkpoint from a holder whose lease was taken over", async () => {
    const h = setup();
    const now = h.clock.now();
    const request = { job: "work", mode: "normal" as const, forced: false, gpu: 0, reason: "test" };
    await h.store.startRun({
      ...request,
      holder: "old",
      now,
      staleBefore: now - 1000,
      newRunId: "r",
      leaseTtlMs: 1000,
    });
    // The old holder stops heartbeating; after expiry another takes the lease and the run over.
    const later = now + 1000;
    const taken = await h.store.startRun({
      ...request,
      holder: "new",
      now: later,
      staleBefore: later - 1000 + 1,
      newRunId: "unused",
      leaseTtlMs: 1000,
    });
    expect(taken).toMatchObject({ started: true, resumed: true, run: { id: "r", holder: "new" } });
    const old = { gpu: 0, holder: leaseHolderOf("old", "r") };
    expect(await h.store.saveCheckpoint("r", "old", old, { next: 99 }, now + 1001)).toBe(false);
    expect((await h.store.getRun("r"))!.checkpoint).toBeNull();
  });
});
