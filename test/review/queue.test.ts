import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.js";
import type { Action } from "../../src/ledger/actions.js";
import type { LedgerStores } from "../../src/ledger/stores/index.js";
import { CorrectionHandlers, type CorrectionToApply } from "../../src/review/handlers.js";
import { ReviewQueue } from "../../src/review/queue.js";
import { ENGINES } from "../support/engines.js";

describe.each(ENGINES)("human review queue on $name", (engine) => {
  let stores: LedgerStores;
  let close: () => Promise<void>;
  let applied: CorrectionToApply[];
  let queue: ReviewQueue;
  let action: Action;
  let clock: ManualClock;

  beforeEach(async (context) => {
    if (!engine.available) return context.skip();
    ({ stores, close } = await engine.open("review_queue"));
    clock = new ManualClock();
    applied = [];
    const handlers = new CorrectionHandlers();
    handlers.register("finance", {
      apply: async (correction) => {
        applied.push(correction);
        return `re-categorized as ${(correction.corrected as { category: string }).category}`;
      },
    });
    queue = new ReviewQueue(stores, { handlers, clock });
    [action] = (await stores.actions.insert([
      {
        agent: "finance",
        actionType: "stage",
        startedAt: clock.now(),
        status: "ok",
        response: { category: "Dining" },
        confidence: 0.6,
      },
    ])) as [Action];
  });
  afterEach(async () => {
    await close?.();
  });

  const auditStatus = async () => (await stores.actions.get(action.id))!.auditStatus;

  async function openItem(proposed: unknown = { category: "Coffee" }) {
    return (
      await queue.open({
        kind: "audit_unsure",
        agent: "finance",
        title: "STARBUCKS #12: Dining or Coffee?",
        actionId: action.id,
        original: { category: "Dining" },
        proposed,
        reasoning: "coffee shop",
        confidence: 0.55,
        openedBy: "audit:r1",
      })
    ).item;
  }

  it("opens one item per action and kind, and marks the action in review", async () => {
    const input = {
      kind: "audit_unsure",
      agent: "finance",
      title: "t",
      actionId: action.id,
      openedBy: "audit:r1",
    } as const;
    const first = await queue.open(input);
    const second = await queue.open(input);
    expect(first.created).toBe(true);
    expect(second).toEqual({ item: first.item, created: false });
    expect(await auditStatus()).toBe("in_review");
    expect((await queue.list()).map((i) => i.id)).toEqual([first.item.id]);
    await expect(queue.open({ ...input, kind: "nope" as never })).rejects.toThrow(
      /unknown review kind "nope"/,
    );
    await expect(queue.open({ ...input, title: " " })).rejects.toThrow(/needs a title/);
  });

  it("applies an accepted proposal through the agent's handler exactly once", async () => {
    const item = await openItem();
    clock.advance(5000);
    const result = await queue.accept(item.id, { by: "ann" });
    expect(result).toMatchObject({ applied: true, note: "re-categorized as Coffee" });
    expect(result.item).toMatchObject({
      status: "accepted",
      decidedBy: "ann",
      decidedAt: clock.now(),
      appliedNote: "re-categorized as Coffee",
    });
    expect(applied).toEqual([
      {
        correctionId: `review-${item.id}`,
        actionId: action.id,
        agent: "finance",
        original: { category: "Dining" },
        corrected: { category: "Coffee" },
        source: "person",
        reasoning: null,
      },
    ]);
    expect(await auditStatus()).toBe("ruled");

    await expect(queue.accept(item.id, { by: "bob" })).rejects.toThrow(
      new RegExp(
        `review item ${item.id} was already accepted by ann at 2026-01-05T00:00:05.000Z; a decision is final`,
      ),
    );
    await expect(queue.edit(item.id, { category: "Food" }, { by: "bob" })).rejects.toThrow(
      /already accepted/,
    );
    expect(applied).toHaveLength(1);
    expect(await queue.list()).toEqual([]);
  });

  it("applies a person's edited output instead of the proposal", async () => {
    const item = await openItem();
    const result = await queue.edit(
      item.id,
      { category: "Snacks" },
      { by: "ann", reason: "it was a muffin" },
    );
    expect(result.item).toMatchObject({
      status: "edited",
      decisionOutput: { category: "Snacks" },
      decisionReason: "it was a muffin",
    });
    expect(applied.map((c) => [c.corrected, c.reasoning])).toEqual([
      [{ category: "Snacks" }, "it was a muffin"],
    ]);
  });

  it("applies nothing on reject, and the original stands as the person's ruling", async () => {
    const item = await openItem();
    const result = await queue.reject(item.id, { by: "ann", reason: "Dining is right" });
    expect(result).toMatchObject({ applied: false, note: "the original output stands" });
    expect(applied).toEqual([]);
    expect(await queue.personDecisionFor(action.id)).toEqual({
      itemId: item.id,
      actionId: action.id,
      status: "rejected",
      output: { category: "Dining" },
      decidedBy: "ann",
      decidedAt: clock.now(),
      reason: "Dining is right",
    });
    expect(await auditStatus()).toBe("ruled");
  });

  it("has no person decision for an action nobody ruled on", async () => {
    await openItem();
    expect(await queue.personDecisionFor(action.id)).toBeUndefined();
  });

  it("keeps the item open and the decision withdrawn when the handler fails", async () => {
    const handlers = new CorrectionHandlers();
    handlers.register("finance", {
      apply: async () => {
        throw new Error("transaction 42 is locked");
      },
    });
    const failing = new ReviewQueue(stores, { handlers, clock });
    const item = await openItem();
    await expect(failing.accept(item.id, { by: "ann" })).rejects.toThrow(
      new RegExp(
        `the finance agent could not apply review item ${item.id}: transaction 42 is locked; the item stays open`,
      ),
    );
    expect(await queue.get(item.id)).toMatchObject({
      status: "open",
      decidedBy: null,
      decidedAt: null,
      appliedNote: null,
    });
    expect(await auditStatus()).toBe("in_review");
    // Still decidable once the agent can apply it.
    expect((await queue.accept(item.id, { by: "ann" })).item.status).toBe("accepted");
  });

  it("records the decision without applying when no handler is registered for the agent", async () => {
    const bare = new ReviewQueue(stores, { clock });
    const item = await openItem();
    const result = await bare.accept(item.id, { by: "ann" });
    expect(result.applied).toBe(false);
    expect(result.note).toMatch(/no correction handler is registered for agent "finance"/);
    expect(result.item).toMatchObject({ status: "accepted", appliedNote: result.note });
  });

  it("refuses to accept an item that proposes nothing, and unknown ids", async () => {
    const item = await openItem(null);
    await expect(queue.accept(item.id, { by: "ann" })).rejects.toThrow(
      /proposes no output to accept/,
    );
    await expect(queue.accept(999_999, { by: "ann" })).rejects.toThrow(/no review item 999999/);
    await expect(queue.accept(item.id, { by: " " })).rejects.toThrow(/decider's name/);
    expect((await queue.get(item.id))!.status).toBe("open");
  });
});
