import type { NewAction } from "../src/ledger/actions.js";

const agents = ["finance", "calendar", "research", "code", "chat"];

/**
 * An action the size of a real chat call (~2.6 KB: a system prompt, a user message, an assembled
 * reply, counts and durations), as bench/ledger-ingest.bench.ts writes it.
 */
export function sampleAction(i: number, startedAt: number): NewAction {
  return {
    agent: agents[i % agents.length]!,
    actionType: "chat",
    model: "qwen2.5:7b",
    upstream: "http://127.0.0.1:11434",
    gpu: 0,
    startedAt,
    endedAt: startedAt + 850,
    latencyMs: 850.25,
    status: i % 50 === 0 ? "error" : "ok",
    error:
      i % 50 === 0 ? "upstream http://127.0.0.1:11434 broke off the reply after 12 chunks" : null,
    request: {
      model: "qwen2.5:7b",
      messages: [
        {
          role: "system",
          content: "You categorize bank transactions into the user's categories. ".repeat(8),
        },
        {
          role: "user",
          content: `2026-10-${String((i % 28) + 1).padStart(2, "0")} AMAZON MKTPL*2K4 Amzn.com/bill WA -23.99 #${i}`,
        },
      ],
      format: {
        type: "object",
        properties: { category: { type: "string" }, confidence: { type: "number" } },
      },
      options: { temperature: 0 },
    },
    response: {
      model: "qwen2.5:7b",
      message: {
        role: "assistant",
        content: `{"category": "Shopping", "confidence": 0.${i % 100}} ${"because ".repeat(30)}`,
      },
      done: true,
      done_reason: "stop",
    },
    flags: i % 10 === 0 ? ["low_confidence"] : [],
    confidence: (i % 100) / 100,
    tokensIn: 180,
    tokensOut: 42,
    loadDuration: 3_000_000,
    promptEvalDuration: 120_000_000,
    evalDuration: 700_000_000,
    totalDuration: 850_000_000,
    meta: { api: "ollama", path: "/api/chat", http_status: 200, ttft_ms: 95.5, chunks: 43 },
  };
}
