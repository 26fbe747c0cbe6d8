import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createGatewayApi } from "../../src/api/index.js";
import { parseConfig } from "../../src/config.js";
import { type Gateway, startGateway } from "../../src/gateway/server.js";
import { KnowledgeBase } from "../../src/knowledge/kb.js";
import type { Ledger } from "../../src/ledger/ledger.js";
import { SqliteActionLedger } from "../../src/ledger/sqlite/action-ledger.js";
import { sqliteKnowledgeStore } from "../../src/ledger/sqlite/knowledge.js";
import { UserActivity } from "../../src/monitor/activity.js";
import { CorrectionHandlers } from "../../src/review/handlers.js";
import { ReviewQueue } from "../../src/review/queue.js";
import { tempLedger } from "../support/temp-ledger.js";

const TOKEN = "a-token-of-sixteen-chars";

describe("the API behind the gateway", () => {
  let ledger: Ledger;
  let cleanup: () => void;
  let gateway: Gateway;
  let queue: ReviewQueue;

  beforeEach(async () => {
    ({ ledger, cleanup } = tempLedger());
    const config = parseConfig({ server: { port: 0, token: TOKEN } });
    const handlers = new CorrectionHandlers();
    queue = new ReviewQueue(new SqliteActionLedger(ledger, false), { handlers });
    const kb = new KnowledgeBase(sqliteKnowledgeStore(ledger));
    const api = createGatewayApi({ ledger, kb, review: queue, handlers, config, log: () => {} });
    gateway = await startGateway({ config, ledger, activity: new UserActivity([]), api });
  });
  afterEach(async () => {
    await gateway.close();
    cleanup();
  });

  it("requires the gateway's token for /v0", async () => {
    const anonymous = await fetch(`${gateway.url}/v0/health`);
    expect(anonymous.status).toBe(401);
    const authorized = await fetch(`${gateway.url}/v0/health`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(authorized.status).toBe(200);
    expect(await authorized.json()).toMatchObject({ status: "ok", review_open: 0 });
  });

  it("records the person named in X-Nightshift-Person as the decider", async () => {
    const { item } = await queue.open({
      kind: "other",
      agent: "chat",
      title: "tone of reply",
      original: "hi",
      proposed: "Hello!",
      openedBy: "audit:r1",
    });
    const response = await fetch(`${gateway.url}/v0/review/${item.id}/accept`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${TOKEN}`,
        "content-type": "application/json",
        "x-nightshift-person": "ann",
      },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: "accepted",
      decided_by: "ann",
      applied: false,
    });
    expect((await queue.get(item.id))?.decidedBy).toBe("ann");
  });

  it("serves the dashboard at /ui to the token, and sends a browser without it to log in", async () => {
    const page = await fetch(`${gateway.url}/ui/`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const anonymous = await fetch(`${gateway.url}/ui/`, { redirect: "manual" });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get("location")).toBe("/ui/login");
  });
});
