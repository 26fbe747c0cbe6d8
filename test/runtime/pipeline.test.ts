import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { parseConfig } from "../../src/config.js";
import { startGateway } from "../../src/gateway/server.js";
import { sqliteStores } from "../../src/ledger/select.js";
import { UserActivity } from "../../src/monitor/activity.js";
import { Runtime, twoStagePipeline } from "../../src/runtime/index.js";
import { startScriptedUpstream } from "../support/scripted-upstream.js";
import { tempLedger } from "../support/temp-ledger.js";
import { type RuntimeFixture, reply, runtimeFixture } from "./fixtures.js";

const categorize = twoStagePipeline({
  name: "categorize",
  domain: "personal finance",
  reasoner: { data: z.object({ payee: z.string(), amount: z.number() }) },
  expert: {
    role: "expert",
    schema: z.object({ category: z.string(), confidence: z.number() }),
    checks: [
      (output) => ({
        name: "known_category",
        passed: ["groceries", "rent"].includes(output.category),
      }),
    ],
  },
});

const reasonerReply = reply({
  data: { payee: "WHOLEFDS MKT 10234", amount: -54.2 },
  expert_prompt: {
    task: "Categorize this card transaction",
    context: "A personal checking account",
    constraints: ["Use one of: groceries, rent"],
    answer_format: "category and confidence",
  },
  confidence: 0.9,
});

let fixture: RuntimeFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

describe("the two-stage pipeline", () => {
  it("logs run → reasoner → attempt → model_call and run → expert → ... as one tree", async () => {
    fixture = await runtimeFixture((request) =>
      request.model === "small:1b"
        ? reasonerReply
        : reply({ category: "groceries", confidence: 0.9 }),
    );
    const agent = fixture.runtime.agent("finance", categorize.pipeline);

    const result = await agent.run({
      request: "What is this charge?",
      material: "03/02 WHOLEFDS MKT 10234 -54.20",
    });

    expect(result.output.answer).toEqual({ category: "groceries", confidence: 0.9 });
    expect(result.output.data).toEqual({ payee: "WHOLEFDS MKT 10234", amount: -54.2 });
    expect(result.flags).toEqual([]);
    fixture.ledger.writer.flush();
    const trace = fixture.ledger.actions.trace(result.traceId);
    const byId = new Map(trace.map((a) => [a.id, a]));
    const path = (id: string): string[] => {
      const action = byId.get(id)!;
      return action.parentId ? [...path(action.parentId), action.actionType] : [action.actionType];
    };
    expect(trace.map((a) => path(a.id).join(" > ")).sort()).toEqual([
      "run",
      "run > categorize.expert",
      "run > categorize.expert > attempt",
      "run > categorize.expert > attempt > model_call",
      "run > categorize.reasoner",
      "run > categorize.reasoner > attempt",
      "run > categorize.reasoner > attempt > model_call",
    ]);
    expect(byId.get(result.actionId)!.confidence).toBe(result.confidence);

    // The expert saw the reasoner's prompt and the extracted data, not the raw material.
    const expertCall = fixture.upstream.requests.find(
      (r) => (r.body as { model: string }).model === "big:14b",
    )!;
    const prompt = (expertCall.body as { messages: { content: string }[] }).messages.at(
      -1,
    )!.content;
    expect(prompt).toContain("Task: Categorize this card transaction");
    expect(prompt).toContain('"payee": "WHOLEFDS MKT 10234"');
    expect(prompt).not.toContain("03/02");
    // Ollama got the JSON schema as `format`, and the lineage headers name the attempt.
    expect((expertCall.body as { format: { type: string } }).format.type).toBe("object");
    const expertAttempt = trace.find((a) => a.actionType === "attempt" && a.model === "big:14b")!;
    expect(expertCall.headers["x-nightshift-parent"]).toBe(expertAttempt.id);
    expect(expertCall.headers["x-nightshift-agent"]).toBe("finance");
    expect(expertCall.headers.traceparent).toMatch(new RegExp(`^00-${result.traceId}-`));
  });

  it("shows a stage what it tried before on the same input and what the audit corrected", async () => {
    const seen: string[] = [];
    fixture = await runtimeFixture((request) => {
      seen.push(request.prompt);
      return request.model === "small:1b"
        ? reasonerReply
        : reply({ category: "rent", confidence: 0.9 });
    });
    const agent = fixture.runtime.agent("finance", categorize.pipeline);
    const input = { request: "What is this charge?", material: "WHOLEFDS -54.20" };
    const first = await agent.run(input);
    fixture.ledger.writer.flush();
    const reasonerStage = first.stages[0]!;
    fixture.ledger.actions.setAuditStatus([reasonerStage.winnerId], "corrected");

    await agent.run(input);

    const secondReasonerPrompt = seen[2]!;
    expect(seen[0]).not.toContain("Earlier work on this same input");
    expect(secondReasonerPrompt).toContain("Earlier work on this same input");
    expect(secondReasonerPrompt).toContain("the audit CORRECTED this answer");
  });
});

describe("through the real gateway", () => {
  it("lets the gateway log the model call as a child of the attempt", async () => {
    const upstream = await startScriptedUpstream({
      models: ["small:1b", "big:14b"],
      script: (request) =>
        request.model === "small:1b"
          ? reasonerReply
          : reply({ category: "groceries", confidence: 0.95 }),
    });
    const { ledger, cleanup } = tempLedger();
    const gatewayConfig = parseConfig({
      server: { port: 0 },
      upstreams: { default: upstream.url },
    });
    const gateway = await startGateway({
      config: gatewayConfig,
      ledger,
      activity: new UserActivity(),
    });
    const config = parseConfig({
      server: { port: gateway.port },
      models: { reasoner: { model: "small:1b" }, expert: { model: "big:14b" } },
    });
    const runtime = new Runtime({ config, ledger: sqliteStores(ledger) });
    try {
      const result = await runtime
        .agent("finance", categorize.pipeline)
        .run({ request: "?", material: "WHOLEFDS" });
      await gateway.close();
      ledger.writer.flush();
      const trace = ledger.actions.trace(result.traceId);
      const attempts = trace.filter((a) => a.actionType === "attempt");
      expect(attempts).toHaveLength(2);
      expect(trace.filter((a) => a.actionType === "model_call")).toHaveLength(0);
      for (const attempt of attempts) {
        const calls = trace.filter((a) => a.parentId === attempt.id);
        expect(calls).toHaveLength(1);
        expect(calls[0]!.agent).toBe("finance");
        expect(calls[0]!.model).toBe(attempt.model);
      }
    } finally {
      await runtime.close();
      await gateway.close();
      await upstream.close();
      cleanup();
    }
  });
});

describe("the OpenAI-compatible backend", () => {
  it("asks /v1/chat/completions with a strict json_schema response_format", async () => {
    fixture = await runtimeFixture(
      (request) =>
        request.model === "small:1b"
          ? reasonerReply
          : reply({ category: "groceries", confidence: 0.9 }),
      {},
      "openai",
    );
    const result = await fixture.runtime
      .agent("finance", categorize.pipeline)
      .run({ request: "?", material: "x" });

    expect(result.output.answer.category).toBe("groceries");
    const request = fixture.upstream.requests[0]!;
    expect(request.path).toBe("/v1/chat/completions");
    const format = (request.body as { response_format: Record<string, unknown> }).response_format;
    expect(format).toMatchObject({
      type: "json_schema",
      json_schema: { name: "categorize.reasoner", strict: true },
    });
    fixture.ledger.writer.flush();
    const call = fixture.ledger.actions.list({ actionType: "model_call" })[0]!;
    expect(call.tokensIn).toBeGreaterThan(0);
  });
});
