import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { parseConfig } from "../../src/config.js";
import { type Action, completeAction, type NewAction } from "../../src/ledger/actions.js";
import type { ActionAppender, LedgerStores } from "../../src/ledger/stores/index.js";
import {
  defineStage,
  Runtime,
  type StageContext,
  type StageHistory,
} from "../../src/runtime/index.js";
import { ENGINES } from "../support/engines.js";
import { type EngineRuntimeFixture, engineRuntimeFixture, reply } from "./fixtures.js";

/** Every history a prompt builder was shown, by stage name. */
const shown: { stage: string; history: StageHistory }[] = [];

const record = (input: { text: string }, context: StageContext) => {
  shown.push({ stage: context.stage, history: context.history });
  return `Read: ${input.text}`;
};
const schema = z.object({ total: z.number(), confidence: z.number() });
const extract = defineStage({ name: "extract", role: "reasoner", schema, prompt: record });
const verify = defineStage({ name: "verify", role: "reasoner", schema, prompt: record });

/**
 * An appender that commits only on flush, as a batched writer under load may: whatever a stage
 * sees of its own run before then comes from the runtime's in-memory overlay.
 */
function holdingAppender(stores: LedgerStores): ActionAppender {
  const held: Action[] = [];
  return {
    get pending() {
      return held.length;
    },
    write(action: NewAction) {
      const complete = completeAction(action);
      held.push(complete);
      return complete;
    },
    async flush() {
      const batch = held.splice(0);
      if (batch.length) await stores.actions.insert(batch);
      return batch.length;
    },
    async close() {
      await this.flush();
    },
  };
}

let fixture: EngineRuntimeFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
  shown.length = 0;
});

describe.each(ENGINES.filter((engine) => engine.available))("stage history on $name", (engine) => {
  it("shows a later stage this run's earlier steps before the writer commits them", async () => {
    fixture = await engineRuntimeFixture(engine, "history_run", () =>
      reply({ total: 42, confidence: 0.95 }),
    );
    const stores = fixture.stores;
    const writer = holdingAppender(stores);
    const config = parseConfig({ models: fixture.models });
    const runtime = new Runtime({ config, ledger: { actions: stores.actions, writer } });
    const agent = runtime.agent("invoices", async (input: { text: string }, run) => {
      await run.stage(extract, input);
      return (await run.stage(verify, input)).output;
    });

    const result = await agent.run({ text: "Total 42" });

    expect(writer.pending).toBeGreaterThan(0);
    expect(await stores.actions.trace(result.traceId)).toEqual([]);
    const later = shown.find((s) => s.stage === "verify")!.history;
    expect(later.sameTrace.map((step) => step.actionType).sort()).toEqual([
      "attempt",
      "extract",
      "model_call",
    ]);
    await runtime.close();
    expect(await stores.actions.trace(result.traceId)).toHaveLength(7);
  });

  it("shows a stage, from the ledger, what another process's run did on the same input", async () => {
    let answer = 41;
    fixture = await engineRuntimeFixture(engine, "history_input", () =>
      reply({ total: answer, confidence: 0.95 }),
    );
    const input = { text: "Total due: 42" };
    const run = (runtime: Runtime) =>
      runtime
        .agent("invoices", async (i: { text: string }, r) => (await r.stage(extract, i)).output)
        .run(input);
    const first = fixture.runtime();
    const earlier = await run(first);
    await first.close();
    answer = 42;

    // A fresh runtime has nothing in memory: what it is shown was read from the engine.
    await run(fixture.runtime());

    const [before, after] = shown.map((s) => s.history);
    expect(before!.sameInput).toEqual([]);
    const attempt = after!.sameInput.find((step) => step.actionType === "attempt")!;
    expect(attempt).toMatchObject({
      traceId: earlier.traceId,
      actionId: earlier.stages[0]!.winnerId,
      output: { total: 41, confidence: 0.95 },
      status: "ok",
    });
    expect(after!.sameInput.map((step) => step.actionType)).toContain("extract");
    expect(after!.sameTrace).toEqual([]);
  });
});
