import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { crossAgentClusters, planBatches } from "../../src/audit/batch.js";
import { sampleQuota, selectForAudit } from "../../src/audit/select.js";
import type { NewAction } from "../../src/ledger/actions.js";
import { newActionId } from "../../src/ledger/ids.js";
import type { AuditStore, LedgerStores } from "../../src/ledger/stores/index.js";
import { ENGINES } from "../support/engines.js";
import { chatAction, DAY, HOUR, MINUTE } from "./seed.js";

const NOW = Date.parse("2026-03-10T03:00:00Z");

/** Marks an action audited the way a run does: through a run's batch commit. */
async function markAudited(audit: AuditStore, actionId: string): Promise<void> {
  const claim = { owner: "test", host: "test", now: NOW, staleAfterMs: 60_000 };
  const run = {
    id: newActionId(NOW),
    seed: "s",
    traceId: "t",
    mode: "normal" as const,
    reviewerRole: "auditor",
    reviewerModel: "m",
    windowStart: 0,
    windowEnd: 0,
    sampleRate: 0,
    batches: 1,
    startedAt: NOW,
  };
  await audit.createRun(run, [], claim);
  const statuses = [{ actionId, status: "verified" as const }];
  const empty = { results: [], corrections: [], insights: [] };
  await audit.commitBatch({ runId: run.id, owner: "test", batch: 0, statuses, ...empty, at: NOW });
  await audit.finishRun(run.id, "test", NOW);
}

/** Actions with ids chosen up front, so a child can name its parent in the same insert. */
function withIds(actions: NewAction[]): NewAction[] {
  return actions.map((a) => ({ id: newActionId(a.startedAt), ...a }));
}

describe.each(ENGINES)("audit selection on $name", (engine) => {
  let stores: LedgerStores;
  let close: () => Promise<void>;
  let store: AuditStore;
  const window = { since: NOW - 7 * DAY, until: NOW, sampleRate: 0.05 };

  beforeEach(async (context) => {
    if (!engine.available) return context.skip();
    ({ stores, close } = await engine.open("select"));
    store = stores.audit;
  });
  afterEach(async () => {
    await close?.();
  });

  /** Unflagged chats spread over the window, per agent. */
  async function seedBusyAndQuietAgents(): Promise<void> {
    const counts = { finance: 1200, calendar: 300, research: 40, code: 3 };
    const rows = Object.entries(counts).flatMap(([agent, n]) =>
      Array.from({ length: n }, (_, i) => chatAction(agent, NOW - 6 * DAY + i * 7 * MINUTE)),
    );
    await stores.actions.insert(rows);
  }

  it("takes every flagged, failed or check-failed action and names why", async () => {
    const at = NOW - DAY;
    const [low, must, check, failed] = await stores.actions.insert([
      chatAction("finance", at, { flags: ["low_confidence"] }),
      chatAction("finance", at + 1, { flags: ["low_confidence", "requires_audit"] }),
      chatAction("calendar", at + 2, { flags: ["check_failed"] }),
      chatAction("research", at + 3, { status: "error", error: "upstream answered 500" }),
    ]);
    const { items } = await selectForAudit(store, { ...window, seed: "s1", sampleRate: 0 });
    expect(items.map((i) => [i.actionId, i.reason])).toEqual([
      [low!.id, "low_confidence"],
      [must!.id, "requires_audit"],
      [check!.id, "check_failed"],
      [failed!.id, "error"],
    ]);
  });

  it("takes a runtime stage that failed with requires_audit, even though no model won", async () => {
    const at = NOW - DAY;
    // As the runtime writes a stage with no valid reply (older rows carry no model), and its
    // failed attempt beneath it, which is the stage's trace rather than an item of its own.
    const failedStage = {
      actionType: "categorize.reasoner",
      status: "error" as const,
      error: 'stage "categorize.reasoner" got no valid reply in 2 attempt(s)',
      flags: ["requires_audit"],
      response: null,
    };
    const rows = withIds([
      chatAction("finance", at, { ...failedStage, model: null }),
      chatAction("finance", at + 1, { ...failedStage, actionType: "ask.query" }),
      chatAction("finance", at + 2, { actionType: "attempt", status: "error", flags: [] }),
      chatAction("finance", at + 3, { model: null }),
    ]);
    rows[2]!.parentId = rows[1]!.id!;
    const [withoutModel, withModel, , unflaggedNoModel] = await stores.actions.insert(rows);
    const { items } = await selectForAudit(store, { ...window, seed: "s1", sampleRate: 1 });
    expect(items.map((i) => [i.actionId, i.reason])).toEqual([
      [withoutModel!.id, "requires_audit"],
      [withModel!.id, "requires_audit"],
    ]);
    expect(items.map((i) => i.actionId)).not.toContain(unflaggedNoModel!.id);
  });

  it("skips what was audited, the auditor's own calls, embeddings, attempts and old actions", async () => {
    const at = NOW - DAY;
    const flagged = { flags: ["requires_audit"] };
    const rows = withIds([
      chatAction("finance", at, flagged),
      chatAction("auditor", at, flagged),
      chatAction("finance", at, { ...flagged, actionType: "embed" }),
      chatAction("finance", at, { ...flagged, actionType: "categorize" }),
      chatAction("finance", at + 1, { ...flagged, actionType: "attempt" }),
      chatAction("finance", at + 2, { ...flagged }),
      chatAction("finance", NOW - 8 * DAY, flagged),
    ]);
    // The runtime's attempt, and the gateway call it made, are the stage's trace, not items.
    rows[4]!.parentId = rows[3]!.id!;
    rows[5]!.parentId = rows[4]!.id!;
    const [audited, , , stage] = await stores.actions.insert(rows);
    await markAudited(store, audited!.id);
    const { items } = await selectForAudit(store, { ...window, seed: "s1" });
    expect(items.map((i) => i.actionId)).toEqual([stage!.id]);
  });

  it("samples about 5 % of the rest, the same actions for the same seed", async () => {
    await seedBusyAndQuietAgents();
    const first = await selectForAudit(store, { ...window, seed: "night-1" });
    const again = await selectForAudit(store, { ...window, seed: "night-1" });
    const other = await selectForAudit(store, { ...window, seed: "night-2" });
    const ids = (s: typeof first) => s.items.map((i) => i.actionId);
    expect(ids(again)).toEqual(ids(first));
    expect(ids(other)).not.toEqual(ids(first));
    const rate = first.items.length / first.reviewable;
    expect(rate).toBeGreaterThan(0.045);
    expect(rate).toBeLessThan(0.06);
    expect(first.items.every((i) => i.reason === "sample")).toBe(true);
  });

  it("spreads the sample across agents so a busy one does not crowd out the rest", async () => {
    await seedBusyAndQuietAgents();
    const { items } = await selectForAudit(store, { ...window, seed: "night-1" });
    const perAgent = Object.fromEntries(
      ["finance", "calendar", "research", "code"].map((agent) => [
        agent,
        items.filter((i) => i.agent === agent).length,
      ]),
    );
    expect(perAgent).toEqual({ finance: 60, calendar: 15, research: 2, code: 1 });
    expect(sampleQuota(0, 0.05)).toBe(0);
    expect(sampleQuota(10, 0)).toBe(0);
  });
});

describe("audit batches", () => {
  const budget = {
    contextWindow: 4000,
    fixedTokens: 500,
    replyPerItem: 200,
    replyReserve: 500,
    maxItems: 16,
  };

  it("fills each batch up to the reviewer's context window and never past it", async () => {
    const items = Array.from({ length: 30 }, (_, i) => ({
      agent: "finance",
      startedAt: i * HOUR,
      tokens: 300 + (i % 5) * 100,
    }));
    const { planned, batches } = planBatches(items, budget, (item) => item.tokens, 30 * MINUTE);
    expect(planned).toHaveLength(30);
    const room = budget.contextWindow - budget.fixedTokens - budget.replyReserve;
    for (let b = 0; b < batches; b++) {
      const used = planned
        .filter((p) => p.batch === b)
        .reduce((sum, p) => sum + p.item.tokens + budget.replyPerItem, 0);
      expect(used).toBeLessThanOrEqual(room);
      expect(used).toBeGreaterThan(room / 2);
    }
    expect(batches).toBeGreaterThan(5);
  });

  it("shortens an item too long for any batch rather than dropping it", async () => {
    const items = [{ agent: "finance", startedAt: 0 }];
    const cost = (_: unknown, level: number) => [9000, 5000, 900][level]!;
    const { planned } = planBatches(items, budget, cost, 0);
    expect(planned).toEqual([{ item: items[0], batch: 0, level: 2 }]);
  });

  it("keeps actions of different agents close in time in the same batch", async () => {
    // One finance item per hour; a calendar meeting 10 minutes after the 7th.
    const items = Array.from({ length: 12 }, (_, i) => ({ agent: "finance", startedAt: i * HOUR }));
    items.push({ agent: "calendar", startedAt: 6 * HOUR + 10 * MINUTE });
    const cost = () => 600;
    const { planned } = planBatches(items, budget, cost, 30 * MINUTE);
    const batchOf = (i: number) => planned.find((p) => p.item === items[i])!.batch;
    expect(batchOf(12)).toBe(batchOf(6));
    expect(crossAgentClusters(items, 30 * MINUTE).find((c) => c.length > 1)).toEqual([6, 12]);
  });
});
