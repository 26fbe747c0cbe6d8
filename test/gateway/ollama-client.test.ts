import { Ollama } from "ollama";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "./harness.js";

// The official client, pointed at the gateway as an agent would be, with no code change but the
// host and an identity header.
describe("gateway with the official ollama client", () => {
  let h: Harness;
  let client: Ollama;
  beforeAll(async () => {
    h = await startHarness();
    client = new Ollama({
      host: h.gateway.url,
      headers: { "X-Nightshift-Agent": "finance" },
      fetch: h.fetch,
    });
  });
  afterAll(() => h.close());
  beforeEach(() => h.upstream.setScript(() => ({ content: "The total is 42 dollars." })));

  it("streams chat through and logs it with agent, model, tokens and durations", async () => {
    const parts: string[] = [];
    for await (const part of await client.chat({
      model: "qwen2.5:7b",
      messages: [{ role: "user", content: "what is the total" }],
      stream: true,
    })) {
      parts.push(part.message.content);
    }
    expect(parts.join("")).toBe("The total is 42 dollars.");
    expect(parts.length).toBeGreaterThan(2);
    const action = await h.waitForAction(h.seen.at(-1)!);
    expect(action).toMatchObject({
      agent: "finance",
      actionType: "chat",
      model: "qwen2.5:7b",
      upstream: h.upstream.url,
      status: "ok",
      tokensIn: 4,
      tokensOut: parts.length - 1,
      loadDuration: 3_000_000,
      promptEvalDuration: 8_000_000,
    });
    expect(action.response).toMatchObject({
      message: { role: "assistant", content: "The total is 42 dollars." },
      done_reason: "stop",
    });
    expect(action.request).toMatchObject({ messages: [{ content: "what is the total" }] });
    expect(action.latencyMs).toBeGreaterThan(0);
  });

  it("passes non-streaming chat through and logs the reply", async () => {
    const reply = await client.chat({
      model: "qwen2.5:7b",
      messages: [{ role: "user", content: "hi" }],
      stream: false,
    });
    expect(reply.message.content).toBe("The total is 42 dollars.");
    const action = await h.waitForAction(h.seen.at(-1)!);
    expect(action).toMatchObject({
      status: "ok",
      tokensIn: 1,
      tokensOut: 3,
      evalDuration: 15_000_000,
    });
    expect(action.response).toMatchObject({ message: { content: "The total is 42 dollars." } });
  });

  it("forwards generate with a JSON-schema format untouched", async () => {
    h.upstream.setScript(() => ({ content: '{"amount": 42}' }));
    const format = {
      type: "object",
      properties: { amount: { type: "number" } },
      required: ["amount"],
    };
    const reply = await client.generate({
      model: "qwen2.5:14b",
      prompt: "amount?",
      format,
      stream: false,
    });
    expect(JSON.parse(String(reply.response))).toEqual({ amount: 42 });
    expect(h.upstream.requests.at(-1)!.body).toMatchObject({ format });
    const action = await h.waitForAction(h.seen.at(-1)!);
    expect(action).toMatchObject({ actionType: "generate", model: "qwen2.5:14b", tokensIn: 1 });
    expect(action.request).toMatchObject({ format });
    expect(action.response).toMatchObject({ response: '{"amount": 42}' });
    expect(action.response).not.toHaveProperty("context");
  });

  it("embeds and logs the vectors' count and size instead of the vectors", async () => {
    const reply = await client.embed({ model: "nomic-embed-text", input: ["rent", "groceries"] });
    expect(reply.embeddings).toHaveLength(2);
    const action = await h.waitForAction(h.seen.at(-1)!);
    expect(action).toMatchObject({ actionType: "embed", model: "nomic-embed-text", tokensIn: 2 });
    expect(action.response).toMatchObject({ embeddings: { count: 2, dimensions: 8 } });
  });

  it("lists, shows and reports running models, each logged", async () => {
    const before = h.seen.length;
    expect((await client.list()).models.map((m) => m.name)).toContain("qwen2.5:14b");
    expect((await client.ps()).models.map((m) => m.name)).toContain("qwen2.5:7b");
    expect((await client.show({ model: "qwen2.5:7b" })).details.family).toBe("qwen2");
    const ids = h.seen.slice(before);
    expect(ids).toHaveLength(3);
    const actions = await Promise.all(ids.map((id) => h.waitForAction(id)));
    expect(actions.map((a) => [a.actionType, a.model, a.status])).toEqual([
      ["tags", null, "ok"],
      ["ps", null, "ok"],
      ["show", "qwen2.5:7b", "ok"],
    ]);
  });

  it("takes the agent from an /agents/NAME/ path prefix", async () => {
    const prefixed = new Ollama({ host: `${h.gateway.url}/agents/calendar`, fetch: h.fetch });
    await prefixed.chat({ model: "qwen2.5:7b", messages: [{ role: "user", content: "x" }] });
    expect(h.upstream.requests.at(-1)!.path).toBe("/api/chat");
    expect((await h.waitForAction(h.seen.at(-1)!)).agent).toBe("calendar");
  });

  it("links a call to its parent by X-Nightshift-Parent and keeps the parent's trace", async () => {
    await client.chat({ model: "qwen2.5:7b", messages: [{ role: "user", content: "stage 1" }] });
    const parentId = h.seen.at(-1)!;
    const child = new Ollama({
      host: h.gateway.url,
      headers: { "X-Nightshift-Agent": "finance", "X-Nightshift-Parent": parentId },
      fetch: h.fetch,
    });
    await child.chat({ model: "qwen2.5:14b", messages: [{ role: "user", content: "stage 2" }] });
    const parent = await h.waitForAction(parentId);
    const action = await h.waitForAction(h.seen.at(-1)!);
    expect(action.parentId).toBe(parentId);
    expect(action.traceId).toBe(parent.traceId);
  });

  it("links a call to its parent by W3C traceparent from the parent's response", async () => {
    const first = await h.fetch(`${h.gateway.url}/api/chat`, {
      method: "POST",
      body: JSON.stringify({ model: "qwen2.5:7b", stream: false, messages: [] }),
    });
    await first.json();
    const traceparent = first.headers.get("traceparent")!;
    const parentId = first.headers.get("x-nightshift-action")!;
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const child = new Ollama({ host: h.gateway.url, headers: { traceparent }, fetch: h.fetch });
    await child.generate({ model: "qwen2.5:7b", prompt: "next" });
    const action = await h.waitForAction(h.seen.at(-1)!);
    expect(action.parentId).toBe(parentId);
    expect(action.traceId).toBe(traceparent.split("-")[1]);
  });

  it("keeps a foreign tracer's trace id and notes its span when no action matches", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const traced = new Ollama({
      host: h.gateway.url,
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      fetch: h.fetch,
    });
    await traced.chat({ model: "qwen2.5:7b", messages: [{ role: "user", content: "x" }] });
    const action = await h.waitForAction(h.seen.at(-1)!);
    expect(action).toMatchObject({ traceId, parentId: null, agent: "unknown" });
    expect(action.meta).toMatchObject({ parent_span: "00f067aa0ba902b7" });
  });

  it("reports interactive calls as user activity, but not background agents", async () => {
    h.activity.addBackground("auditor");
    const seen: string[] = [];
    const stop = h.activity.onActive((event) => seen.push(event.agent));
    const auditor = new Ollama({ host: `${h.gateway.url}/agents/auditor`, fetch: h.fetch });
    await auditor.chat({ model: "qwen2.5:7b", messages: [{ role: "user", content: "x" }] });
    await client.chat({ model: "qwen2.5:7b", messages: [{ role: "user", content: "x" }] });
    stop();
    expect(seen).toEqual(["finance"]);
  });
});
