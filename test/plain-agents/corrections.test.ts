import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { applyPendingCorrections } from "../../src/audit/apply.js";
import { KnowledgeBase } from "../../src/knowledge/kb.js";
import type { Action } from "../../src/ledger/actions.js";
import { WebhookSender } from "../../src/plain-agents/webhook.js";
import { ENGINES } from "../support/engines.js";
import { type PlainHarness, postJson, startPlainHarness } from "./harness.js";

const SECRET = "a-webhook-secret-of-32-characters";

/** A test clock the sender reads; tests move it forward to make retries due. */
function manualClock(start = 1_700_000_000_000) {
  let t = start;
  return {
    now: () => t,
    sleep: async () => {},
    advance: (ms: number) => {
      t += ms;
    },
  };
}

interface Received {
  headers: IncomingMessage["headers"];
  raw: string;
}

/** An agent's webhook: verifies the signature as an agent would, answers what `reply` says. */
async function startWebhook(reply: () => number) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(parts).toString("utf8");
      const expected = `sha256=${createHmac("sha256", SECRET).update(raw).digest("hex")}`;
      const given = String(req.headers["x-nightshift-signature"] ?? "");
      const valid =
        given.length === expected.length &&
        timingSafeEqual(Buffer.from(given), Buffer.from(expected));
      if (!valid) {
        res.writeHead(401).end("bad signature");
        return;
      }
      received.push({ headers: req.headers, raw });
      res.writeHead(reply()).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/nightshift`;
  return { url, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe.each(ENGINES)("corrections delivered to plain agents on $name", (engine) => {
  let h: PlainHarness;
  let clock: ReturnType<typeof manualClock>;
  let hook: Awaited<ReturnType<typeof startWebhook>>;
  let status = 200;

  beforeEach(async (context) => {
    if (!engine.available) return context.skip();
    clock = manualClock();
    status = 200;
    hook = await startWebhook(() => status);
    h = await startPlainHarness({
      engine,
      clock,
      config: () => ({
        plain_agents: { mailer: { webhook: { url: hook.url, secret: SECRET, max_attempts: 3 } } },
      }),
    });
  });
  afterEach(async () => {
    await h?.close();
    await hook?.close();
  });

  async function loggedCall(agent: string, response: unknown): Promise<Action> {
    const [action] = await h.stores.actions.insert([
      {
        agent,
        actionType: "chat",
        model: "qwen2.5:7b",
        startedAt: clock.now(),
        status: "ok",
        response,
      },
    ]);
    return action!;
  }

  /** A logged call by `agent` and an audit correction of it, applied as the audit applies them. */
  async function correctCall(agent: string, corrected: unknown): Promise<string> {
    const action = await loggedCall(agent, { message: { content: "Dear Sir" } });
    const id = `corr-${action.id}`;
    const correction = {
      original: action.response,
      corrected,
      reasoning: "the user writes informally",
      reviewerModel: "qwen2.5:14b",
      confidenceAfter: 0.93,
    };
    const audit = h.stores.audit;
    await audit.insertCorrection({
      id,
      runId: null,
      actionId: action.id,
      agent,
      source: "audit",
      ...correction,
      confidenceBefore: null,
      createdAt: clock.now(),
    });
    const result = await applyPendingCorrections({
      audit,
      actions: h.stores.actions,
      queue: h.review,
      kb: new KnowledgeBase(h.stores.knowledge),
      handlers: h.handlers,
      clock,
      applyConfidence: 0.85,
      log: () => {},
    });
    expect(result).toEqual({ applied: 1, failed: 0 });
    return id;
  }

  it("lets an agent pull its pending corrections and acknowledge each once", async () => {
    const id = await correctCall("calendar", { message: { content: "Hi Sam" } });
    const list = await h.api("/v0/corrections?agent=calendar&status=pending");
    expect(list.status).toBe(200);
    const { corrections } = (await list.json()) as { corrections: Record<string, unknown>[] };
    expect(corrections).toMatchObject([
      {
        id,
        agent: "calendar",
        source: "audit",
        original: { message: { content: "Dear Sir" } },
        corrected: { message: { content: "Hi Sam" } },
        reasoning: "the user writes informally",
        status: "pending",
        ack: `/v0/corrections/${id}/ack`,
      },
    ]);
    expect((await h.api("/v0/corrections?agent=mailer")).status).toBe(200);

    const ack = await h.api(`/v0/corrections/${id}/ack`, postJson({ agent: "calendar" }));
    expect(await ack.json()).toMatchObject({
      status: "acknowledged",
      acknowledged_via: "pull",
      already_acknowledged: false,
    });
    const again = await h.api(`/v0/corrections/${id}/ack`, postJson({}));
    expect(await again.json()).toMatchObject({
      status: "acknowledged",
      already_acknowledged: true,
    });
    const after = (await (await h.api("/v0/corrections?agent=calendar")).json()) as {
      corrections: unknown[];
    };
    expect(after.corrections).toEqual([]);

    const wrong = await h.api(`/v0/corrections/${id}/ack`, postJson({ agent: "mailer" }));
    expect(wrong.status).toBe(409);
    const unknown = await h.api("/v0/corrections/nope/ack", postJson({}));
    expect(unknown.status).toBe(404);
    const noAgent = await h.api("/v0/corrections");
    expect(((await noAgent.json()) as { error: string }).error).toMatch(/agent=NAME is required/);
  });

  it("posts a signed correction to the agent's webhook, retries with backoff, and never twice", async () => {
    const id = await correctCall("mailer", { message: { content: "Hi Sam" } });
    const sender = new WebhookSender({ ledger: h.stores, agents: h.config.plain_agents, clock });
    status = 503;
    expect(await sender.runOnce()).toEqual({ delivered: 0, retrying: 1, failed: 0 });
    // Not due again until the first backoff (1 s) has passed.
    expect(await sender.runOnce()).toEqual({ delivered: 0, retrying: 0, failed: 0 });
    clock.advance(1000);
    status = 200;
    expect(await sender.runOnce()).toEqual({ delivered: 1, retrying: 0, failed: 0 });
    clock.advance(3_600_000);
    expect(await sender.runOnce()).toEqual({ delivered: 0, retrying: 0, failed: 0 });

    expect(hook.received).toHaveLength(2);
    const last = hook.received[1]!;
    const body = JSON.parse(last.raw) as Record<string, unknown>;
    expect(body).toMatchObject({
      type: "correction",
      delivery_id: last.headers["x-nightshift-delivery"],
      correction: {
        id,
        agent: "mailer",
        corrected: { message: { content: "Hi Sam" } },
        attempts: 2,
      },
    });
    expect(last.headers["x-nightshift-timestamp"]).toBe(
      String(Math.floor(clock.now() / 1000) - 3600),
    );
    expect(hook.received[0]!.headers["x-nightshift-delivery"]).not.toBe(
      last.headers["x-nightshift-delivery"],
    );

    const store = h.stores.review.deliveries;
    expect(await store.get(id)).toMatchObject({
      status: "acknowledged",
      acknowledgedVia: "webhook",
      attempts: 2,
    });
    expect((await store.attempts(id)).map((a) => a.httpStatus)).toEqual([503, 200]);
    // Acknowledged by the webhook: a pull no longer lists it.
    const pulled = (await (await h.api("/v0/corrections?agent=mailer")).json()) as {
      corrections: unknown[];
    };
    expect(pulled.corrections).toEqual([]);
  });

  it("marks a delivery failed after max_attempts and records every attempt", async () => {
    const id = await correctCall("mailer", { message: { content: "Hi" } });
    const sender = new WebhookSender({ ledger: h.stores, agents: h.config.plain_agents, clock });
    status = 500;
    await sender.runOnce();
    clock.advance(1000);
    await sender.runOnce();
    clock.advance(2000);
    expect(await sender.runOnce()).toEqual({ delivered: 0, retrying: 0, failed: 1 });
    const failed = (await (await h.api("/v0/corrections?agent=mailer&status=failed")).json()) as {
      corrections: Record<string, unknown>[];
    };
    expect(failed.corrections).toMatchObject([{ id, status: "failed", attempts: 3 }]);
    expect(String(failed.corrections[0]!.last_error)).toMatch(
      /answered HTTP 500 \(gave up after 3 attempts\)/,
    );
    const attempts = (await (await h.api(`/v0/corrections/${id}/attempts`)).json()) as {
      attempts: unknown[];
    };
    expect(attempts.attempts).toHaveLength(3);
  });

  it("delivers a review-queue decision on a plain agent's action the same way", async () => {
    const action = await loggedCall("mailer", "Dear Sir");
    const { item } = await h.review.open({
      kind: "audit_unsure",
      agent: "mailer",
      actionId: action.id,
      title: "tone",
      original: "Dear Sir",
      proposed: "Hi Sam",
      openedBy: "audit r1",
    });
    const decided = await h.api(
      `/v0/review/${item.id}/edit`,
      postJson({ output: "Hey Sam", by: "ann" }),
    );
    expect(await decided.json()).toMatchObject({ status: "edited", applied: true });
    const pending = (await (await h.api("/v0/corrections?agent=mailer")).json()) as {
      corrections: Record<string, unknown>[];
    };
    expect(pending.corrections).toMatchObject([
      { id: `review-${item.id}`, source: "person", action_id: action.id, corrected: "Hey Sam" },
    ]);
    const sender = new WebhookSender({ ledger: h.stores, agents: h.config.plain_agents, clock });
    expect(await sender.runOnce()).toMatchObject({ delivered: 1 });
    expect(JSON.parse(hook.received[0]!.raw).correction).toMatchObject({ corrected: "Hey Sam" });
  });

  it("sends each correction once when two daemons' senders run at the same time", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await correctCall("mailer", { n: i }));
    const other = await h.openSecond();
    try {
      const agents = h.config.plain_agents;
      const senders = [
        new WebhookSender({ ledger: h.stores, agents, clock }),
        new WebhookSender({ ledger: other, agents, clock }),
      ];
      const counts = await Promise.all(senders.map((s) => s.runOnce()));
      expect(counts.reduce((n, c) => n + c.delivered, 0)).toBe(6);
      const sent = hook.received.map((r) => JSON.parse(r.raw).correction.id as string);
      expect(sent.sort()).toEqual([...ids].sort());
      for (const id of ids) {
        expect(await other.review.deliveries.get(id)).toMatchObject({
          status: "acknowledged",
          acknowledgedVia: "webhook",
          attempts: 1,
        });
      }
      // Nothing is due any more, from either daemon.
      clock.advance(3_600_000);
      expect((await Promise.all(senders.map((s) => s.runOnce()))).map((c) => c.delivered)).toEqual([
        0, 0,
      ]);
      expect(hook.received).toHaveLength(6);
    } finally {
      await other.close();
    }
  });

  it("records feedback on an action and shows it with the action's review items", async () => {
    const action = await loggedCall("mailer", "Dear Sir");
    const given = await h.api(
      `/v0/actions/${action.id}/feedback`,
      postJson(
        { confidence: 0.3, flags: ["requires_audit"], scores: { thumbs: "down" } },
        { "x-nightshift-person": "ann" },
      ),
    );
    expect(given.status).toBe(200);
    expect(await given.json()).toMatchObject({
      feedback: { action_id: action.id, given_by: "ann", confidence: 0.3, scores: { thumbs: 0 } },
      action: { id: action.id, confidence: 0.3 },
    });
    const flags = (await h.stores.actions.get(action.id))!.flags;
    expect(flags).toEqual(expect.arrayContaining(["requires_audit", "low_confidence"]));
    await h.review.open({
      kind: "other",
      agent: "mailer",
      actionId: action.id,
      title: "tone",
      openedBy: "ann",
    });
    const shown = (await (await h.api(`/v0/actions/${action.id}`)).json()) as {
      feedback: { given_by: string }[];
      review_items: { title: string }[];
    };
    expect(shown.feedback.map((f) => f.given_by)).toEqual(["ann"]);
    expect(shown.review_items.map((i) => i.title)).toEqual(["tone"]);
  });
});
