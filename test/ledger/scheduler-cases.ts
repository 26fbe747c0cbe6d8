import { afterAll, beforeAll, expect, it } from "vitest";
import {
  leaseHolderOf,
  type SchedulerStore,
  type StartRunRequest,
} from "../../src/ledger/stores/index.js";

const T0 = Date.parse("2026-03-02T02:00:00Z");
const TTL = 60_000;

/** Two handles on one ledger: two machines (PostgreSQL) or two processes (SQLite). */
export interface TwoMachines {
  a: SchedulerStore;
  b: SchedulerStore;
  close(): Promise<void>;
}

let jobs = 0;
/** A job name of its own per case, so cases share one ledger without seeing each other. */
function job(): string {
  return `job-${++jobs}-"ü"`;
}

function start(over: Partial<StartRunRequest> & { job: string }): StartRunRequest {
  return {
    holder: "host-a:1:aaaa",
    mode: "normal",
    forced: false,
    now: T0,
    staleBefore: T0 - TTL,
    newRunId: `run-${Math.random().toString(36).slice(2)}`,
    gpu: null,
    leaseTtlMs: TTL,
    reason: "all conditions hold",
    ...over,
  };
}

/**
 * The scheduler store's contract: every engine passes these same cases (scheduler-contract.test.ts
 * runs them on SQLite and on PostgreSQL). `a` and `b` are two machines sharing the ledger.
 */
export function schedulerContract(open: () => Promise<TwoMachines>): void {
  let m: TwoMachines;
  beforeAll(async () => {
    m = await open();
  });
  afterAll(async () => {
    await m?.close();
  });

  it("records a run from start to done with its checkpoint, log line, summary and decisions", async () => {
    const name = job();
    const started = await m.a.startRun(start({ job: name, newRunId: `${name}-1` }));
    expect(started).toMatchObject({ started: true, resumed: false });
    expect(await m.b.liveRun(name, T0 - TTL)).toMatchObject({ id: `${name}-1`, status: "running" });
    expect(await m.a.heartbeatRun(`${name}-1`, "host-a:1:aaaa", T0 + 5000)).toBe(true);
    const state = { next: 3, note: 'naïve "quoted" ✓' };
    expect(await m.a.saveCheckpoint(`${name}-1`, "host-a:1:aaaa", null, state, T0 + 6000)).toBe(
      true,
    );
    await m.a.logRun(`${name}-1`, "batch 1/2 \u0000 done");
    await m.a.finishRun(`${name}-1`, "host-a:1:aaaa", "done", T0 + 9000, {
      summary: { items: 6, nested: { x: [1.5] } },
    });
    const run = await m.b.getRun(`${name}-1`);
    expect(run).toEqual({
      id: `${name}-1`,
      job: name,
      mode: "normal",
      status: "done",
      holder: "host-a:1:aaaa",
      forced: false,
      attempts: 1,
      startedAt: T0,
      heartbeatAt: T0 + 9000,
      finishedAt: T0 + 9000,
      checkpoint: state,
      checkpointAt: T0 + 6000,
      summary: { items: 6, nested: { x: [1.5] } },
      error: null,
      lastLog: "batch 1/2 \uFFFD done",
    });
    expect((await m.b.lastSuccess(name))?.id).toBe(`${name}-1`);
    expect(await m.b.liveRun(name, T0)).toBeUndefined();
    expect(await m.b.runsOf(name)).toEqual([run]);
    const decisions = await m.b.decisions(name);
    expect(decisions.map((d) => [d.decision, d.runId, d.reason, d.details])).toEqual([
      [
        "start",
        `${name}-1`,
        "all conditions hold",
        { gpu: null, mode: "normal", forced: false, checkpoint: false },
      ],
    ]);
  });

  it("keeps decisions newest first, for one job or all, with their details", async () => {
    const name = job();
    for (let i = 0; i < 3; i++) {
      await m.a.recordDecision({
        at: T0 + i,
        job: name,
        runId: null,
        decision: "skip",
        reason: `not idle ${i}`,
        details: { blockers: [{ condition: "idle", value: i }] },
      });
    }
    const mine = await m.b.decisions(name, 2);
    expect(mine.map((d) => d.reason)).toEqual(["not idle 2", "not idle 1"]);
    expect(mine[0]!.details).toEqual({ blockers: [{ condition: "idle", value: 2 }] });
    expect((await m.b.decisions(null, 500)).filter((d) => d.job === name)).toHaveLength(3);
  });

  it("runs a job on one machine at a time: the other is refused while the run is alive", async () => {
    const name = job();
    const first = await m.a.startRun(start({ job: name }));
    expect(first.started).toBe(true);
    const second = await m.b.startRun(
      start({ job: name, holder: "host-b:7:bbbb", now: T0 + 1000 }),
    );
    expect(second).toMatchObject({ started: false, why: "running" });
    expect(second.started ? "" : second.message).toContain("host-a:1:aaaa");
    expect(await m.b.runsOf(name)).toHaveLength(1);
  });

  it("lets exactly one of many simultaneous starts of a job win, across both machines", async () => {
    const name = job();
    const attempts = Array.from({ length: 12 }, (_, i) =>
      (i % 2 ? m.a : m.b).startRun(
        start({ job: name, holder: `host-${i}`, newRunId: `${name}-${i}` }),
      ),
    );
    const results = await Promise.all(attempts);
    expect(results.filter((r) => r.started)).toHaveLength(1);
    expect(await m.a.runsOf(name, 50)).toHaveLength(1);
    expect((await m.a.decisions(name, 50)).map((d) => d.decision)).toEqual(["start"]);
  });

  it("does not start a job again that the other machine finished since it was assessed", async () => {
    const name = job();
    const done = await m.a.startRun(
      start({ job: name, newRunId: `${name}-a`, lastSuccessId: null }),
    );
    expect(done.started).toBe(true);
    await m.a.finishRun(`${name}-a`, "host-a:1:aaaa", "done", T0 + 100);
    // b assessed the job as due (no success yet) before a finished.
    const late = start({ job: name, holder: "host-b", now: T0 + 200, lastSuccessId: null });
    expect(await m.b.startRun(late)).toMatchObject({ started: false, why: "ran" });
    const again = { ...late, lastSuccessId: `${name}-a` };
    expect(await m.b.startRun(again)).toMatchObject({ started: true });
  });

  it("takes over a dead holder's run after its heartbeat is stale, from its checkpoint", async () => {
    const name = job();
    const id = `${name}-1`;
    await m.a.startRun(start({ job: name, newRunId: id, gpu: 7 }));
    const lease = { gpu: 7, holder: leaseHolderOf("host-a:1:aaaa", id) };
    expect(await m.a.saveCheckpoint(id, "host-a:1:aaaa", lease, { next: 4 }, T0 + 1000)).toBe(true);
    // a dies. Before expiry b is refused; at expiry it resumes the same run and takes the GPU.
    const early = T0 + TTL - 1;
    const refused = start({
      job: name,
      holder: "host-b",
      now: early,
      staleBefore: early - TTL,
      gpu: 7,
    });
    expect(await m.b.startRun(refused)).toMatchObject({ started: false, why: "running" });
    const now = T0 + 1001 + TTL;
    const taken = await m.b.startRun({ ...refused, now, staleBefore: now - TTL });
    expect(taken).toMatchObject({
      started: true,
      resumed: true,
      run: { id, holder: "host-b", attempts: 2, checkpoint: { next: 4 } },
    });
    expect(await m.a.lease(7)).toMatchObject({
      holder: leaseHolderOf("host-b", id),
      expiresAt: now + TTL,
    });
    // a comes back (it was only paused by the OS): it has lost both, and cannot write over b.
    expect(await m.a.heartbeatRun(id, "host-a:1:aaaa", now + 1)).toBe(false);
    expect(await m.a.renewLease(7, lease.holder, now + 1, TTL)).toBe(false);
    expect(await m.a.saveCheckpoint(id, "host-a:1:aaaa", lease, { next: 99 }, now + 1)).toBe(false);
    expect((await m.b.getRun(id))?.checkpoint).toEqual({ next: 4 });
    expect((await m.b.decisions(name)).map((d) => d.decision)).toEqual(["resume", "start"]);
  });

  it("marks a dead holder's run interrupted once when both machines find it stale at once", async () => {
    const name = job();
    const id = `${name}-1`;
    await m.a.startRun(start({ job: name, newRunId: id }));
    // Alive (heartbeat at T0, not before T0 - 1): neither machine may mark it.
    expect(await m.b.interruptStaleRun(id, T0 - 1, T0 + 1, "too early")).toBe(false);
    const now = T0 + 2 * TTL;
    const tries = await Promise.all(
      [m.a, m.b, m.a, m.b].map((store, i) =>
        store.interruptStaleRun(id, now - TTL, now + i, `holder stopped (try ${i})`),
      ),
    );
    expect(tries.filter(Boolean)).toHaveLength(1);
    expect((await m.b.getRun(id))?.status).toBe("interrupted");
    const decisions = await m.a.decisions(name);
    expect(decisions.map((d) => [d.decision, d.runId])).toEqual([
      ["interrupted", id],
      ["start", id],
    ]);
    expect(decisions[0]!.reason).toMatch(/^holder stopped \(try \d\)$/);
    // The other machine resumes it; a later scan finds nothing left to mark.
    const later = now + 10;
    const resumed = await m.b.startRun(
      start({ job: name, holder: "host-b", now: later, staleBefore: later - TTL }),
    );
    expect(resumed).toMatchObject({ started: true, resumed: true, run: { id, status: "running" } });
    expect(await m.a.interruptStaleRun(id, later - TTL, later + 1, "again")).toBe(false);
  });

  it("resumes a paused run on the other machine", async () => {
    const name = job();
    await m.a.startRun(start({ job: name, newRunId: `${name}-p` }));
    await m.a.saveCheckpoint(`${name}-p`, "host-a:1:aaaa", null, { next: 2 }, T0 + 10);
    await m.a.finishRun(`${name}-p`, "host-a:1:aaaa", "paused", T0 + 20);
    expect((await m.b.resumableRun(name, T0))?.id).toBe(`${name}-p`);
    const resumed = await m.b.startRun(start({ job: name, holder: "host-b", now: T0 + 30 }));
    expect(resumed).toMatchObject({ started: true, resumed: true, run: { id: `${name}-p` } });
  });

  it("gives a GPU to one holder at a time, even when both machines ask at the same instant", async () => {
    const tries = Array.from({ length: 16 }, (_, i) =>
      (i % 2 ? m.a : m.b).takeLease({
        gpu: 3,
        holder: `h${i}`,
        job: `j${i}`,
        runId: null,
        now: T0,
        ttlMs: TTL,
      }),
    );
    const results = await Promise.all(tries);
    const winners = results.filter((r) => r.taken);
    expect(winners).toHaveLength(1);
    const winner = winners[0]!.lease.holder;
    // Every loser was told who holds it.
    expect(results.every((r) => r.lease.holder === winner)).toBe(true);
    expect(await m.b.lease(3)).toMatchObject({ holder: winner, expiresAt: T0 + TTL });
    // The holder may take it again (a renewal by retake); nobody else before expiry.
    const again = { gpu: 3, holder: winner, job: "x", runId: null, now: T0 + 10, ttlMs: TTL };
    expect((await m.a.takeLease(again)).taken).toBe(true);
    const other = { ...again, holder: "late", now: T0 + TTL };
    expect((await m.b.takeLease(other)).taken).toBe(false);
    expect((await m.b.takeLease({ ...other, now: T0 + 10 + TTL })).taken).toBe(true);
  });

  it("renews only an unexpired lease and releases only its own", async () => {
    await m.a.takeLease({ gpu: 4, holder: "a", job: "x", runId: null, now: 0, ttlMs: 100 });
    expect(await m.b.renewLease(4, "a", 50, 100)).toBe(true);
    expect((await m.b.lease(4))!.expiresAt).toBe(150);
    expect(await m.b.releaseLease(4, "b")).toBe(false);
    expect(await m.a.renewLease(4, "a", 150, 100)).toBe(false);
    expect(await m.b.releaseLease(4, "a")).toBe(true);
    expect(await m.a.lease(4)).toBeUndefined();
    expect((await m.a.leases()).map((l) => l.gpu)).not.toContain(4);
  });

  it("refuses a start when the job's GPU is leased, writing nothing", async () => {
    const name = job();
    await m.a.takeLease({
      gpu: 5,
      holder: "other",
      job: "audit",
      runId: null,
      now: T0,
      ttlMs: TTL,
    });
    const refused = await m.b.startRun(start({ job: name, holder: "host-b", gpu: 5 }));
    expect(refused).toMatchObject({
      started: false,
      why: "gpu_lease",
      lease: { holder: "other", job: "audit" },
    });
    expect(await m.a.runsOf(name)).toEqual([]);
    expect(await m.a.decisions(name)).toEqual([]);
  });

  it("keeps how long a job has been due, and the scheduler's learned state", async () => {
    const name = job();
    expect(await m.a.dueSince(name)).toBeNull();
    await m.a.setDueSince(name, T0, T0);
    expect(await m.b.dueSince(name)).toBe(T0);
    await m.b.setDueSince(name, null, T0 + 1);
    expect(await m.a.dueSince(name)).toBeNull();
    expect(await m.a.getState("quiet_hours_profile")).toBeUndefined();
    const profile = { ready: true, windows: [{ label: "Mon 01:00 – Mon 06:00" }], confidence: 0.8 };
    await m.a.setState("quiet_hours_profile", profile, T0);
    expect(await m.b.getState("quiet_hours_profile")).toEqual(profile);
  });

  it("records a failure's error, NUL bytes and all", async () => {
    const name = job();
    await m.a.startRun(start({ job: name, newRunId: `${name}-f` }));
    await m.a.finishRun(`${name}-f`, "host-a:1:aaaa", "failed", T0 + 5, {
      error: "exit 1: \u0000bad",
    });
    expect(await m.b.getRun(`${name}-f`)).toMatchObject({
      status: "failed",
      error: "exit 1: \uFFFDbad",
      finishedAt: T0 + 5,
    });
    expect(await m.b.lastSuccess(name)).toBeUndefined();
  });
}
