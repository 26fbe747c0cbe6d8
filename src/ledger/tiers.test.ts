import { describe, expect, it } from "vitest";
import {
  aggregateRows,
  clip,
  meanAndDeviation,
  summarizeRequest,
  summarizeResponse,
  trimMeta,
} from "./tiers.js";

describe("summaries", () => {
  it("takes the last user message of a chat request", () => {
    const body = JSON.stringify({
      messages: [
        { role: "user", content: "first question" },
        { role: "assistant", content: "an answer" },
        { role: "user", content: "  second\n\nquestion  " },
        { role: "tool", content: "tool output" },
      ],
    });
    expect(summarizeRequest(body)).toBe("second question");
  });

  it("reads OpenAI content parts, generate prompts and embedding inputs", () => {
    const parts = {
      messages: [
        { role: "user", content: [{ type: "text", text: "look" }, { type: "image_url" }] },
      ],
    };
    expect(summarizeRequest(JSON.stringify(parts))).toBe("look");
    expect(summarizeRequest(JSON.stringify({ model: "m", prompt: "Once upon" }))).toBe("Once upon");
    expect(summarizeRequest(JSON.stringify({ input: ["a", "b"] }))).toBe('[2 inputs] ["a","b"]');
    expect(summarizeRequest(null)).toBeNull();
  });

  it("takes the reply text of Ollama chat, generate and OpenAI responses", () => {
    expect(
      summarizeResponse(JSON.stringify({ message: { role: "assistant", content: "hi" } })),
    ).toBe("hi");
    expect(summarizeResponse(JSON.stringify({ response: "story" }))).toBe("story");
    expect(summarizeResponse(JSON.stringify({ choices: [{ message: { content: "c" } }] }))).toBe(
      "c",
    );
    expect(summarizeResponse(JSON.stringify({ choices: [{ text: "t" }] }))).toBe("t");
    expect(summarizeResponse(JSON.stringify({ embeddings: [[1], [2], [3]] }))).toBe(
      "[3 embeddings]",
    );
  });

  it("falls back to the body itself for a stage's structured output or plain text", () => {
    expect(summarizeResponse(JSON.stringify({ category: "dining" }))).toBe('{"category":"dining"}');
    expect(summarizeRequest("not json at all")).toBe("not json at all");
  });

  it("clips to 200 characters without splitting a surrogate pair", () => {
    const clipped = clip(`${"a".repeat(198)}😀😀😀`);
    expect(clipped).toBe(`${"a".repeat(198)}…`);
    expect(clip(`${"a".repeat(197)}😀😀😀`)).toBe(`${"a".repeat(197)}😀…`);
    expect(clip("short\n\n  text")).toBe("short text");
    expect(clip("x".repeat(300))).toHaveLength(200);
  });
});

describe("trimMeta", () => {
  it("drops only the bulky fields", () => {
    const meta = JSON.stringify({ attempt: 2, prompt: "p".repeat(600), checks: ["schema"] });
    expect(JSON.parse(trimMeta(meta)!)).toEqual({ attempt: 2, checks: ["schema"] });
    expect(trimMeta('{"a":1}')).toBe('{"a":1}');
    expect(trimMeta(null)).toBeNull();
  });
});

describe("aggregates", () => {
  const row = (startedAt: number, confidence: number | null) => ({
    key: 1,
    id: "x",
    agent: "finance",
    action_type: "chat",
    started_at: startedAt,
    status: "ok" as const,
    confidence,
    tokens_in: 10,
    tokens_out: 2,
    latency_ms: 100,
    audit_status: "verified" as const,
    flagged: 0,
    corrected: 0,
    referenced: 0,
  });

  it("groups by UTC day and derives mean and deviation from sums", () => {
    const day = Date.parse("2026-01-10T00:00:00Z");
    const [first, second] = aggregateRows(
      [row(day - 1, 0.2), row(day, 0.4), row(day + 1000, 0.8), row(day + 2000, null)],
      day,
    );
    expect(first).toMatchObject({ day: "2026-01-09", count: 1 });
    expect(second).toMatchObject({
      day: "2026-01-10",
      count: 3,
      confidence_count: 2,
      tokens_in: 30,
    });
    const { mean, stddev } = meanAndDeviation(2, second!.confidence_sum, second!.confidence_sum_sq);
    expect(mean).toBeCloseTo(0.6);
    expect(stddev).toBeCloseTo(0.2);
  });
});
