import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { parseConfig } from "../../src/config.js";
import { sqliteStores } from "../../src/ledger/select.js";
import { defineStage, type KnowledgeQuery, Runtime } from "../../src/runtime/index.js";
import { startScriptedUpstream } from "../support/scripted-upstream.js";
import { tempLedger } from "../support/temp-ledger.js";
import { reply } from "./fixtures.js";

const schema = z.object({ category: z.string(), confidence: z.number() });
const stage = defineStage({
  name: "categorize",
  role: "primary",
  schema,
  prompt: (input: string, context) =>
    [`Categorize: ${input}`, ...context.knowledge.map((k) => `Known: ${k.content}`)].join("\n"),
  checks: [(output) => ({ name: "is_groceries", passed: output.category === "groceries" })],
  alternatives: [{ name: "with-knowledge", role: "fallback", knowledge: 2 }],
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(primaryUrl: string | null, fallbackUrl: string) {
  const { ledger, home, cleanup } = tempLedger();
  cleanups.push(cleanup);
  const queries: KnowledgeQuery[] = [];
  const knowledge = {
    search: async (query: KnowledgeQuery) => {
      queries.push(query);
      return [
        {
          key: "payee:wholefds",
          scope: "finance",
          content: "WHOLEFDS is Whole Foods: groceries",
          version: 3,
          score: 1,
        },
      ];
    },
  };
  const config = parseConfig({
    models: {
      primary: { model: "small:1b", url: primaryUrl ?? fallbackUrl },
      fallback: { model: "big:14b", url: fallbackUrl },
      broken: { model: "junk", backend: "llamacpp", path: join(home, "junk.gguf") },
    },
  });
  const runtime = new Runtime({ config, ledger: sqliteStores(ledger), knowledge });
  cleanups.push(() => runtime.close());
  return { runtime, ledger, queries, home };
}

describe("stage context and failures", () => {
  it("asks the knowledge base only for the approach that wants it, and puts the hits in its prompt", async () => {
    const upstream = await startScriptedUpstream({
      models: ["small:1b", "big:14b"],
      script: (r) =>
        r.prompt.includes("Known: WHOLEFDS")
          ? reply({ category: "groceries", confidence: 0.9 })
          : reply({ category: "dining", confidence: 0.9 }),
    });
    cleanups.push(() => upstream.close());
    const { runtime, ledger, queries } = await setup(null, upstream.url);

    const result = await runtime.runStage(stage, "WHOLEFDS MKT", { agent: "finance" });

    expect(result.winnerApproach).toBe("with-knowledge");
    expect(result.output.category).toBe("groceries");
    expect(queries).toEqual([{ agent: "finance", text: "WHOLEFDS MKT", limit: 2 }]);
    ledger.writer.flush();
    expect(ledger.actions.get(result.winnerId)!.meta!.knowledge_keys).toEqual(["payee:wholefds"]);
  });

  it("moves on to the next approach when a model server cannot be reached, and logs why", async () => {
    const upstream = await startScriptedUpstream({
      models: ["small:1b", "big:14b"],
      script: () => reply({ category: "groceries", confidence: 0.9 }),
    });
    cleanups.push(() => upstream.close());
    const { runtime, ledger } = await setup("http://127.0.0.1:9", upstream.url);

    const result = await runtime.runStage(stage, "WHOLEFDS MKT", { agent: "finance" });

    expect(result.winnerApproach).toBe("with-knowledge");
    expect(result.attempts).toHaveLength(2);
    expect(result.attempts[0]!.error).toMatch(
      /cannot reach http:\/\/127.0.0.1:9\/api\/chat for role "primary"/,
    );
    ledger.writer.flush();
    const failed = ledger.actions.get(result.attempts[0]!.actionId)!;
    expect(failed.status).toBe("error");
    expect(failed.flags).toEqual([]);
    const [call] = ledger.actions.children(failed.id);
    expect(call!.actionType).toBe("model_call");
    expect(call!.status).toBe("error");
  });

  it("names the file when a GGUF file cannot be loaded", async () => {
    const upstream = await startScriptedUpstream({ models: ["small:1b"] });
    cleanups.push(() => upstream.close());
    const { runtime, home } = await setup(null, upstream.url);
    writeFileSync(join(home, "junk.gguf"), "this is not a model");
    const broken = defineStage({ ...stage, name: "broken", role: "broken", alternatives: [] });

    await expect(runtime.runStage(broken, "x", { agent: "finance" })).rejects.toThrow(
      new RegExp(
        `cannot load GGUF model ${join(home, "junk.gguf").replaceAll(".", "\\.")} for role "broken"`,
      ),
    );
  });
});
