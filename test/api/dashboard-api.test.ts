import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApiHandler } from "../../src/api/handler.js";
import { ManualClock } from "../../src/clock.js";
import { parseConfig } from "../../src/config.js";
import { KnowledgeBase } from "../../src/knowledge/kb.js";
import type { NewAction } from "../../src/ledger/actions.js";
import type { Ledger } from "../../src/ledger/ledger.js";
import { sqliteKnowledgeStore } from "../../src/ledger/sqlite/knowledge.js";
import { seedAuditRun } from "../support/audit-seed.js";
import { tempLedger } from "../support/temp-ledger.js";

// biome-ignore lint/suspicious/noExplicitAny: replies are checked by value
type Body = any;
const NOW = new Date(2026, 2, 10, 15, 0, 0).getTime();

describe("the API the dashboard reads", () => {
  let ledger: Ledger;
  let cleanup: () => void;
  let server: Server;
  let base: string;
  let kb: KnowledgeBase;

  beforeEach(async () => {
    ({ ledger, cleanup } = tempLedger());
    kb = new KnowledgeBase(sqliteKnowledgeStore(ledger));
    const clock = new ManualClock(NOW);
    // Nothing listens on port 9: the overview reports the upstream down at once.
    const config = parseConfig({ upstreams: { default: "http://127.0.0.1:9" } });
    const api = createApiHandler({ ledger, kb, config, clock, log: () => {} });
    server = createServer((req, res) => void api(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    cleanup();
  });

  const get = async (path: string) => {
    const response = await fetch(`${base}${path}`);
    return { status: response.status, body: (await response.json()) as Body };
  };
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Body };
  };
  const call = (i: number, extra: Partial<NewAction> = {}): NewAction => ({
    agent: i % 2 ? "finance" : "calendar",
    actionType: "chat",
    model: i % 3 ? "qwen2.5:7b" : "llama3.1:8b",
    // Ten actions share each millisecond: paging must not skip or repeat any of them.
    startedAt: NOW - 3_600_000 + Math.floor(i / 10),
    status: i % 7 === 0 ? "error" : "ok",
    latencyMs: i + 1,
    tokensIn: 10,
    tokensOut: 2,
    request: { model: "qwen2.5:7b", messages: [{ role: "user", content: `invoice number ${i}` }] },
    ...extra,
  });

  it("pages through every action once, newest first, by cursor", async () => {
    ledger.actions.insert(Array.from({ length: 250 }, (_, i) => call(i)));
    const seen: string[] = [];
    let cursor = "";
    for (let page = 0; page < 5; page++) {
      const { body } = await get(`/v0/actions?view=summary&limit=100&cursor=${cursor}`);
      seen.push(...body.actions.map((a: Body) => a.id));
      expect(body.actions[0]).not.toHaveProperty("request");
      if (!body.next_cursor) break;
      cursor = body.next_cursor;
    }
    expect(seen).toHaveLength(250);
    expect(new Set(seen).size).toBe(250);
    const all = ledger.actions.list({ limit: 1000 }).map((a) => a.id);
    expect(seen).toEqual(all);
  });

  it("filters by model, status, audit status and text, and shows a preview", async () => {
    ledger.actions.insert(Array.from({ length: 30 }, (_, i) => call(i)));
    const llama = await get("/v0/actions?view=summary&model=llama3.1:8b");
    expect(llama.body.actions).toHaveLength(10);
    const errors = await get("/v0/actions?status=error&agent=finance");
    expect(errors.body.actions.map((a: Body) => a.request.messages[0].content).sort()).toEqual([
      "invoice number 21",
      "invoice number 7",
    ]);
    const text = await get("/v0/actions?view=summary&q=INVOICE%20NUMBER%2012");
    expect(text.body.actions.map((a: Body) => a.preview)).toEqual(["invoice number 12"]);
    const unaudited = await get("/v0/actions?audit_status=none&limit=5");
    expect(unaudited.body.actions).toHaveLength(5);
    expect((await get("/v0/actions?audit_status=verified")).body.actions).toHaveLength(0);
    expect((await get("/v0/actions?status=broken")).body.error).toBe(
      "status=broken: use one of ok, error",
    );
    expect((await get("/v0/actions?cursor=bm9wZQ")).body.error).toMatch(
      /not a cursor this API gave out/,
    );
  });

  it("gives a trace as a tree, and today's totals and percentiles", async () => {
    const [root] = ledger.actions.insert([call(1, { actionType: "run" })]);
    const [stage] = ledger.actions.insert([
      call(2, { traceId: root!.traceId, parentId: root!.id, actionType: "stage" }),
    ]);
    ledger.actions.insert([
      call(3, { traceId: root!.traceId, parentId: stage!.id, actionType: "attempt" }),
      // Yesterday's call counts for nothing today.
      call(4, { startedAt: NOW - 24 * 3_600_000 }),
    ]);
    const { body: trace } = await get(`/v0/actions/${stage!.id}/trace`);
    expect(trace.roots).toHaveLength(1);
    expect(trace.roots[0].action.action_type).toBe("run");
    expect(trace.roots[0].children[0].action.action_type).toBe("stage");
    expect(trace.roots[0].children[0].children[0].action.action_type).toBe("attempt");

    const { body: overview } = await get("/v0/overview");
    expect(overview.totals).toEqual({ calls: 3, errors: 0, tokens_in: 30, tokens_out: 6 });
    expect(overview.latency_ms).toEqual({ p50: 3, p90: 4, p99: 4 });
    expect(overview.upstreams).toMatchObject([{ url: "http://127.0.0.1:9", up: false }]);
    expect(overview.review_open).toBe(0);
  });

  it("rolls a knowledge entry back as a person, and says why it cannot", async () => {
    const person = { kind: "person" as const, ref: "sam" };
    await kb.put({ scope: "shared", key: "tone", content: "formal" }, person);
    await kb.put({ scope: "shared", key: "tone", content: "casual" }, person);
    const done = await post("/v0/kb/shared/tone/rollback", { version: 1, by: "ann" });
    expect(done.body).toMatchObject({
      version: 3,
      content: "formal",
      note: "rollback to v1",
      provenance: { kind: "person", ref: "ann" },
    });
    expect((await post("/v0/kb/shared/tone/rollback", {})).body.error).toMatch(
      /rollback needs the version/,
    );
    expect((await post("/v0/kb/shared/tone/rollback", { version: 9 })).status).toBe(404);
    const revert = await post("/v0/audit/runs/r-none/revert-knowledge", {});
    expect(revert.status).toBe(404);
    expect(revert.body.error).toMatch(/wrote no knowledge entries/);
  });

  it("answers the machine's series for a range and refuses an unknown one", async () => {
    const { body } = await get("/v0/monitor/series?range=6h");
    expect(body).toMatchObject({ range: "6h", resolution: "raw", ts: [], gpus: {} });
    expect((await get("/v0/monitor/series?range=2y")).body.error).toMatch(/range=2y: use one of/);
    expect((await get("/v0/monitor/idle")).body.reasons).toBe("not enough data");
    expect((await get("/v0/audit/runs")).body).toEqual({ runs: [] });
    expect((await get("/v0/audit/runs/latest")).status).toBe(404);
  });
  it("shows an action's audit verdict and corrections, and the learning curve per day", async () => {
    const DAY = 24 * 3_600_000;
    const actions = ledger.actions.insert(
      Array.from({ length: 7 }, (_, i) =>
        // Four actions two days ago, three yesterday.
        call(i, { agent: "finance", startedAt: NOW - (i < 4 ? 2 : 1) * DAY }),
      ),
    );
    const item = (i: number, verdict: "correct" | "incorrect" | "unsure", confidence: number) => ({
      actionId: actions[i]!.id,
      agent: "finance",
      startedAt: actions[i]!.startedAt,
      confidenceBefore: confidence,
      verdict,
      original: { category: "Dining" },
      corrected: { category: "Coffee" },
    });
    await seedAuditRun(ledger, NOW - DAY, [
      item(0, "incorrect", 0.55),
      item(1, "incorrect", 0.6),
      item(2, "correct", 0.95),
      item(3, "unsure", 0.75),
    ]);
    await seedAuditRun(ledger, NOW, [item(4, "incorrect", 0.85), item(5, "correct", 0.92)]);

    const { body: wrong } = await get(`/v0/actions/${actions[0]!.id}`);
    expect(wrong.audit).toMatchObject([
      { verdict: "incorrect", outcome: "corrected", confidence_before: 0.55, confidence: 0.9 },
    ]);
    expect(wrong.audit[0].reviewer_model).toBe("qwen2.5:32b");
    expect(wrong.corrections).toMatchObject([
      { source: "audit", original: { category: "Dining" }, corrected: { category: "Coffee" } },
    ]);
    expect(wrong.corrections[0].applied_at).toBeNull();
    const { body: unaudited } = await get(`/v0/actions/${actions[6]!.id}`);
    expect(unaudited).toMatchObject({ audit: [], corrections: [] });

    const day = (ms: number) => new Date(ms).toLocaleDateString("sv-SE");
    const { body: curve } = await get("/v0/audit/learning-curve?days=30");
    expect(curve.days).toEqual([
      { day: day(NOW - 2 * DAY), reviewed: 4, wrong: 2, unsure: 1, error_rate: 0.5 },
      { day: day(NOW - DAY), reviewed: 2, wrong: 1, unsure: 0, error_rate: 0.5 },
    ]);
    // Two days back from today starts yesterday: the older day is left out.
    expect((await get("/v0/audit/learning-curve?days=2")).body.days).toHaveLength(1);
    expect((await get("/v0/audit/learning-curve?days=0")).body.error).toMatch(/days=0/);
  });
});
