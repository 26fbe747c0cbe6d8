import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApiHandler } from "../../src/api/handler.js";
import { CorrectionHandlers, type CorrectionToApply } from "../../src/audit/handlers.js";
import { parseConfig } from "../../src/config.js";
import { KnowledgeBase } from "../../src/knowledge/kb.js";
import type { Action } from "../../src/ledger/actions.js";
import type { Ledger } from "../../src/ledger/ledger.js";
import { ReviewQueue } from "../../src/review/queue.js";
import { tempLedger } from "../support/temp-ledger.js";

type Row = Record<string, unknown>;
/** The fields these tests read from replies; the API's JSON is checked by value below. */
type Body = Row & {
  [list in "items" | "hits" | "actions" | "entries" | "versions"]: Row[];
} & { error: string; content: string; audit_status: string };

describe("HTTP API under /v0", () => {
  let ledger: Ledger;
  let cleanup: () => void;
  let server: Server;
  let base: string;
  let kb: KnowledgeBase;
  let queue: ReviewQueue;
  let applied: CorrectionToApply[];
  let action: Action;

  beforeEach(async () => {
    ({ ledger, cleanup } = tempLedger());
    kb = new KnowledgeBase(ledger);
    applied = [];
    const handlers = new CorrectionHandlers();
    handlers.register("finance", {
      apply: async (c) => {
        applied.push(c);
        return "re-categorized";
      },
    });
    queue = new ReviewQueue(ledger, { handlers });
    const api = createApiHandler({ ledger, kb, handlers, config: parseConfig({}), log: () => {} });
    server = createServer((req, res) => {
      void api(req, res).then((handled) => {
        if (!handled) res.writeHead(418).end("not the api");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    action = ledger.actions.insertOne({
      agent: "finance",
      actionType: "stage",
      startedAt: Date.now(),
      status: "ok",
      response: { category: "Dining" },
      flags: ["low_confidence"],
    });
    queue.open({
      kind: "low_confidence_verdict",
      agent: "finance",
      title: "STARBUCKS: Coffee?",
      actionId: action.id,
      original: { category: "Dining" },
      proposed: { category: "Coffee" },
      confidence: 0.7,
      openedBy: "audit:r1",
    });
  });
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    cleanup();
  });

  const get = async (path: string) => {
    const response = await fetch(`${base}${path}`);
    return { status: response.status, body: (await response.json()) as Body };
  };
  const post = async (path: string, body: unknown, contentType = "application/json") => {
    const response = await fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": contentType },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Body };
  };

  it("reports health", async () => {
    const { status, body } = await get("/v0/health");
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: "ok", review_open: 1, embeddings: null });
  });

  it("lists open review items and shows one", async () => {
    const list = await get("/v0/review");
    expect(list.body.items.map((i) => [i.id, i.kind, i.status])).toEqual([
      [1, "low_confidence_verdict", "open"],
    ]);
    const one = await get("/v0/review/1");
    expect(one.body).toMatchObject({
      id: 1,
      proposed: { category: "Coffee" },
      action_id: action.id,
    });
    expect((await get("/v0/review/99")).status).toBe(404);
    expect((await get("/v0/review/abc")).body.error).toMatch(/ids are numbers/);
  });

  it("accepts through the handler once, then refuses a second decision with 409", async () => {
    const first = await post("/v0/review/1/accept", { by: "ann", reason: "coffee shop" });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: "accepted", decided_by: "ann", applied: true });
    expect(applied.map((c) => c.corrected)).toEqual([{ category: "Coffee" }]);
    const second = await post("/v0/review/1/reject", {});
    expect(second.status).toBe(409);
    expect(second.body.error).toMatch(/already accepted by ann/);
    expect(applied).toHaveLength(1);
    expect((await get(`/v0/actions/${action.id}`)).body.audit_status).toBe("ruled");
  });

  it("edits with the given output and rejects malformed or missing bodies", async () => {
    expect((await post("/v0/review/1/edit", "{not json")).body.error).toMatch(/not valid JSON/);
    expect((await post("/v0/review/1/edit", { by: "ann" })).body.error).toMatch(
      /needs the corrected output/,
    );
    const wrongType = await post("/v0/review/1/accept", "{}", "text/plain");
    expect(wrongType.status).toBe(415);
    const edited = await post("/v0/review/1/edit", { output: { category: "Snacks" }, by: "ann" });
    expect(edited.body).toMatchObject({
      status: "edited",
      decision_output: { category: "Snacks" },
    });
    expect((await post("/v0/review/1/maybe", {})).status).toBe(404);
  });

  it("refuses bodies over the size limit with 413", async () => {
    const huge = JSON.stringify({ output: "x".repeat(2 * 1024 * 1024) });
    const { status, body } = await post("/v0/review/1/edit", huge);
    expect(status).toBe(413);
    expect(body.error).toMatch(/over the limit/);
  });

  it("searches and reads the knowledge base, keys with slashes included", async () => {
    kb.put(
      { scope: "finance", key: "payee/starbucks", content: "Starbucks is Coffee" },
      { kind: "person", ref: "ann" },
    );
    kb.put(
      { scope: "finance", key: "payee/starbucks", content: "Starbucks is Coffee, always" },
      { kind: "person", ref: "ann" },
    );
    kb.put(
      { scope: "calendar", key: "coffee-chats", content: "coffee chats are meetings" },
      { kind: "person", ref: "ann" },
    );
    const search = await get(`/v0/kb?q=${encodeURIComponent('coffee "NEAR(')}&agent=finance`);
    expect(search.body.hits.map((h) => h.key)).toEqual(["payee/starbucks"]);
    const entry = await get(`/v0/kb/finance/${encodeURIComponent("payee/starbucks")}`);
    expect(entry.body).toMatchObject({
      version: 2,
      versions: 2,
      provenance: { kind: "person", ref: "ann" },
    });
    const old = await get(`/v0/kb/finance/${encodeURIComponent("payee/starbucks")}?version=1`);
    expect(old.body.content).toBe("Starbucks is Coffee");
    const history = await get(`/v0/kb/finance/${encodeURIComponent("payee/starbucks")}/history`);
    expect(history.body.versions).toHaveLength(2);
    expect((await get("/v0/kb")).body.entries).toHaveLength(2);
    expect((await get("/v0/kb/finance/nope")).status).toBe(404);
  });

  it("lists actions by agent and flag and shows one with its review items", async () => {
    ledger.actions.insertOne({
      agent: "calendar",
      actionType: "stage",
      startedAt: Date.now(),
      status: "ok",
    });
    const flagged = await get("/v0/actions?flag=low_confidence&since=1h");
    expect(flagged.body.actions.map((a) => a.id)).toEqual([action.id]);
    expect((await get("/v0/actions?agent=calendar")).body.actions).toHaveLength(1);
    // The first 13 characters are the millisecond; with the sequence after it the prefix is
    // unique even for the calendar action inserted in the same millisecond.
    const one = await get(`/v0/actions/${action.id.slice(0, 18)}`);
    expect(one.body).toMatchObject({ id: action.id, review_items: [{ id: 1 }] });
    expect((await get("/v0/actions?limit=zero")).body.error).toMatch(
      /limit=zero: expected a positive whole number/,
    );
    expect((await get("/v0/actions?since=yesterday-ish")).status).toBe(400);
  });

  it("answers unknown paths 404, wrong methods 405, and leaves other paths alone", async () => {
    expect((await get("/v0/nothing")).status).toBe(404);
    const wrong = await fetch(`${base}/v0/review`, { method: "DELETE" });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET");
    expect((await fetch(`${base}/ui/`)).status).toBe(418);
  });
});
