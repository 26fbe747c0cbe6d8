import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "./harness.js";

describe("gateway with the openai client", () => {
  let h: Harness;
  let client: OpenAI;
  beforeAll(async () => {
    h = await startHarness();
    client = new OpenAI({
      baseURL: `${h.gateway.url}/v1`,
      apiKey: "ollama",
      defaultHeaders: { "X-Nightshift-Agent": "research" },
      fetch: h.fetch,
      maxRetries: 0,
    });
  });
  afterAll(() => h.close());
  beforeEach(() => h.upstream.setScript(() => ({ content: "Paris is the capital." })));

  it("answers chat completions and logs usage as tokens", async () => {
    const reply = await client.chat.completions.create({
      model: "qwen2.5:7b",
      messages: [{ role: "user", content: "capital of France" }],
    });
    expect(reply.choices[0]!.message.content).toBe("Paris is the capital.");
    const action = await h.waitForAction(h.seen.at(-1)!);
    expect(action).toMatchObject({
      agent: "research",
      actionType: "openai.chat",
      model: "qwen2.5:7b",
      status: "ok",
      tokensIn: 3,
      tokensOut: 3,
    });
  });

  it("streams SSE chat through and assembles the reply", async () => {
    const stream = await client.chat.completions.create({
      model: "qwen2.5:7b",
      messages: [{ role: "user", content: "capital of France" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe("Paris is the capital.");
    const action = await h.waitForAction(h.seen.at(-1)!);
    expect(action).toMatchObject({ status: "ok", tokensIn: 3, tokensOut: 3 });
    expect(action.response).toMatchObject({
      object: "chat.completion",
      choices: [{ message: { content: "Paris is the capital." }, finish_reason: "stop" }],
    });
  });

  it("answers legacy completions, embeddings and the model list", async () => {
    const completion = await client.completions.create({ model: "qwen2.5:7b", prompt: "say" });
    expect(completion.choices[0]!.text).toBe("Paris is the capital.");
    const embedded = await client.embeddings.create({
      model: "nomic-embed-text",
      input: ["a b", "c"],
    });
    expect(embedded.data).toHaveLength(2);
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toContain("qwen2.5:14b");
    const actions = await Promise.all(h.seen.slice(-3).map((id) => h.waitForAction(id)));
    expect(actions.map((a) => a.actionType)).toEqual([
      "openai.completions",
      "openai.embeddings",
      "openai.models",
    ]);
    expect(actions[1]!.response).toMatchObject({
      data: { count: 2, dimensions: 8 },
      usage: { prompt_tokens: 3 },
    });
  });

  it("passes an unknown model's 404 through in OpenAI's error shape and logs it", async () => {
    const failure = client.chat.completions.create({ model: "nope", messages: [] });
    await expect(failure).rejects.toMatchObject({
      status: 404,
      message: expect.stringContaining('model "nope" not found'),
    });
    const action = await h.waitForAction(h.seen.at(-1)!);
    expect(action).toMatchObject({ status: "error", model: "nope" });
    expect(action.error).toContain('model "nope" not found');
  });

  it("raises an error in the client when the upstream dies mid-stream", async () => {
    h.upstream.setScript(() => ({
      content: "a long answer that will not finish",
      dieAfterChunks: 2,
      chunkDelayMs: 5,
    }));
    const stream = await client.chat.completions.create({
      model: "qwen2.5:7b",
      messages: [{ role: "user", content: "x" }],
      stream: true,
    });
    let text = "";
    await expect(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
      })(),
    ).rejects.toThrow(/broke off/);
    expect(text).toBe("a long answer th");
    const action = await h.waitForAction(h.seen.at(-1)!);
    expect(action.status).toBe("error");
    expect(action.error).toContain(`upstream ${h.upstream.url} broke off the reply after 2 chunks`);
    expect(action.response).toMatchObject({
      choices: [{ message: { content: "a long answer th" } }],
    });
  });
});
