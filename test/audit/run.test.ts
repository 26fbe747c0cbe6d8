import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AuditRunningError } from "../../src/audit/claim.js";
import { CorrectionHandlers, type CorrectionToApply } from "../../src/audit/handlers.js";
import { auditDependencies } from "../../src/audit/job.js";
import { buildReport } from "../../src/audit/report.js";
import { type AuditDeps, runAudit } from "../../src/audit/run.js";
import { ManualClock } from "../../src/clock.js";
import { type Config, parseConfig } from "../../src/config.js";
import { startGateway } from "../../src/gateway/server.js";
import { embedderFromConfig } from "../../src/knowledge/embedder-config.js";
import { KnowledgeBase } from "../../src/knowledge/kb.js";
import type { Ledger } from "../../src/ledger/ledger.js";
import { SqliteActionLedger } from "../../src/ledger/sqlite/action-ledger.js";
import { sqliteKnowledgeStore } from "../../src/ledger/sqlite/knowledge.js";
import { sqliteStoresOf } from "../../src/ledger/sqlite/stores-of.js";
import { UserActivity } from "../../src/monitor/activity.js";
import { ReviewQueue } from "../../src/review/queue.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { tempLedger } from "../support/temp-ledger.js";
import { reviewerScript, type ScriptedVerdict } from "./reviewer-script.js";
import { chatAction, DAY, HOUR, insertStages, MINUTE } from "./seed.js";

const NOW = Date.parse("2026-03-10T03:00:00Z");

describe("an audit run", () => {
  let ledger: Ledger;
  let cleanup: () => void;
  let upstream: ScriptedUpstream;
  let clock: ManualClock;
  let applied: CorrectionToApply[];
  let handlers: CorrectionHandlers;
  let closers: (() => Promise<void>)[];

  beforeEach(async () => {
    ({ ledger, cleanup } = tempLedger());
    upstream = await startScriptedUpstream({
      models: ["qwen2.5:7b", "qwen2.5:14b", "nomic-embed-text"],
    });
    clock = new ManualClock(NOW);
    applied = [];
    handlers = new CorrectionHandlers();
    handlers.register("finance", {
      apply: async (c) => {
        applied.push(c);
        return `transaction re-categorized as ${JSON.stringify(c.corrected)}`;
      },
    });
    closers = [];
  });
  afterEach(async () => {
    for (const close of closers) await close();
    await upstream.close();
    cleanup();
  });

  function configWith(audit: Record<string, unknown> = {}): Config {
    return parseConfig({
      models: {
        auditor: { model: "qwen2.5:14b", url: upstream.url, context_window: 32_768 },
        "auditor-small": { model: "qwen2.5:7b", url: upstream.url, context_window: 8192 },
      },
      audit: { sample_rate: 0, ...audit },
    });
  }

  function deps(config: Config): AuditDeps {
    const built = auditDependencies(
      { stores: sqliteStoresOf(ledger), config, clock },
      { handlers },
    );
    closers.push(built.close);
    return built.deps;
  }

  async function seedDay() {
    const at = NOW - DAY;
    const [ruledEarlier] = insertStages(ledger, [
      {
        input: { merchant: "Blue Bottle" },
        output: { category: "Restaurants" },
        at: NOW - 3 * DAY,
      },
    ]);
    // A person settled Blue Bottle as Coffee three days ago.
    const queue = new ReviewQueue(new SqliteActionLedger(ledger, false), { handlers, clock });
    const { item } = await queue.open({
      kind: "other",
      agent: "finance",
      actionId: ruledEarlier!.id,
      title: "Blue Bottle?",
      openedBy: "test",
      original: { category: "Restaurants" },
    });
    await queue.edit(item.id, { category: "Coffee" }, { by: "sam" });
    applied.length = 0;
    const low = { confidence: 0.55, flags: ["low_confidence"] };
    const [starbucks, acme, meeting, summary, blueBottle, skipped] = insertStages(ledger, [
      { input: { merchant: "Starbucks" }, output: { category: "Groceries" }, at, ...low },
      { input: { merchant: "ACME LLC" }, output: { category: "Office" }, at: at + HOUR, ...low },
      {
        agent: "calendar",
        stage: "schedule",
        input: { text: "lunch with Ana friday" },
        output: { day: "Thursday" },
        at: at + 2 * HOUR,
        flags: ["requires_audit"],
      },
      {
        agent: "research",
        stage: "summarize",
        input: { url: "https://example.org" },
        output: { summary: "fine" },
        at: at + 3 * HOUR,
        flags: ["check_failed"],
      },
      {
        input: { merchant: "Blue Bottle" },
        output: { category: "Coffee" },
        at: at + 4 * HOUR,
        ...low,
      },
      { input: { merchant: "Zed" }, output: { category: "Other" }, at: at + 5 * HOUR, ...low },
    ]);
    const unflagged = ledger.actions.insert(
      Array.from({ length: 5 }, (_, i) => chatAction("chat", at + i * 4 * HOUR)),
    );
    return { starbucks, acme, meeting, summary, blueBottle, skipped, unflagged };
  }

  it("corrects confident mistakes, queues doubts and conflicts, verifies the rest", async () => {
    const day = await seedDay();
    const answers = new Map<string, ScriptedVerdict>([
      [
        day.starbucks!.id,
        {
          verdict: "incorrect",
          corrected_output: { category: "Coffee" },
          confidence: 0.95,
          pattern: { scope: "finance", key: "merchant:Starbucks", content: "Starbucks is Coffee" },
        },
      ],
      [day.acme!.id, { verdict: "unsure", confidence: 0.4 }],
      [
        day.meeting!.id,
        { verdict: "incorrect", corrected_output: { day: "Friday" }, confidence: 0.6 },
      ],
      [day.summary!.id, { verdict: "correct", confidence: 0.95 }],
      [
        day.blueBottle!.id,
        { verdict: "incorrect", corrected_output: { category: "Restaurants" }, confidence: 0.97 },
      ],
    ]);
    const reviewer = reviewerScript((id) => answers.get(id), {
      extra: [{ action_id: "not-in-batch", verdict: "incorrect", reasoning: "x", confidence: 1 }],
    });
    upstream.setScript(reviewer.script);

    const outcome = await runAudit(deps(configWith()), { seed: "s" });

    expect(outcome.status).toBe("done");
    const status = (id: string) => ledger.actions.get(id)!.auditStatus;
    expect(status(day.starbucks!.id)).toBe("corrected");
    expect(status(day.summary!.id)).toBe("verified");
    for (const a of [day.acme, day.meeting, day.blueBottle, day.skipped]) {
      expect(status(a!.id)).toBe("in_review");
    }
    for (const a of day.unflagged) expect(status(a.id)).toBe("passed");

    expect(applied).toHaveLength(1);
    expect(applied[0]).toMatchObject({
      actionId: day.starbucks!.id,
      agent: "finance",
      original: { category: "Groceries" },
      corrected: { category: "Coffee" },
      source: "audit",
    });
    const [correction] = await sqliteStoresOf(ledger).audit.runCorrections(outcome.run.id);
    expect(correction).toMatchObject({
      reviewerModel: "qwen2.5:14b",
      confidenceBefore: 0.55,
      confidenceAfter: 0.95,
      applyNote: 'transaction re-categorized as {"category":"Coffee"}',
    });
    expect(correction!.appliedAt).not.toBeNull();

    const queue = new ReviewQueue(new SqliteActionLedger(ledger, false), { clock });
    const kinds = Object.fromEntries((await queue.list()).map((i) => [i.actionId, i.kind]));
    expect(kinds).toEqual({
      [day.acme!.id]: "audit_unsure",
      [day.meeting!.id]: "low_confidence_verdict",
      [day.blueBottle!.id]: "contradicts_person",
      [day.skipped!.id]: "audit_unsure",
    });

    const kb = new KnowledgeBase(sqliteKnowledgeStore(ledger));
    const entry = await kb.store.current("finance", "merchant:Starbucks");
    expect(entry).toMatchObject({ content: "Starbucks is Coffee", sourceKind: "audit_run" });
    expect(entry!.sourceRef).toBe(outcome.run.id);

    const reviewerCalls = ledger.actions.list({ agent: "auditor", actionType: "audit_review" });
    expect(reviewerCalls).toHaveLength(1);
    expect(reviewerCalls[0]!.traceId).toBe(outcome.run.traceId);
  });

  it("reports what the run did, with the day agents' calibration", async () => {
    const day = await seedDay();
    const answers = new Map<string, ScriptedVerdict>([
      [
        day.starbucks!.id,
        { verdict: "incorrect", corrected_output: { category: "Coffee" }, confidence: 0.95 },
      ],
      [day.summary!.id, { verdict: "correct", confidence: 0.95 }],
      [day.meeting!.id, { verdict: "correct", confidence: 0.9 }],
      [
        day.acme!.id,
        { verdict: "incorrect", corrected_output: { category: "Software" }, confidence: 0.9 },
      ],
    ]);
    upstream.setScript(reviewerScript((id) => answers.get(id)).script);
    const { run } = await runAudit(deps(configWith()), { seed: "s" });

    const report = await buildReport(sqliteStoresOf(ledger).audit, run.id.slice(0, 12));
    expect(report.items).toEqual({
      total: 6,
      by_reason: { low_confidence: 4, requires_audit: 1, check_failed: 1 },
      by_agent: { finance: 4, calendar: 1, research: 1 },
    });
    expect(report.verdicts).toEqual({ correct: 2, incorrect: 2, unsure: 2, pending: 0 });
    expect(report.outcomes).toEqual({ corrected: 2, verified: 2, in_review: 2 });
    expect(report.corrections).toMatchObject({ total: 2, applied: 2, waiting: 0, failed: 0 });
    expect(report.review_items_opened).toBe(2);
    expect(report.passed).toBe(5);
    expect(report.usage.reviewer_calls).toBe(1);
    expect(report.usage.tokens_in).toBeGreaterThan(0);
    // Four finance items at 0.55 (two judged wrong, two left unsure), two others at 0.9 judged right.
    expect(report.calibration).toEqual([
      { bucket: "0.0–0.5", reviewed: 0, judged: 0, wrong: 0, wrong_rate: null, unsure: 0 },
      { bucket: "0.5–0.7", reviewed: 4, judged: 2, wrong: 2, wrong_rate: 1, unsure: 2 },
      { bucket: "0.7–0.8", reviewed: 0, judged: 0, wrong: 0, wrong_rate: null, unsure: 0 },
      { bucket: "0.8–0.9", reviewed: 0, judged: 0, wrong: 0, wrong_rate: null, unsure: 0 },
      { bucket: "0.9–1.0", reviewed: 2, judged: 2, wrong: 0, wrong_rate: 0, unsure: 0 },
    ]);
  });

  it("reviews actions of different agents close in time together and keeps their insight", async () => {
    const at = NOW - DAY;
    const [meeting, purchase] = insertStages(ledger, [
      {
        agent: "calendar",
        stage: "schedule",
        input: { text: "board meeting 14:00-15:00" },
        output: { start: "14:00" },
        at,
        flags: ["low_confidence"],
      },
      {
        input: { merchant: "Apple Store" },
        output: { category: "Electronics" },
        at: at + 20 * MINUTE,
        flags: ["low_confidence"],
      },
    ]);
    const reviewer = reviewerScript(() => ({ verdict: "correct", confidence: 0.9 }), {
      insights: (ids) => [
        { action_ids: ids, description: "a purchase made during a board meeting", confidence: 0.7 },
        {
          action_ids: [ids[0], "someone-else"],
          description: "names an unseen action",
          confidence: 0.9,
        },
      ],
    });
    upstream.setScript(reviewer.script);
    const { run } = await runAudit(deps(configWith({ batch_max_items: 2 })), { seed: "s" });

    expect(reviewer.calls).toEqual([[meeting!.id, purchase!.id]]);
    const insights = await sqliteStoresOf(ledger).audit.runInsights(run.id);
    expect(insights).toHaveLength(1);
    expect(insights[0]).toMatchObject({
      actionIds: [meeting!.id, purchase!.id],
      agents: ["calendar", "finance"],
      description: "a purchase made during a board meeting",
    });
  });

  it("pauses between batches and resumes without reviewing or correcting anything twice", async () => {
    const day = await seedDay();
    const reviewer = reviewerScript((id) =>
      id === day.starbucks!.id
        ? { verdict: "incorrect", corrected_output: { category: "Coffee" }, confidence: 0.95 }
        : { verdict: "correct", confidence: 0.9 },
    );
    upstream.setScript(reviewer.script);
    const config = configWith({ batch_max_items: 2, cross_agent_window_min: 1 });
    let batches = 0;
    const checkpoints: unknown[] = [];
    const first = await runAudit(deps(config), {
      seed: "s",
      shouldPause: () => batches >= 1,
      onBatch: () => batches++,
      saveCheckpoint: (state) => {
        checkpoints.push(state);
      },
    });
    expect(first.status).toBe("paused");
    expect(first.run.nextBatch).toBe(1);
    expect(checkpoints.at(-1)).toMatchObject({ run_id: first.run.id, next_batch: 1, batches: 3 });

    const second = await runAudit(deps(config), {});
    expect(second).toMatchObject({ status: "done", run: { id: first.run.id, status: "done" } });
    const reviewed = reviewer.calls.flat();
    expect(reviewed).toHaveLength(6);
    expect(new Set(reviewed).size).toBe(6);
    expect(applied.filter((c) => c.source === "audit")).toHaveLength(1);
    expect(await sqliteStoresOf(ledger).audit.runCorrections(first.run.id)).toHaveLength(1);
  });

  it("on a pause, cuts a reviewer call that outlasts the grace period and redoes only that batch", async () => {
    await seedDay();
    // The second reviewer call hangs far longer than any pause may take.
    const reviewer = reviewerScript(() => ({ verdict: "correct", confidence: 0.9 }), {
      reply: (call) => (call === 2 ? { delayMs: 30_000 } : {}),
    });
    upstream.setScript(reviewer.script);
    const config = configWith({ batch_max_items: 2, cross_agent_window_min: 1 });
    const controller = new AbortController();
    const started = performance.now();
    const first = await runAudit(deps(config), {
      seed: "s",
      signal: controller.signal,
      onBatch: () => setTimeout(() => controller.abort(new Error("user is back")), 100),
    });
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(first).toMatchObject({ status: "paused", run: { nextBatch: 1, status: "paused" } });

    upstream.setScript(reviewerScript(() => ({ verdict: "correct", confidence: 0.9 })).script);
    const second = await runAudit(deps(config), {});
    expect(second).toMatchObject({ status: "done", run: { id: first.run.id } });
    // The cut call's items were sent again, the first batch's were not.
    const firstBatch = reviewer.calls[0]!;
    const resumed = upstream.requests.slice(-2).map((r) => JSON.stringify(r.body));
    for (const id of firstBatch) expect(resumed.some((body) => body.includes(id))).toBe(false);
  });

  it("embeds the patterns it wrote when an embedder is configured", async () => {
    const day = await seedDay();
    upstream.setScript(
      reviewerScript((id) =>
        id === day.starbucks!.id
          ? {
              verdict: "incorrect",
              corrected_output: { category: "Coffee" },
              confidence: 0.95,
              pattern: {
                scope: "finance",
                key: "merchant:Starbucks",
                content: "Starbucks is Coffee",
              },
            }
          : { verdict: "correct", confidence: 0.9 },
      ).script,
    );
    const config = configWith();
    config.models.embedder = { model: "nomic-embed-text", backend: "ollama", url: upstream.url };
    const outcome = await runAudit(deps(config), { seed: "s" });
    expect(outcome.status).toBe("done");
    const embeds = upstream.requests.filter((r) => r.path === "/api/embed");
    expect(embeds.map((r) => JSON.stringify(r.body)).join()).toContain("Starbucks is Coffee");
    const hits = await new KnowledgeBase(sqliteKnowledgeStore(ledger), {
      embedder: embedderFromConfig(config)!,
    }).searchDetailed({ text: "Starbucks", scopes: ["finance"] });
    expect(hits.mode).toBe("hybrid");
  });

  it("runs the smaller reviewer in degraded mode", async () => {
    const day = await seedDay();
    const reviewer = reviewerScript(() => ({ verdict: "correct", confidence: 0.9 }));
    upstream.setScript(reviewer.script);
    const { run } = await runAudit(deps(configWith()), { mode: "degraded" });
    expect(run).toMatchObject({
      mode: "degraded",
      reviewerRole: "auditor-small",
      reviewerModel: "qwen2.5:7b",
    });
    const models = upstream.requests.map((r) => (r.body as { model?: string }).model);
    expect(new Set(models)).toEqual(new Set(["qwen2.5:7b"]));
    expect(ledger.actions.get(day.summary!.id)!.auditStatus).toBe("verified");
  });

  it("sends the reviewer through the gateway, logged as agent auditor and not as user activity", async () => {
    const day = await seedDay();
    upstream.setScript(reviewerScript(() => ({ verdict: "correct", confidence: 0.9 })).script);
    const activity = new UserActivity();
    const gateway = await startGateway({
      config: parseConfig({ server: { port: 0 }, upstreams: { default: upstream.url } }),
      ledger,
      activity,
    });
    closers.push(() => gateway.close());
    const config = parseConfig({
      server: { port: gateway.port },
      models: { auditor: { model: "qwen2.5:14b", context_window: 32_768 } },
      audit: { sample_rate: 0 },
    });
    const { run } = await runAudit(deps(config), {});
    ledger.writer.flush();

    const calls = ledger.actions.list({ agent: "auditor", actionType: "chat" });
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ model: "qwen2.5:14b", traceId: run.traceId });
    expect(ledger.actions.get(calls[0]!.parentId!)!.actionType).toBe("attempt");
    expect(activity.lastActiveAt()).toBeNull();
    expect(ledger.actions.get(day.summary!.id)!.auditStatus).toBe("verified");
  });

  it("shows each item with its trace: the parent run and the sibling stages", async () => {
    const at = NOW - DAY;
    const [root] = ledger.actions.insert([
      chatAction("finance", at, { actionType: "agent_run", model: null }),
    ]);
    const [reason, expert] = insertStages(ledger, [
      {
        stage: "reason",
        input: { request: "categorize" },
        output: { prompt: "Is SQ *BLUE BOTTLE a coffee shop?" },
        at: at + 1,
        parentId: root!.id,
        traceId: root!.traceId,
      },
      {
        stage: "expert",
        input: { prompt: "Is SQ *BLUE BOTTLE a coffee shop?" },
        output: { category: "Restaurants" },
        at: at + 2,
        flags: ["low_confidence"],
        parentId: root!.id,
        traceId: root!.traceId,
      },
    ]);
    const prompts: string[] = [];
    const reviewer = reviewerScript(() => ({ verdict: "correct", confidence: 0.9 }));
    upstream.setScript((request) => {
      prompts.push(request.prompt);
      return reviewer.script(request);
    });
    await runAudit(deps(configWith()), {});
    expect(reviewer.calls).toEqual([[expert!.id]]);
    const item = JSON.parse(prompts[0]!.split(/### Item 1 of 1\n/)[1]!) as {
      trace: {
        parent: { action_id: string };
        sibling_stages: { action_id: string; output: unknown }[];
      };
    };
    expect(item.trace.parent.action_id).toBe(root!.id);
    expect(item.trace.sibling_stages).toEqual([
      expect.objectContaining({
        action_id: reason!.id,
        output: { prompt: "Is SQ *BLUE BOTTLE a coffee shop?" },
      }),
    ]);
  });

  it("keeps every reviewer call inside the reviewer's context window", async () => {
    const at = NOW - DAY;
    const long = "x".repeat(3000);
    insertStages(
      ledger,
      Array.from({ length: 12 }, (_, i) => ({
        input: { merchant: `m${i}`, memo: long },
        output: { category: "c", note: long },
        at: at + i * HOUR,
        flags: ["low_confidence"],
      })),
    );
    const reviewer = reviewerScript(() => ({ verdict: "correct", confidence: 0.9 }));
    const sizes: number[] = [];
    upstream.setScript((request) => {
      const messages = request.body.messages as { content: string }[];
      sizes.push(messages.reduce((sum, m) => sum + m.content.length, 0));
      expect((request.body.options as { num_ctx?: number }).num_ctx).toBe(6000);
      return reviewer.script(request);
    });
    const config = parseConfig({
      models: { auditor: { model: "qwen2.5:14b", url: upstream.url, context_window: 6000 } },
      audit: { sample_rate: 0 },
    });
    const { run } = await runAudit(deps(config), {});
    expect(run.batches).toBeGreaterThan(2);
    expect(reviewer.calls.flat()).toHaveLength(12);
    // About four characters a token, with room left for the reply.
    for (const chars of sizes) expect(chars / 4).toBeLessThan(6000 - 12 * 200);
  });

  it("leaves alone an action a person ruled on while the run was under way", async () => {
    const day = await seedDay();
    const queue = new ReviewQueue(new SqliteActionLedger(ledger, false), { handlers, clock });
    const reviewer = reviewerScript(() => ({
      verdict: "incorrect",
      corrected_output: { category: "Coffee" },
      confidence: 0.99,
    }));
    upstream.setScript(async (request) => {
      const { item } = await queue.open({
        kind: "other",
        agent: "finance",
        actionId: day.starbucks!.id,
        title: "asked by a person",
        openedBy: "sam",
      });
      await queue.reject(item.id, { by: "sam" });
      return reviewer.script(request);
    });
    const { run } = await runAudit(deps(configWith()), {});
    expect(ledger.actions.get(day.starbucks!.id)!.auditStatus).toBe("ruled");
    const audit = sqliteStoresOf(ledger).audit;
    expect(
      (await audit.runItems(run.id)).find((i) => i.actionId === day.starbucks!.id)!.outcome,
    ).toBe("ruled");
    expect((await audit.runCorrections(run.id)).map((c) => c.actionId)).not.toContain(
      day.starbucks!.id,
    );
  });

  it("keeps a correction whose handler failed pending, and applies it on the next run", async () => {
    const day = await seedDay();
    let failing = true;
    handlers.register("finance", {
      apply: async () => {
        if (failing) throw new Error("the transactions table is locked");
        return "re-categorized";
      },
    });
    upstream.setScript(
      reviewerScript((id) =>
        id === day.starbucks!.id
          ? { verdict: "incorrect", corrected_output: { category: "Coffee" }, confidence: 0.95 }
          : { verdict: "correct", confidence: 0.9 },
      ).script,
    );
    const { run } = await runAudit(deps(configWith()), {});
    const audit = sqliteStoresOf(ledger).audit;
    expect((await audit.runCorrections(run.id))[0]).toMatchObject({
      appliedAt: null,
      applyError: "the transactions table is locked",
    });
    expect((await buildReport(sqliteStoresOf(ledger).audit, run.id)).corrections).toMatchObject({
      total: 1,
      failed: 1,
    });

    failing = false;
    await clock.advance(DAY);
    await runAudit(deps(configWith()), {});
    expect((await audit.runCorrections(run.id))[0]).toMatchObject({
      applyNote: "re-categorized",
      applyError: null,
    });
    expect((await audit.runCorrections(run.id))[0]!.appliedAt).not.toBeNull();
  });

  it("runs one of two audits started together; the other names the running run", async () => {
    const day = await seedDay();
    upstream.setScript(
      reviewerScript((id) =>
        id === day.starbucks!.id
          ? { verdict: "incorrect", corrected_output: { category: "Coffee" }, confidence: 0.95 }
          : { verdict: "correct", confidence: 0.9 },
      ).script,
    );
    const config = configWith({ batch_max_items: 2 });
    const results = await Promise.allSettled([
      runAudit(deps(config), {}),
      runAudit(deps(config), {}),
    ]);
    const done = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    const refused = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    expect(done).toHaveLength(1);
    expect(refused).toHaveLength(1);
    const a = done[0]!;
    expect(refused[0]).toBeInstanceOf(AuditRunningError);
    expect((refused[0] as Error).message).toContain(
      `an audit is already running: run ${a.run.id} on `,
    );
    expect((refused[0] as Error).message).toContain(
      `pid ${process.pid}, started 2026-03-10T03:00:00.000Z`,
    );
    const audit = sqliteStoresOf(ledger).audit;
    expect(await audit.listRuns()).toHaveLength(1);
    expect(await audit.runCorrections(a.run.id)).toHaveLength(1);
    expect(applied.filter((c) => c.source === "audit")).toHaveLength(1);
  });
});
