import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { z } from "zod";
import { createApiHandler } from "../../src/api/handler.js";
import { parseConfig } from "../../src/config.js";
import { KnowledgeBase } from "../../src/knowledge/kb.js";
import { defineStage, formatTraceTree } from "../../src/runtime/index.js";
import { readTraceTree } from "../../src/runtime/trace-tree.js";
import { runCliInProcess } from "../support/cli-in-process.js";
import { ENGINES } from "../support/engines.js";
import { tempLedger } from "../support/temp-ledger.js";
import { type EngineRuntimeFixture, engineRuntimeFixture, reply } from "./fixtures.js";

const extract = defineStage({
  name: "extract-total",
  role: "reasoner",
  schema: z.object({ total: z.number(), currency: z.string(), confidence: z.number() }),
  prompt: (input: { text: string }) => `Find the total in: ${input.text}`,
  checks: [
    (output, input) => ({
      name: "total_in_text",
      passed: input.text.includes(String(output.total)),
    }),
  ],
  alternatives: [{ name: "bigger-model", role: "expert" }],
});

let fixture: EngineRuntimeFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

const script = (request: { model: string }) =>
  request.model === "small:1b"
    ? reply({ total: 41, currency: "USD", confidence: 0.9 })
    : reply({ total: 42.5, currency: "USD", confidence: 0.9 });

const engines = ENGINES.filter((engine) => engine.available);

describe.each(engines)("replay on $name", (engine) => {
  it("re-runs a stage's kept attempt on another model, logs it under the original, and shows the difference", async () => {
    fixture = await engineRuntimeFixture(engine, "replay", script);
    const runtime = fixture.runtime();
    const agent = runtime.agent(
      "invoices",
      async (input: { text: string }, r) => (await r.stage(extract, input)).output,
    );
    const first = await agent.run({ text: "Total due: 42.5 USD" });
    const stageId = first.stages[0]!.actionId;
    expect(first.stages[0]!.winnerApproach).toBe("bigger-model");

    const result = await runtime.replay(stageId, {
      model: "small:1b",
      stage: extract as never,
    });

    expect(result.originalId).toBe(first.stages[0]!.winnerId);
    expect(result.before.model).toBe("big:14b");
    expect(result.after.model).toBe("small:1b");
    expect(result.differences).toEqual([{ path: "total", before: 42.5, after: 41 }]);
    expect(result.after.derivation!.checks).toEqual([{ name: "total_in_text", passed: false }]);
    const replay = (await fixture.stores.actions.get(result.replayId))!;
    expect(replay.actionType).toBe("replay");
    expect(replay.parentId).toBe(result.originalId);
    expect(replay.traceId).toBe(first.traceId);
    expect(replay.meta).toMatchObject({ replay_of: result.originalId, original_model: "big:14b" });
    // The same messages and schema went out again.
    const sent = fixture.upstream.requests.map(
      (r) => r.body as { messages: unknown; format: unknown },
    );
    expect(sent.at(-1)!.messages).toEqual(sent[1]!.messages);
    expect(sent.at(-1)!.format).toEqual(sent[1]!.format);

    const text = formatTraceTree(await readTraceTree(fixture.stores.actions, first.traceId));
    expect(text).toMatch(/★ attempt {2}\[bigger-model\]/);
    expect(text).toMatch(/✗ total_in_text/);
    expect(text).toMatch(/replay of /);
  });

  it("is offered by the CLI: trace --json shows the tree, replay --json the comparison", async () => {
    fixture = await engineRuntimeFixture(engine, "replay_cli", script);
    // SQLite: the CLI opens nightshift.db in the data dir; PostgreSQL: the same database.
    writeFileSync(
      join(fixture.home, "nightshift.yaml"),
      stringify({
        models: fixture.models,
        ...(fixture.ledgerUrl ? { ledger: { url: fixture.ledgerUrl } } : {}),
      }),
    );
    const runtime = fixture.runtime();
    const agent = runtime.agent(
      "invoices",
      async (input: { text: string }, r) => (await r.stage(extract, input)).output,
    );
    const first = await agent.run({ text: "Total due: 42.5 USD" });
    await runtime.flush();
    const cli = async (...args: string[]) => {
      const result = await runCliInProcess(fixture!.home, args);
      expect(result.code, result.stderr).toBe(0);
      return result;
    };

    const trace = JSON.parse((await cli("trace", first.actionId.slice(0, 23), "--json")).stdout);
    expect(trace.trace_id).toBe(first.traceId);
    const [root] = trace.roots;
    expect(root.action_type).toBe("run");
    const stage = root.children[0];
    expect(stage.action_type).toBe("extract-total");
    expect(stage.flags).toEqual(["low_confidence"]);
    expect(
      stage.children.map((c: { winner: boolean; meta: { approach: string } }) => [
        c.meta.approach,
        c.winner,
      ]),
    ).toEqual([
      ["primary", false],
      ["bigger-model", true],
    ]);

    const replay = JSON.parse(
      (await cli("replay", stage.id, "--role", "reasoner", "--json")).stdout,
    );
    expect(replay.after).toMatchObject({ model: "small:1b", valid: true, output: { total: 41 } });
    expect(replay.differences).toEqual([{ path: "total", before: 42.5, after: 41 }]);
    expect(replay.original_checks).toEqual([{ name: "total_in_text", passed: true }]);
    // Logged in the selected ledger, under the stage's kept attempt.
    expect(await fixture.stores.actions.get(replay.replay_id)).toMatchObject({
      actionType: "replay",
      parentId: replay.original_id,
      traceId: first.traceId,
      model: "small:1b",
    });

    const missing = await runCliInProcess(fixture.home, ["trace", "0000000000"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^nightshift: no action or trace 0000000000/);
  });

  it("is offered by the API: POST /v0/actions/ID/replay re-runs a stage on the selected ledger", async () => {
    fixture = await engineRuntimeFixture(engine, "replay_api", script);
    const runtime = fixture.runtime();
    const first = await runtime
      .agent(
        "invoices",
        async (input: { text: string }, r) => (await r.stage(extract, input)).output,
      )
      .run({ text: "Total due: 42.5 USD" });
    await runtime.flush();
    // As daemon.ts wires it: a local SQLite file beside the selected engine's stores.
    const local = tempLedger();
    const api = createApiHandler({
      ledger: local.ledger,
      stores: fixture.stores,
      kb: new KnowledgeBase(fixture.stores.knowledge),
      config: parseConfig({ models: fixture.models }),
      log: () => {},
    });
    const server = createServer((req, res) => void api(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(
        `http://127.0.0.1:${port}/v0/actions/${first.stages[0]!.actionId}/replay`,
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ role: "reasoner" }),
        },
      );
      expect(response.status).toBe(200);
      const body = (await response.json()) as { replay_id: string; differences: unknown };
      expect(body.differences).toEqual([{ path: "total", before: 42.5, after: 41 }]);
      expect(await fixture.stores.actions.get(body.replay_id)).toMatchObject({
        actionType: "replay",
        parentId: first.stages[0]!.winnerId,
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
      local.cleanup();
    }
  });
});
