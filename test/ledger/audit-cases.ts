import { afterAll, beforeAll, expect, it } from "vitest";
import type { NewAction } from "../../src/ledger/actions.js";
import { newActionId, newTraceId } from "../../src/ledger/ids.js";
import {
  type AuditStore,
  type BatchCommit,
  type LedgerStores,
  type NewAuditRun,
  type RunClaim,
  RunTakenOverError,
} from "../../src/ledger/stores/index.js";

const T0 = Date.parse("2026-03-02T08:00:00Z");
const MIN = 60_000;

/** Two handles on one ledger: two processes on SQLite, two machines (pools) on PostgreSQL. */
export interface TwoMachines {
  a: LedgerStores;
  b: LedgerStores;
  close(): Promise<void>;
}

function action(over: Partial<NewAction> = {}): NewAction {
  return { agent: "finance", actionType: "categorize", startedAt: T0, status: "ok", ...over };
}

function newRun(over: Partial<NewAuditRun> = {}): NewAuditRun {
  return {
    id: newActionId(T0),
    seed: "seed",
    traceId: newTraceId(),
    mode: "normal",
    reviewerRole: "auditor",
    reviewerModel: "qwen2.5:14b",
    windowStart: T0 - 60 * MIN,
    windowEnd: T0 + 60 * MIN,
    sampleRate: 0.05,
    batches: 2,
    startedAt: T0,
    ...over,
  };
}

const claimOf = (owner: string, now = T0, host = `${owner}-host`): RunClaim => ({
  owner,
  host,
  now,
  staleAfterMs: 5 * MIN,
});

const emptyBatch = { results: [], corrections: [], statuses: [], insights: [] };

/**
 * The audit store's contract: every engine behind AuditStore passes these same cases
 * (test/ledger/audit-contract.test.ts runs them on SQLite and on PostgreSQL). Cases run in order
 * on one ledger; each leaves no run running for the next.
 */
export function auditStoreContract(open: () => Promise<TwoMachines>): void {
  let machines: TwoMachines;
  let a: AuditStore;
  let b: AuditStore;
  beforeAll(async () => {
    machines = await open();
    a = machines.a.audit;
    b = machines.b.audit;
  });
  afterAll(async () => {
    await machines?.close();
  });

  /** Runs `fn` with a fresh run created by owner "x", then marks it done. */
  async function finishAll(): Promise<void> {
    for (const run of await a.listRuns(100)) {
      if (run.status === "done") continue;
      const claimed = await a.claimRun(claimOf("cleanup", T0 + 24 * 60 * MIN));
      if (claimed.kind === "none") return;
      await a.finishRun(claimed.run.id, "cleanup", T0);
    }
  }

  it("creates a run with its items, claimed, and reads it back from the other machine", async () => {
    const [x, y] = await machines.a.actions.insert([action(), action({ startedAt: T0 + MIN })]);
    const run = newRun();
    const items = [
      {
        actionId: x!.id,
        agent: "finance",
        reason: "low_confidence",
        batch: 0,
        startedAt: T0,
        confidenceBefore: 0.55,
      },
      {
        actionId: y!.id,
        agent: "finance",
        reason: "sample",
        batch: 1,
        startedAt: T0 + MIN,
        confidenceBefore: null,
      },
    ];
    const created = await a.createRun(run, items, claimOf("one"));
    expect(created).toMatchObject({
      kind: "created",
      run: { id: run.id, status: "running", host: "one-host", heartbeatAt: T0, nextBatch: 0 },
    });
    expect(await b.getRun(run.id)).toEqual((created as { run: unknown }).run);
    expect(await b.findRun(run.id.slice(0, 12))).toMatchObject({ id: run.id });
    expect(await b.findRun("zz")).toBeUndefined();
    expect(await b.latestRun()).toMatchObject({ id: run.id });
    expect(await b.unfinishedRun()).toMatchObject({ id: run.id });
    expect(
      (await b.runItems(run.id)).map((i) => [i.actionId, i.batch, i.confidenceBefore, i.verdict]),
    ).toEqual([
      [x!.id, 0, 0.55, null],
      [y!.id, 1, null, null],
    ]);
    expect(await b.batchItems(run.id, 1)).toHaveLength(1);
    expect((await b.runCounts([run.id])).get(run.id)).toEqual({ items: 2, corrections: 0 });
  });

  it("refuses a second claim while the run's holder is alive, naming the run and its host", async () => {
    const run = (await a.unfinishedRun())!;
    const busy = await b.claimRun(claimOf("two", T0 + MIN));
    expect(busy).toMatchObject({
      kind: "busy",
      run: { id: run.id, host: "one-host", startedAt: T0 },
    });
    const other = await b.createRun(
      newRun({ id: newActionId(T0 + MIN) }),
      [],
      claimOf("two", T0 + MIN),
    );
    expect(other).toMatchObject({ kind: "busy", run: { id: run.id } });
    expect(await b.listRuns()).toHaveLength(1);
    // Its own holder may claim it again (a resumed process keeps its token).
    expect(await a.claimRun(claimOf("one", T0 + MIN))).toMatchObject({
      kind: "resumed",
      takenOver: false,
    });
  });

  it("commits a batch whole: verdicts once, corrections, audit statuses, insights, next batch", async () => {
    const run = (await a.unfinishedRun())!;
    const [item] = await a.batchItems(run.id, 0);
    const commit: BatchCommit = {
      runId: run.id,
      owner: "one",
      batch: 0,
      at: T0 + 2 * MIN,
      results: [
        {
          actionId: item!.actionId,
          verdict: "incorrect",
          correctedOutput: { category: "Coffee" },
          reasoning: "a coffee shop",
          confidence: 0.95,
          outcome: "corrected",
          pattern: { key: "merchant:x", content: "x is Coffee" },
          reviewItemId: null,
          patternWritten: true,
        },
      ],
      corrections: [
        {
          id: newActionId(T0),
          runId: run.id,
          actionId: item!.actionId,
          agent: "finance",
          source: "audit",
          original: { category: "Dining" },
          corrected: { category: "Coffee" },
          reasoning: "a coffee shop",
          reviewerModel: "qwen2.5:14b",
          confidenceBefore: 0.55,
          confidenceAfter: 0.95,
          createdAt: T0 + 2 * MIN,
        },
      ],
      statuses: [{ actionId: item!.actionId, status: "corrected" }],
      insights: [
        {
          id: newActionId(T0),
          runId: run.id,
          batch: 0,
          actionIds: [item!.actionId, "other"],
          agents: ["finance", "calendar"],
          description: "bought during a meeting",
          confidence: 0.7,
          createdAt: T0,
        },
      ],
    };
    await a.commitBatch(commit);
    // Committed again (a retried commit): the first verdict and correction stand, nothing doubles.
    await a.commitBatch({
      ...commit,
      results: [{ ...commit.results[0]!, verdict: "correct", outcome: "verified" }],
    });
    const [recorded] = await b.batchItems(run.id, 0);
    expect(recorded).toMatchObject({
      verdict: "incorrect",
      correctedOutput: { category: "Coffee" },
      outcome: "corrected",
      patternWritten: true,
      pattern: { key: "merchant:x", content: "x is Coffee" },
      reviewedAt: T0 + 2 * MIN,
    });
    expect(await b.runCorrections(run.id)).toHaveLength(1);
    expect(await b.actionCorrections(item!.actionId)).toMatchObject([
      { corrected: { category: "Coffee" }, appliedAt: null },
    ]);
    expect((await machines.b.actions.get(item!.actionId))?.auditStatus).toBe("corrected");
    expect(await b.runInsights(run.id)).toMatchObject([
      { actionIds: [item!.actionId, "other"], agents: ["finance", "calendar"] },
    ]);
    expect(await b.getRun(run.id)).toMatchObject({ nextBatch: 1, heartbeatAt: T0 + 2 * MIN });
    expect(await b.actionItems(item!.actionId)).toMatchObject([
      { runId: run.id, reviewerModel: "qwen2.5:14b", verdict: "incorrect" },
    ]);
    expect(await b.calibrationPoints(run.id)).toEqual([{ confidence: 0.55, verdict: "incorrect" }]);
    expect(await b.calibrationPoints(null)).toHaveLength(1);
  });

  it("keeps corrections pending until applied, and records why they wait or failed", async () => {
    expect(await b.pendingAgents()).toEqual(["finance"]);
    const [pending] = await b.pendingCorrections("finance");
    await b.noteWaiting(pending!.id, "no handler yet");
    await b.markApplyFailed(pending!.id, "locked");
    expect((await a.pendingCorrections("finance"))[0]).toMatchObject({
      applyNote: "no handler yet",
      applyError: "locked",
    });
    await a.markApplied(pending!.id, T0 + 3 * MIN, "re-categorized");
    expect(await b.pendingAgents()).toEqual([]);
    expect((await b.actionCorrections(pending!.actionId))[0]).toMatchObject({
      appliedAt: T0 + 3 * MIN,
      applyNote: "re-categorized",
      applyError: null,
    });
    // A person's correction outside any run.
    const person = { ...pending!, id: newActionId(T0), runId: null, source: "person" as const };
    expect(await a.insertCorrection(person)).toBe(true);
    expect(await a.insertCorrection(person)).toBe(false);
    await a.markApplied(person.id, T0, null);
  });

  it("takes over a run whose holder stopped its heartbeat; the old holder can no longer write", async () => {
    const run = (await a.unfinishedRun())!;
    expect(await a.heartbeat(run.id, "one", T0 + 4 * MIN)).toBe(true);
    expect(await b.claimRun(claimOf("two", T0 + 8 * MIN))).toMatchObject({ kind: "busy" });
    const taken = await b.claimRun(claimOf("two", T0 + 10 * MIN));
    expect(taken).toMatchObject({
      kind: "resumed",
      takenOver: true,
      run: { id: run.id, host: "two-host", nextBatch: 1 },
    });
    expect(await a.heartbeat(run.id, "one", T0 + 10 * MIN)).toBe(false);
    await expect(
      a.commitBatch({ runId: run.id, owner: "one", batch: 1, at: T0, ...emptyBatch }),
    ).rejects.toBeInstanceOf(RunTakenOverError);
    await expect(a.finishRun(run.id, "one", T0)).rejects.toBeInstanceOf(RunTakenOverError);
    expect(await a.releaseRun(run.id, "one", "failed", "x")).toBe(false);
    expect(await b.getRun(run.id)).toMatchObject({
      status: "running",
      nextBatch: 1,
      host: "two-host",
    });
  });

  it("takes over at once a run whose holder is known to be gone", async () => {
    const run = (await a.unfinishedRun())!;
    const gone = {
      ...claimOf("three", T0 + 11 * MIN),
      holderGone: (host: string | null) => host === "two-host",
    };
    expect(await a.claimRun(gone)).toMatchObject({
      kind: "resumed",
      takenOver: true,
      run: { id: run.id, host: "three-host" },
    });
  });

  it("pauses, and lets any machine resume a paused run where it stopped", async () => {
    const run = (await a.unfinishedRun())!;
    expect(await a.releaseRun(run.id, "three", "paused")).toBe(true);
    expect(await b.getRun(run.id)).toMatchObject({ status: "paused" });
    expect(await b.claimRun(claimOf("four", T0 + 12 * MIN))).toMatchObject({
      kind: "resumed",
      takenOver: false,
      run: { id: run.id, status: "running", nextBatch: 1 },
    });
    await b.commitBatch({
      runId: run.id,
      owner: "four",
      batch: 1,
      at: T0 + 13 * MIN,
      ...emptyBatch,
    });
    expect(await b.releaseRun(run.id, "four", "failed", "reviewer unreachable")).toBe(true);
    expect(await a.getRun(run.id)).toMatchObject({
      status: "failed",
      error: "reviewer unreachable",
    });
    expect(await a.claimRun(claimOf("five", T0 + 14 * MIN))).toMatchObject({
      kind: "resumed",
      run: { error: null, nextBatch: 2 },
    });
  });

  it("finishes a run: its window's unaudited actions pass, counted; audited ones keep their status", async () => {
    const run = (await a.unfinishedRun())!;
    const before = await a.unauditedCount(T0 - 60 * MIN, "auditor");
    expect(before).toBe(1);
    expect(await a.finishRun(run.id, "five", T0 + 15 * MIN)).toBe(1);
    expect(await b.getRun(run.id)).toMatchObject({
      status: "done",
      finishedAt: T0 + 15 * MIN,
      passed: 1,
      error: null,
    });
    expect(await b.lastFinishedRun()).toMatchObject({ id: run.id });
    expect(await b.unfinishedRun()).toBeUndefined();
    expect(await b.unauditedCount(T0 - 60 * MIN, "auditor")).toBe(0);
    expect(await b.claimRun(claimOf("six"))).toEqual({ kind: "none" });
  });

  it("starts exactly one run when two machines create one at the same moment", async () => {
    await finishAll();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 === 0 ? a : b).createRun(
          newRun({ id: newActionId(T0 + 20 * MIN) }),
          [],
          claimOf(`racer${i}`, T0 + 20 * MIN),
        ),
      ),
    );
    expect(results.filter((r) => r.kind === "created")).toHaveLength(1);
    const winner = results.find((r) => r.kind === "created") as { run: { id: string } };
    for (const r of results.filter((r) => r.kind !== "created")) {
      expect(r).toMatchObject({ kind: "busy", run: { id: winner.run.id } });
    }
    expect((await a.listRuns(100)).filter((r) => r.status === "running")).toHaveLength(1);
    await finishAll();
  });

  it("lists candidates in time order, page by page, without audited or out-of-window actions", async () => {
    const at = T0 + 2 * 24 * 60 * MIN;
    const rows = Array.from({ length: 23 }, (_, i) =>
      action({
        agent: i % 2 ? "calendar" : "finance",
        startedAt: at + Math.floor(i / 3),
        flags: i === 4 ? ["low_confidence"] : [],
        confidence: i === 4 ? 0.5 : null,
        meta: i === 5 ? { k: 1 } : null,
      }),
    );
    const written = await machines.a.actions.insert([
      ...rows,
      action({ startedAt: at + 10 * MIN }),
    ]);
    const seen = [];
    for await (const row of b.candidates(at, at + MIN, 4)) seen.push(row);
    const expected = written
      .slice(0, 23)
      .sort((x, y) => x.startedAt - y.startedAt || (x.id < y.id ? -1 : 1));
    expect(seen.map((r) => r.id)).toEqual(expected.map((r) => r.id));
    expect(seen.find((r) => r.flags.includes("low_confidence"))).toMatchObject({
      confidence: 0.5,
      agent: "finance",
      status: "ok",
      parentId: null,
    });
    expect(seen.find((r) => r.meta !== null)?.meta).toEqual({ k: 1 });
  });

  it("finds an agent's actions on the same input, newest first, and what a trace spent", async () => {
    const at = T0 + 3 * 24 * 60 * MIN;
    const trace = newTraceId();
    const [first, second] = await machines.a.actions.insert([
      action({ startedAt: at, inputKey: "key-1" }),
      action({ startedAt: at + 1, inputKey: "key-1" }),
      action({ startedAt: at + 2, inputKey: "key-1", agent: "calendar" }),
      action({
        agent: "auditor",
        actionType: "audit_review",
        traceId: trace,
        startedAt: at,
        latencyMs: 1500,
      }),
      action({
        agent: "auditor",
        actionType: "attempt",
        traceId: trace,
        startedAt: at + 1,
        tokensIn: 100,
        tokensOut: 20,
        parentId: "p",
      }),
      action({
        agent: "auditor",
        actionType: "attempt",
        traceId: trace,
        startedAt: at + 2,
        tokensIn: 50,
        tokensOut: 5,
        parentId: "p",
      }),
    ]);
    expect(await b.sameInputActions("finance", "key-1")).toEqual([second!.id, first!.id]);
    expect(await b.traceUsage(trace, "auditor")).toEqual({
      calls: 2,
      tokensIn: 150,
      tokensOut: 25,
      modelMs: 1500,
    });
    expect(await b.traceUsage("no-trace", "auditor")).toEqual({
      calls: 0,
      tokensIn: 0,
      tokensOut: 0,
      modelMs: 0,
    });
  });

  it("counts the learning curve per local day of the audited action", async () => {
    const days = await b.learningCurve(0);
    const local = new Date(T0);
    const day = `${local.getFullYear()}-${String(local.getMonth() + 1).padStart(2, "0")}-${String(local.getDate()).padStart(2, "0")}`;
    expect(days).toEqual([{ day, reviewed: 1, wrong: 1, unsure: 0 }]);
    expect(await b.learningCurve(T0 + 1)).toEqual([]);
  });
}
