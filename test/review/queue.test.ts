import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CorrectionHandlers, type CorrectionToApply } from "../../src/audit/handlers.js";
import { ManualClock } from "../../src/clock.js";
import type { Action } from "../../src/ledger/actions.js";
import type { Ledger } from "../../src/ledger/ledger.js";
import { ReviewQueue } from "../../src/review/queue.js";
import { tempLedger } from "../support/temp-ledger.js";

describe("human review queue", () => {
  let ledger: Ledger;
  let cleanup: () => void;
  let applied: CorrectionToApply[];
  let queue: ReviewQueue;
  let action: Action;
  let clock: ManualClock;

  beforeEach(() => {
    ({ ledger, cleanup } = tempLedger());
    clock = new ManualClock();
    applied = [];
    const handlers = new CorrectionHandlers();
    handlers.register("finance", {
      apply: async (correction) => {
        applied.push(correction);
        return `re-categorized as ${(correction.corrected as { category: string }).category}`;
      },
    });
    queue = new ReviewQueue(ledger, { handlers, clock });
    action = ledger.actions.insertOne({
      agent: "finance",
      actionType: "stage",
      startedAt: clock.now(),
      status: "ok",
      response: { category: "Dining" },
      confidence: 0.6,
    });
  });
  afterEach(() => cleanup());

  function openItem(proposed: unknown = { category: "Coffee" }) {
    return queue.open({
      kind: "audit_unsure",
      agent: "finance",
      title: "STARBUCKS #12: Dining or Coffee?",
      actionId: action.id,
      original: { category: "Dining" },
      proposed,
      reasoning: "coffee shop",
      confidence: 0.55,
      openedBy: "audit:r1",
    }).item;
  }

  it("opens one item per action and kind, and marks the action in review", () => {
    const first = queue.open({
      kind: "audit_unsure",
      agent: "finance",
      title: "t",
      actionId: action.id,
      openedBy: "audit:r1",
    });
    const second = queue.open({
      kind: "audit_unsure",
      agent: "finance",
      title: "t",
      actionId: action.id,
      openedBy: "audit:r1",
    });
    expect(first.created).toBe(true);
    expect(second).toEqual({ item: first.item, created: false });
    expect(ledger.actions.get(action.id)!.auditStatus).toBe("in_review");
    expect(queue.list().map((i) => i.id)).toEqual([first.item.id]);
  });

  it("applies an accepted proposal through the agent's handler exactly once", async () => {
    const item = openItem();
    clock.advance(5000);
    const result = await queue.accept(item.id, { by: "ann" });
    expect(result).toMatchObject({ applied: true, note: "re-categorized as Coffee" });
    expect(result.item).toMatchObject({
      status: "accepted",
      decidedBy: "ann",
      decidedAt: clock.now(),
    });
    expect(applied).toEqual([
      {
        correctionId: `review-${item.id}`,
        actionId: action.id,
        agent: "finance",
        original: { category: "Dining" },
        corrected: { category: "Coffee" },
        source: "person",
      },
    ]);
    expect(ledger.actions.get(action.id)!.auditStatus).toBe("ruled");

    await expect(queue.accept(item.id, { by: "bob" })).rejects.toThrow(
      /review item 1 was already accepted by ann at 2026-01-05T00:00:05.000Z; a decision is final/,
    );
    await expect(queue.edit(item.id, { category: "Food" }, { by: "bob" })).rejects.toThrow(
      /already accepted/,
    );
    expect(applied).toHaveLength(1);
    expect(queue.list()).toEqual([]);
  });

  it("applies a person's edited output instead of the proposal", async () => {
    const item = openItem();
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
    expect(applied.map((c) => c.corrected)).toEqual([{ category: "Snacks" }]);
  });

  it("applies nothing on reject, and the original stands as the person's ruling", async () => {
    const item = openItem();
    const result = await queue.reject(item.id, { by: "ann", reason: "Dining is right" });
    expect(result).toMatchObject({ applied: false, note: "the original output stands" });
    expect(applied).toEqual([]);
    expect(queue.personDecisionFor(action.id)).toEqual({
      itemId: item.id,
      actionId: action.id,
      status: "rejected",
      output: { category: "Dining" },
      decidedBy: "ann",
      decidedAt: clock.now(),
      reason: "Dining is right",
    });
    expect(ledger.actions.get(action.id)!.auditStatus).toBe("ruled");
  });

  it("has no person decision for an action nobody ruled on", () => {
    openItem();
    expect(queue.personDecisionFor(action.id)).toBeUndefined();
  });

  it("keeps the item open and records nothing when the handler fails", async () => {
    const handlers = new CorrectionHandlers();
    handlers.register("finance", {
      apply: async () => {
        throw new Error("transaction 42 is locked");
      },
    });
    const failing = new ReviewQueue(ledger, { handlers, clock });
    const item = openItem();
    await expect(failing.accept(item.id, { by: "ann" })).rejects.toThrow(
      /the finance agent could not apply review item 1: transaction 42 is locked; the item stays open/,
    );
    expect(queue.get(item.id)!.status).toBe("open");
    expect(ledger.actions.get(action.id)!.auditStatus).toBe("in_review");
  });

  it("records the decision without applying when no handler is registered for the agent", async () => {
    const bare = new ReviewQueue(ledger, { clock });
    const item = openItem();
    const result = await bare.accept(item.id, { by: "ann" });
    expect(result.applied).toBe(false);
    expect(result.note).toMatch(/no correction handler is registered for agent "finance"/);
    expect(result.item.status).toBe("accepted");
  });

  it("refuses to accept an item that proposes nothing, and unknown ids", async () => {
    const item = openItem(null);
    await expect(queue.accept(item.id, { by: "ann" })).rejects.toThrow(
      /proposes no output to accept/,
    );
    await expect(queue.accept(999, { by: "ann" })).rejects.toThrow(/no review item 999/);
  });
});
