import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { chain, defineStage, StageFailedError } from "../../src/runtime/index.js";
import { type RuntimeFixture, reply, runtimeFixture } from "./fixtures.js";

const schema = z.object({
  category: z.enum(["bug", "feature", "question"]),
  confidence: z.number(),
});

const classify = defineStage({
  name: "classify",
  role: "reasoner",
  schema,
  prompt: (input: string) => `Classify: ${input}`,
  checks: [
    (output, input) => ({
      name: "crash_is_bug",
      passed: !input.includes("crash") || output.category === "bug",
      detail: `category ${output.category}`,
    }),
  ],
  alternatives: [
    { name: "bigger-model", role: "expert" },
    {
      name: "reworded",
      prompt: (input: string) => `Is this a bug, a feature or a question? ${input}`,
    },
  ],
});

let fixture: RuntimeFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

describe("a stage", () => {
  it("retries a reply that is not JSON or does not fit the schema, without crashing", async () => {
    const replies = [
      { content: "I think it is a bug" },
      reply({ category: "bug", confidence: 0.9 }),
    ];
    fixture = await runtimeFixture(() => replies.shift()!);
    const agent = fixture.runtime.agent(
      "triage",
      async (input: string, run) => (await run.stage(classify, input)).output,
    );

    const result = await agent.run("The app crashes when I click save");

    expect(result.output).toEqual({ category: "bug", confidence: 0.9 });
    expect(result.flags).toEqual([]);
    fixture.ledger.writer.flush();
    const attempts = fixture.ledger.actions.list({ actionType: "attempt", order: "asc" });
    expect(attempts.map((a) => [a.status, a.flags])).toEqual([
      ["error", ["invalid_output"]],
      ["ok", []],
    ]);
    expect(attempts[0]!.error).toMatch(/reply is not JSON/);
    // The retry tells the model why its reply was refused.
    const second = fixture.upstream.requests[1]!.body as { messages: { content: string }[] };
    expect(second.messages.at(-1)!.content).toMatch(
      /previous reply was refused: reply is not JSON/,
    );
  });

  it("fails with a StageFailedError naming the stage when no reply ever fits", async () => {
    fixture = await runtimeFixture(() => reply({ category: "complaint" }), {
      max_invalid_retries: 0,
    });
    const agent = fixture.runtime.agent(
      "triage",
      async (input: string, run) => (await run.stage(classify, input)).output,
    );

    const error = await agent.run("crash").catch((e: unknown) => e);

    expect(error).toBeInstanceOf(StageFailedError);
    expect((error as Error).message).toMatch(
      /stage "classify" of agent "triage" got no valid reply in 3 attempt/,
    );
    fixture.ledger.writer.flush();
    const stage = fixture.ledger.actions.get((error as StageFailedError).actionId)!;
    expect(stage.status).toBe("error");
    expect(stage.flags).toEqual(["requires_audit"]);
    expect(fixture.ledger.actions.list({ actionType: "attempt" })).toHaveLength(3);
  });

  it("tries the alternatives in order when confidence is low and keeps the best attempt", async () => {
    fixture = await runtimeFixture((request) => {
      // The small model says "feature" (fails the check); the big one says "bug" but unsure.
      if (request.model === "small:1b") return reply({ category: "feature", confidence: 0.9 });
      return reply({ category: "bug", confidence: 0.2 });
    });
    const result = await fixture.runtime.runStage(classify, "it crashes on start", {
      agent: "triage",
    });

    // small: 0.7*0 + 0.3*0.9 = 0.27; big: 0.7*1 + 0.3*0.2 = 0.76; reworded (small again): 0.27.
    expect(result.output.category).toBe("bug");
    expect(result.winnerApproach).toBe("bigger-model");
    expect(result.confidence).toBeCloseTo(0.76);
    expect(result.attempts.map((a) => a.approach)).toEqual(["primary", "bigger-model", "reworded"]);
    expect(result.flags.sort()).toEqual(["low_confidence", "requires_audit"]);

    fixture.ledger.writer.flush();
    const stage = fixture.ledger.actions.get(result.actionId)!;
    expect(stage.meta).toMatchObject({ winner: result.winnerId, winner_approach: "bigger-model" });
    expect(String(stage.meta!.reason)).toMatch(/no approach reached the threshold 0.8/);
    const winner = fixture.ledger.actions.get(result.winnerId)!;
    expect(winner.meta!.confidence).toMatchObject({
      checks_passed: 1,
      checks_failed: 0,
      model_reported: 0.2,
      value: 0.76,
    });
  });

  it("stops at the first approach that reaches the threshold and flags only what happened", async () => {
    fixture = await runtimeFixture((request) =>
      request.model === "small:1b"
        ? reply({ category: "bug", confidence: 0.3 })
        : reply({ category: "bug", confidence: 0.95 }),
    );
    const low = await fixture.runtime.runStage(classify, "crash", { agent: "triage" });
    // primary 0.7 + 0.09 = 0.79 (< 0.80) → bigger model 0.7 + 0.285 = 0.985.
    expect(low.winnerApproach).toBe("bigger-model");
    expect(low.flags).toEqual(["low_confidence"]);
    expect(low.attempts).toHaveLength(2);

    fixture.upstream.setScript(() => reply({ category: "bug", confidence: 1 }));
    const clean = await fixture.runtime.runStage(classify, "crash", { agent: "triage" });
    expect(clean.flags).toEqual([]);
    expect(clean.attempts).toHaveLength(1);
  });

  it("flags check_failed when the kept answer failed a check", async () => {
    fixture = await runtimeFixture(() => reply({ category: "feature", confidence: 1 }));
    const result = await fixture.runtime.runStage(classify, "crash", { agent: "triage" });
    expect(result.flags.sort()).toEqual(["check_failed", "low_confidence", "requires_audit"]);
    expect(result.derivation.checks).toEqual([
      { name: "crash_is_bug", passed: false, detail: "category feature" },
    ]);
  });

  it("chains stages so each one's output is the next one's input", async () => {
    fixture = await runtimeFixture((request) =>
      request.prompt.startsWith("Classify")
        ? reply({ category: "bug", confidence: 1 })
        : reply({ category: "question", confidence: 1 }),
    );
    const explain = defineStage({
      name: "explain",
      role: "expert",
      schema,
      prompt: (previous: z.infer<typeof schema>) => `Explain a ${previous.category}`,
      checks: [() => ({ name: "always", passed: true })],
    });
    const result = await fixture.runtime.agent("triage", chain(classify, explain)).run("crash");

    expect(result.output).toEqual({ category: "question", confidence: 1 });
    expect(result.stages.map((s) => s.output)).toEqual([
      { category: "bug", confidence: 1 },
      { category: "question", confidence: 1 },
    ]);
    expect(fixture.upstream.requests.at(-1)!.body).toMatchObject({ model: "big:14b" });
  });
});
