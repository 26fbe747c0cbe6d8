import { Ollama } from "ollama";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ScriptedUpstream, startScriptedUpstream } from "./scripted-upstream.js";

// The stand-in must speak the protocol the official client expects, or every test built on it
// proves nothing.
describe("scripted upstream", () => {
  let upstream: ScriptedUpstream;
  let client: Ollama;
  beforeAll(async () => {
    upstream = await startScriptedUpstream();
    client = new Ollama({ host: upstream.url });
  });
  afterAll(() => upstream.close());

  it("streams chat as NDJSON with a final chunk of counts and durations", async () => {
    upstream.setScript(() => ({ content: "Hello there, friend." }));
    const parts: string[] = [];
    let last: Awaited<ReturnType<typeof client.chat>> | undefined;
    for await (const part of await client.chat({
      model: "qwen2.5:7b",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    })) {
      parts.push(part.message.content);
      last = part;
    }
    expect(parts.join("")).toBe("Hello there, friend.");
    expect(last).toMatchObject({
      done: true,
      done_reason: "stop",
      eval_count: 3,
      prompt_eval_count: 1,
    });
    expect(last!.total_duration).toBeGreaterThan(0);
  });

  it("answers unknown models with Ollama's 404", async () => {
    await expect(client.chat({ model: "nope", messages: [] })).rejects.toMatchObject({
      status_code: 404,
      error: 'model "nope" not found, try pulling it first',
    });
  });

  it("lists, shows, embeds and unloads", async () => {
    expect((await client.list()).models.map((m) => m.name)).toContain("qwen2.5:7b");
    expect((await client.show({ model: "qwen2.5:7b" })).details.family).toBe("qwen2");
    const embedded = await client.embed({ model: "nomic-embed-text", input: ["a", "b"] });
    expect(embedded.embeddings).toHaveLength(2);
    expect((await client.ps()).models.map((m) => m.name)).toContain("nomic-embed-text");
    await client.generate({ model: "nomic-embed-text", prompt: "", keep_alive: 0 });
    expect((await client.ps()).models.map((m) => m.name)).not.toContain("nomic-embed-text");
  });
});
