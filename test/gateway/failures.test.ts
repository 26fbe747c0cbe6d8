import { request } from "node:http";
import { Ollama } from "ollama";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { startGateway } from "../../src/gateway/server.js";
import { UserActivity } from "../../src/monitor/activity.js";
import { tempLedger } from "../support/temp-ledger.js";
import { type Harness, startHarness, waitForAction, waitForCount } from "./harness.js";

describe("gateway failures", () => {
  let h: Harness;
  let client: Ollama;
  beforeAll(async () => {
    h = await startHarness();
    client = new Ollama({ host: h.gateway.url, fetch: h.fetch });
  });
  afterAll(() => h.close());
  beforeEach(() => h.upstream.setScript(() => ({ content: "fine" })));

  it("answers 404 as Ollama does for an unknown model, and logs it as an error", async () => {
    await expect(client.chat({ model: "missing:1b", messages: [] })).rejects.toMatchObject({
      status_code: 404,
      error: 'model "missing:1b" not found, try pulling it first',
    });
    const action = await h.waitForAction(h.seen.at(-1)!);
    expect(action).toMatchObject({
      status: "error",
      model: "missing:1b",
      error: 'model "missing:1b" not found, try pulling it first',
    });
  });

  it("answers 400 for a malformed JSON body without forwarding it, and logs it as an error", async () => {
    const forwarded = h.upstream.requests.length;
    const response = await h.fetch(`${h.gateway.url}/api/chat`, {
      method: "POST",
      headers: { "X-Nightshift-Agent": "broken" },
      body: '{"model": "qwen2.5:7b", "messages": [',
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(
      /^invalid JSON in request body/,
    );
    const action = await h.waitForAction(h.seen.at(-1)!);
    expect(action).toMatchObject({ status: "error", agent: "broken", actionType: "chat" });
    expect(action.request).toBe('{"model": "qwen2.5:7b", "messages": [');
    expect(h.upstream.requests).toHaveLength(forwarded);
  });

  it("ends an NDJSON stream with Ollama's error line when the upstream dies mid-stream", async () => {
    h.upstream.setScript(() => ({
      content: "0123456789abcdefghij",
      dieAfterChunks: 1,
      chunkDelayMs: 5,
    }));
    const parts: string[] = [];
    await expect(
      (async () => {
        for await (const part of await client.chat({
          model: "qwen2.5:7b",
          messages: [],
          stream: true,
        })) {
          parts.push(part.message.content);
        }
      })(),
    ).rejects.toThrow(`upstream ${h.upstream.url} broke off the reply after 1 chunks`);
    expect(parts).toEqual(["01234567"]);
    const action = await h.waitForAction(h.seen.at(-1)!);
    expect(action).toMatchObject({
      status: "error",
      response: { message: { content: "01234567" } },
    });
  });

  it("logs a client that disconnects mid-stream as an error with the partial reply", async () => {
    h.upstream.setScript(() => ({ content: "x".repeat(400), chunkDelayMs: 10 }));
    const id = await new Promise<string>((resolve, reject) => {
      const req = request(`${h.gateway.url}/api/chat`, { method: "POST" }, (res) => {
        res.once("data", () => {
          req.destroy();
          resolve(String(res.headers["x-nightshift-action"]));
        });
      });
      req.on("error", (error) => (error.message === "socket hang up" ? undefined : reject(error)));
      req.end(
        JSON.stringify({ model: "qwen2.5:7b", messages: [{ role: "user", content: "long" }] }),
      );
    });
    const action = await waitForAction(h.ledger, id);
    expect(action).toMatchObject({
      status: "error",
      error: "client disconnected before the reply was complete",
    });
    expect((action.response as { message: { content: string } }).message.content).toMatch(/^x+$/);
  });

  it("logs 200 concurrent streams as 200 complete actions", async () => {
    h.upstream.setScript((r) => ({
      content: `reply to ${r.prompt} with some length`,
      chunkDelayMs: 1,
    }));
    const before = h.ledger.actions.count();
    const texts = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        let text = "";
        const stream = await client.chat({
          model: "qwen2.5:7b",
          messages: [{ role: "user", content: `n${i}` }],
          stream: true,
        });
        for await (const part of stream) text += part.message.content;
        return text;
      }),
    );
    expect(texts[199]).toBe("reply to n199 with some length");
    await waitForCount(h.ledger, before + 200);
    const actions = h.ledger.actions.list({ limit: 200 });
    expect(actions.filter((a) => a.status === "ok" && a.tokensOut === 4)).toHaveLength(200);
    const contents = new Set(
      actions.map((a) => (a.response as { message: { content: string } }).message.content),
    );
    expect(contents.size).toBe(200);
  });

  it("answers 404 for paths outside the Ollama and OpenAI APIs, and for /v0 without an API", async () => {
    expect((await fetch(`${h.gateway.url}/nothing`)).status).toBe(404);
    const v0 = await fetch(`${h.gateway.url}/v0/actions`);
    expect(v0.status).toBe(404);
    expect(((await v0.json()) as { error: string }).error).toMatch(/not enabled/);
  });
});

describe("gateway with an upstream that is down", () => {
  it("answers 502 naming the upstream URL, and logs it as an error", async () => {
    const temp = tempLedger();
    const deadUrl = "http://127.0.0.1:9"; // discard port: nothing listens there
    const config = parseConfig({ upstreams: { default: deadUrl } });
    const gateway = await startGateway({
      config,
      ledger: temp.ledger,
      activity: new UserActivity(),
      port: 0,
    });
    try {
      const client = new Ollama({
        host: gateway.url,
        headers: { "X-Nightshift-Agent": "finance" },
      });
      const failure = client.chat({ model: "qwen2.5:7b", messages: [] });
      await expect(failure).rejects.toMatchObject({ status_code: 502 });
      await expect(failure).rejects.toThrow(
        `upstream ${deadUrl} is not answering: connection refused`,
      );
      await waitForCount(temp.ledger, 1);
      const [action] = temp.ledger.actions.list();
      expect(action).toMatchObject({ status: "error", agent: "finance", upstream: deadUrl });
      expect(action!.error).toContain(deadUrl);
    } finally {
      await gateway.close(100);
      temp.cleanup();
    }
  });
});

describe("gateway routing across upstreams", () => {
  let h: Harness;
  let gpu1: Awaited<ReturnType<typeof startHarness>>;
  beforeAll(async () => {
    // A second model server that only has the big model, pinned to GPU 1.
    gpu1 = await startHarness({ upstream: { models: ["qwen2.5:14b", "llama3.1:70b"] } });
    h = await startHarness({
      upstream: { models: ["qwen2.5:7b", "qwen2.5:14b"] },
      config: (url) => ({
        upstreams: {
          default: "gpu0",
          servers: { gpu0: { url, gpu: 0 }, gpu1: { url: gpu1.upstream.url, gpu: 1 } },
          routes: { "qwen2.5:14b": "gpu1", "llama3.1": "gpu1" },
        },
      }),
    });
  });
  afterAll(async () => {
    await h.close();
    await gpu1.close();
  });

  it("sends each model to its upstream and records the upstream and GPU", async () => {
    const client = new Ollama({ host: h.gateway.url, fetch: h.fetch });
    await client.chat({ model: "qwen2.5:14b", messages: [{ role: "user", content: "big" }] });
    const big = await h.waitForAction(h.seen.at(-1)!);
    await client.chat({ model: "qwen2.5:7b", messages: [{ role: "user", content: "small" }] });
    const small = await h.waitForAction(h.seen.at(-1)!);
    expect(big).toMatchObject({ upstream: gpu1.upstream.url, gpu: 1 });
    expect(small).toMatchObject({ upstream: h.upstream.url, gpu: 0 });
    expect(gpu1.upstream.requests.map((r) => r.path)).toEqual(["/api/chat"]);
  });

  it("treats a route without a tag as the model's :latest", async () => {
    const client = new Ollama({ host: h.gateway.url, fetch: h.fetch });
    await expect(client.chat({ model: "llama3.1:latest", messages: [] })).rejects.toMatchObject({
      status_code: 404,
    });
    expect(gpu1.upstream.requests.at(-1)!.body).toMatchObject({ model: "llama3.1:latest" });
  });

  it("merges /api/tags and /v1/models across upstreams without duplicates", async () => {
    const client = new Ollama({ host: h.gateway.url });
    const names = (await client.list()).models.map((m) => m.name);
    expect(names).toEqual(["qwen2.5:7b", "qwen2.5:14b", "llama3.1:70b"]);
    const models = (await (await fetch(`${h.gateway.url}/v1/models`)).json()) as {
      data: { id: string }[];
    };
    expect(models.data.map((m) => m.id)).toEqual(["qwen2.5:7b", "qwen2.5:14b", "llama3.1:70b"]);
  });

  it("still lists the models of the upstreams that answer when one is down", async () => {
    await gpu1.upstream.close();
    const response = await h.fetch(`${h.gateway.url}/api/tags`);
    const names = ((await response.json()) as { models: { name: string }[] }).models.map(
      (m) => m.name,
    );
    expect(names).toEqual(["qwen2.5:7b", "qwen2.5:14b"]);
    const action = await h.waitForAction(h.seen.at(-1)!);
    expect((action.meta as { unreachable: string[] }).unreachable[0]).toContain(gpu1.upstream.url);
  });
});
