import { afterAll, beforeAll, expect, it } from "vitest";
import type { Action, NewAction } from "../../src/ledger/actions.js";
import type {
  CorrectionForDelivery,
  LedgerStores,
  NewReviewItem,
  ReviewDecisionRow,
} from "../../src/ledger/stores/index.js";

const T0 = Date.parse("2026-03-02T08:00:00Z");

/** Two connections to one ledger, as two daemons on two machines have. */
export interface TwoMachines {
  a: LedgerStores;
  b: LedgerStores;
  /** Sets an action's audit_status directly (the audit's store is another domain's). */
  setAuditStatus(id: string, status: string | null): Promise<void>;
  close(): Promise<void>;
}

function newAction(over: Partial<NewAction> = {}): NewAction {
  return { agent: "finance", actionType: "stage", startedAt: T0, status: "ok", ...over };
}

function item(actionId: string | null, over: Partial<NewReviewItem> = {}): NewReviewItem {
  return {
    kind: "audit_unsure",
    agent: "finance",
    title: "STARBUCKS: Dining or Coffee?",
    actionId,
    original: { category: "Dining" },
    proposed: { category: "Coffee" },
    reasoning: "a coffee shop",
    confidence: 0.55,
    openedBy: "audit r1",
    context: { run_id: "r1" },
    ...over,
  };
}

function decision(id: number, over: Partial<ReviewDecisionRow> = {}): ReviewDecisionRow {
  return {
    id,
    status: "accepted",
    decidedBy: "ann",
    decidedAt: T0 + 60_000,
    decisionOutput: { category: "Coffee" },
    decisionReason: null,
    appliedNote: "applying",
    ...over,
  };
}

/** A correction of its own action (the audit makes one per action and run). */
function correction(id: string, over: Partial<CorrectionForDelivery> = {}): CorrectionForDelivery {
  return {
    correctionId: id,
    agent: "mailer",
    actionId: `00000000-0000-7000-8000-${id.replace(/\W/g, "").padStart(12, "0").slice(-12)}`,
    source: "audit",
    runId: "r1",
    original: { message: { content: "Dear Sir" } },
    corrected: { message: { content: "Hi Sam \u0000 ✓" } },
    reasoning: "the user writes informally",
    reviewerModel: "qwen2.5:14b",
    confidenceAfter: 0.93,
    ...over,
  };
}

/**
 * The review domain's contract: the review queue's items, feedback and deliveries behave the
 * same on every engine, including when two daemons (two connections) work on one ledger at once.
 * test/ledger/review-contract.test.ts runs it on SQLite and on PostgreSQL.
 */
export function reviewContract(open: () => Promise<TwoMachines>): void {
  let m: TwoMachines;
  let seq = 0;
  beforeAll(async () => {
    m = await open();
  });
  afterAll(async () => {
    await m?.close();
  });

  async function action(over: Partial<NewAction> = {}): Promise<Action> {
    const [written] = await m.a.actions.insert([newAction({ startedAt: T0 + ++seq, ...over })]);
    return written!;
  }
  const statusOf = async (id: string) => (await m.b.actions.get(id))!.auditStatus;

  it("opens an item once per action and kind, puts the action in review, keeps its JSON", async () => {
    const a = await action();
    const hostile = { text: 'quote " \\ \u0000 ünïcode ✓', n: [1.5, null, true], deep: { a: [] } };
    const first = await m.a.review.items.open(item(a.id, { context: hostile }), T0);
    expect(first.created).toBe(true);
    expect(first.item).toMatchObject({
      actionId: a.id,
      kind: "audit_unsure",
      status: "open",
      original: { category: "Dining" },
      proposed: { category: "Coffee" },
      context: hostile,
      confidence: 0.55,
      createdAt: T0,
      decidedBy: null,
      decidedAt: null,
    });
    const again = await m.b.review.items.open(item(a.id, { title: "other" }), T0 + 1);
    expect(again).toEqual({ item: first.item, created: false });
    const otherKind = await m.b.review.items.open(item(a.id, { kind: "other" }), T0 + 2);
    expect(otherKind.created).toBe(true);
    expect(await statusOf(a.id)).toBe("in_review");
    expect(await m.b.review.items.get(first.item.id)).toEqual(first.item);
    expect((await m.b.review.items.byAction(a.id)).map((i) => i.id)).toEqual([
      first.item.id,
      otherKind.item.id,
    ]);
    // Items without an action are never merged.
    const loose = await m.a.review.items.open(item(null), T0);
    const loose2 = await m.a.review.items.open(item(null), T0);
    expect(loose2.item.id).not.toBe(loose.item.id);
    expect(await m.a.review.items.get(987_654_321)).toBeUndefined();
  });

  it("opens one item when two daemons open the same one at the same moment", async () => {
    const a = await action();
    const results = await Promise.all([
      m.a.review.items.open(item(a.id), T0),
      m.b.review.items.open(item(a.id), T0),
      m.a.review.items.open(item(a.id), T0),
      m.b.review.items.open(item(a.id), T0),
    ]);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.item.id)).size).toBe(1);
  });

  it("records a decision once: the second decider, on any daemon, gets false", async () => {
    const a = await action();
    const { item: opened } = await m.a.review.items.open(item(a.id), T0);
    expect(await m.a.review.items.recordDecision(decision(opened.id))).toBe(true);
    expect(await m.b.review.items.recordDecision(decision(opened.id, { decidedBy: "bob" }))).toBe(
      false,
    );
    expect(await m.b.review.items.get(opened.id)).toMatchObject({
      status: "accepted",
      decidedBy: "ann",
      decidedAt: T0 + 60_000,
      decisionOutput: { category: "Coffee" },
      appliedNote: "applying",
    });
    expect(await statusOf(a.id)).toBe("ruled");
    await m.b.review.items.setAppliedNote(opened.id, "re-categorized");
    expect((await m.a.review.items.lastDecision(a.id))!.appliedNote).toBe("re-categorized");
  });

  it("lets exactly one of two daemons deciding the same item at once win", async () => {
    for (let round = 0; round < 5; round++) {
      const a = await action();
      const { item: opened } = await m.a.review.items.open(item(a.id), T0);
      const outcomes = await Promise.all([
        m.a.review.items.recordDecision(decision(opened.id, { decidedBy: "ann" })),
        m.b.review.items.recordDecision(
          decision(opened.id, { decidedBy: "bob", status: "rejected" }),
        ),
      ]);
      expect(outcomes.filter(Boolean)).toHaveLength(1);
      const decided = (await m.a.review.items.get(opened.id))!;
      expect(decided.decidedBy).toBe(outcomes[0] ? "ann" : "bob");
      expect(decided.status).toBe(outcomes[0] ? "accepted" : "rejected");
    }
  });

  it("withdraws exactly the decision given, reopening the item and its action", async () => {
    const a = await action();
    const { item: opened } = await m.a.review.items.open(item(a.id), T0);
    const row = decision(opened.id, { decidedAt: T0 + 5 });
    await m.a.review.items.recordDecision(row);
    expect(await m.b.review.items.withdrawDecision({ ...row, decidedBy: "bob" })).toBe(false);
    expect(await m.b.review.items.withdrawDecision({ ...row, decidedAt: T0 + 6 })).toBe(false);
    expect(await m.b.review.items.withdrawDecision(row)).toBe(true);
    expect(await m.a.review.items.get(opened.id)).toMatchObject({
      status: "open",
      decidedBy: null,
      decidedAt: null,
      decisionOutput: null,
      appliedNote: null,
    });
    expect(await statusOf(a.id)).toBe("in_review");
    expect(await m.b.review.items.withdrawDecision(row)).toBe(false);
    // While withdrawn-and-reopened is impossible (another open item of the kind), it says so.
    await m.a.review.items.recordDecision(row);
    await m.a.review.items.open(item(a.id), T0 + 7);
    expect(await m.b.review.items.withdrawDecision(row)).toBe(false);
    expect((await m.a.review.items.get(opened.id))!.status).toBe("accepted");
  });

  it("lists by status, agent and kind, oldest first, and counts", async () => {
    const before = await m.a.review.items.count("rejected");
    const a = await action();
    const ids: number[] = [];
    for (const agent of ["calendar", "mailer", "calendar"]) {
      ids.push((await m.a.review.items.open(item(null, { agent, kind: "other" }), T0)).item.id);
    }
    await m.a.review.items.recordDecision(decision(ids[2]!, { status: "rejected" }));
    const calendarOpen = await m.b.review.items.list({ agent: "calendar", status: "open" });
    expect(calendarOpen.map((i) => i.id)).toEqual([ids[0]]);
    expect(
      (await m.b.review.items.list({ agent: "calendar", kind: "other" })).map((i) => i.id),
    ).toEqual([ids[0], ids[2]]);
    expect((await m.b.review.items.list({ agent: "mailer", limit: 1 })).length).toBe(1);
    expect(await m.b.review.items.count("rejected")).toBe(before + 1);
    expect(await m.b.review.items.lastDecision(a.id)).toBeUndefined();
  });

  it("records feedback and applies it to the action in one step", async () => {
    const a = await action({ flags: ["retried"], confidence: 0.9 });
    await m.setAuditStatus(a.id, "passed");
    const given = await m.a.review.feedback.add({
      actionId: a.id,
      createdAt: T0 + 10,
      givenBy: "ann",
      confidence: 0.2,
      flags: ["requires_audit", "retried"],
      reasoning: "the total is wrong",
      scores: { thumbs: 0, "eval.f1": 0.42 },
    });
    expect(given.id).toBeGreaterThan(0);
    const after = (await m.b.actions.get(a.id))!;
    expect(after.flags).toEqual(["retried", "requires_audit"]);
    expect(after.confidence).toBe(0.2);
    expect(after.reasoning).toBe("the total is wrong");
    // Passed an audit window unreviewed: reviewed again.
    expect(after.auditStatus).toBeNull();
    expect((await m.b.actions.list({ flag: "requires_audit" })).map((x) => x.id)).toContain(a.id);
    // Scores only: the action's confidence and reasoning stay.
    await m.b.review.feedback.add({
      actionId: a.id,
      createdAt: T0 + 5,
      givenBy: "eval",
      confidence: null,
      flags: [],
      reasoning: "second opinion",
      scores: { thumbs: 1 },
    });
    const still = (await m.a.actions.get(a.id))!;
    expect([still.confidence, still.reasoning]).toEqual([0.2, "the total is wrong"]);
    expect(await m.a.review.feedback.forAction(a.id)).toEqual([
      {
        id: expect.any(Number),
        actionId: a.id,
        createdAt: T0 + 5,
        givenBy: "eval",
        confidence: null,
        flags: [],
        reasoning: "second opinion",
        scores: { thumbs: 1 },
      },
      given,
    ]);
  });

  it("keeps a ruled action's verdict, and both daemons' flags when they flag at once", async () => {
    const a = await action();
    await m.setAuditStatus(a.id, "ruled");
    const flag = (stores: LedgerStores, f: string) =>
      stores.review.feedback.add({
        actionId: a.id,
        createdAt: T0,
        givenBy: f,
        confidence: null,
        flags: [f],
        reasoning: null,
        scores: {},
      });
    await Promise.all([flag(m.a, "wrong_total"), flag(m.b, "rude"), flag(m.a, "slow")]);
    const after = (await m.b.actions.get(a.id))!;
    expect([...after.flags].sort()).toEqual(["rude", "slow", "wrong_total"]);
    expect(after.auditStatus).toBe("ruled");
  });

  it("queues a correction once and hands it back whole", async () => {
    const c = correction(`c-${++seq}`);
    await m.a.review.deliveries.enqueue(c, T0);
    await m.b.review.deliveries.enqueue({ ...c, reasoning: "changed" }, T0 + 1);
    expect(await m.b.review.deliveries.get(c.correctionId)).toEqual({
      ...c,
      status: "pending",
      createdAt: T0,
      acknowledgedAt: null,
      acknowledgedVia: null,
      note: null,
      attempts: 0,
      nextAttemptAt: null,
      lastError: null,
    });
    const person = correction(`review-${++seq}`, {
      source: "person",
      runId: null,
      reasoning: null,
      reviewerModel: null,
      confidenceAfter: null,
      corrected: "Hey Sam",
    });
    await m.a.review.deliveries.enqueue(person, T0 + 2);
    expect(await m.a.review.deliveries.get(person.correctionId)).toMatchObject(person);
    expect(await m.a.review.deliveries.get("nope")).toBeUndefined();
  });

  it("acknowledges once, whichever daemon and however often", async () => {
    const agent = `agent-${++seq}`;
    const ids = [`c-${++seq}`, `c-${++seq}`];
    for (const [i, id] of ids.entries()) {
      await m.a.review.deliveries.enqueue(correction(id, { agent }), T0 + i);
    }
    const acks = await Promise.all([
      m.a.review.deliveries.acknowledge(ids[0]!, "pull", T0 + 10, "applied"),
      m.b.review.deliveries.acknowledge(ids[0]!, "pull", T0 + 11, "applied too"),
    ]);
    expect(acks.filter(Boolean)).toHaveLength(1);
    expect(await m.a.review.deliveries.acknowledge(ids[0]!, "webhook", T0 + 12, null)).toBe(false);
    const acked = (await m.b.review.deliveries.get(ids[0]!))!;
    expect(acked).toMatchObject({ status: "acknowledged", acknowledgedVia: "pull" });
    expect([T0 + 10, T0 + 11]).toContain(acked.acknowledgedAt);
    expect(
      (await m.b.review.deliveries.list(agent, "pending", 10)).map((d) => d.correctionId),
    ).toEqual([ids[1]]);
    expect((await m.b.review.deliveries.list(agent, null, 10)).map((d) => d.correctionId)).toEqual(
      ids,
    );
    expect(await m.b.review.deliveries.acknowledge("unknown", "pull", T0, null)).toBe(false);
  });

  it("lets one sender claim a delivery; the lease runs out if that sender dies", async () => {
    const agent = `agent-${++seq}`;
    const id = `c-${++seq}`;
    await m.a.review.deliveries.enqueue(correction(id, { agent }), T0);
    expect((await m.b.review.deliveries.due(agent, T0, 10)).map((d) => d.correctionId)).toEqual([
      id,
    ]);
    const claims = await Promise.all([
      m.a.review.deliveries.claim(id, T0, T0 + 70_000),
      m.b.review.deliveries.claim(id, T0, T0 + 70_000),
      m.a.review.deliveries.claim(id, T0, T0 + 70_000),
    ]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await m.b.review.deliveries.due(agent, T0 + 69_999, 10)).toEqual([]);
    expect(await m.b.review.deliveries.claim(id, T0 + 69_999, T0 + 140_000)).toBe(false);
    // The claimer died: once its lease is over another daemon takes the delivery.
    expect((await m.b.review.deliveries.due(agent, T0 + 70_000, 10)).length).toBe(1);
    expect(await m.b.review.deliveries.claim(id, T0 + 70_000, T0 + 140_000)).toBe(true);
    expect((await m.a.review.deliveries.get(id))!.attempts).toBe(2);
  });

  it("schedules retries, gives up, and still accepts an ack for a failed delivery", async () => {
    const agent = `agent-${++seq}`;
    const id = `c-${++seq}`;
    await m.a.review.deliveries.enqueue(correction(id, { agent }), T0);
    await m.a.review.deliveries.claim(id, T0, T0 + 70_000);
    await m.a.review.deliveries.recordAttempt({
      correctionId: id,
      deliveryId: "d1",
      url: "http://127.0.0.1:9/hook",
      attemptedAt: T0,
      httpStatus: 503,
      error: "answered HTTP 503",
      durationMs: 12.5,
    });
    await m.a.review.deliveries.retryAt(id, T0 + 1000, "answered HTTP 503");
    expect(await m.b.review.deliveries.due(agent, T0 + 999, 10)).toEqual([]);
    expect((await m.b.review.deliveries.get(id))!).toMatchObject({
      nextAttemptAt: T0 + 1000,
      lastError: "answered HTTP 503",
    });
    await m.b.review.deliveries.recordAttempt({
      correctionId: id,
      deliveryId: "d2",
      url: "http://127.0.0.1:9/hook",
      attemptedAt: T0 + 1000,
      httpStatus: null,
      error: "connection refused",
      durationMs: 0.25,
    });
    await m.b.review.deliveries.giveUp(id, "connection refused (gave up after 2 attempts)");
    expect(await m.a.review.deliveries.get(id)).toMatchObject({
      status: "failed",
      nextAttemptAt: null,
      lastError: "connection refused (gave up after 2 attempts)",
    });
    expect(await m.a.review.deliveries.due(agent, T0 + 10_000_000, 10)).toEqual([]);
    expect((await m.a.review.deliveries.list(agent, "failed", 10)).length).toBe(1);
    expect(await m.a.review.deliveries.attempts(id)).toEqual([
      {
        correctionId: id,
        deliveryId: "d1",
        url: "http://127.0.0.1:9/hook",
        attemptedAt: T0,
        httpStatus: 503,
        error: "answered HTTP 503",
        durationMs: 12.5,
      },
      {
        correctionId: id,
        deliveryId: "d2",
        url: "http://127.0.0.1:9/hook",
        attemptedAt: T0 + 1000,
        httpStatus: null,
        error: "connection refused",
        durationMs: 0.25,
      },
    ]);
    expect(await m.b.review.deliveries.acknowledge(id, "pull", T0 + 5, null)).toBe(true);
    expect((await m.b.review.deliveries.get(id))!.status).toBe("acknowledged");
  });
}
