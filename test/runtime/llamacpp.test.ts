import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { parseConfig } from "../../src/config.js";
import type { Ledger } from "../../src/ledger/ledger.js";
import { sqliteStores } from "../../src/ledger/select.js";
import { defineStage, Runtime } from "../../src/runtime/index.js";
import { tempLedger } from "../support/temp-ledger.js";

const MODEL = resolve(import.meta.dirname, "../../../shared/models/stories260K.gguf");

// The fixture model writes children's stories; the grammar makes whatever it writes fit the schema.
const schema = z.object({
  category: z.enum(["bug", "feature", "question"]),
  urgent: z.boolean(),
  priority: z.enum(["low", "normal", "high"]),
});

const classify = defineStage({
  name: "classify",
  role: "story",
  schema,
  prompt: (input: string) => `Classify: ${input}`,
  confidenceField: null,
  options: { max_tokens: 96 },
});

let runtime: Runtime;
let ledger: Ledger;
let cleanup: () => void;

beforeAll(() => {
  const temp = tempLedger();
  ledger = temp.ledger;
  cleanup = temp.cleanup;
  const config = parseConfig({
    models: {
      story: {
        model: "stories260K",
        backend: "llamacpp",
        path: MODEL,
        threads: 1,
        context_size: 1024,
      },
      missing: { model: "nothing", backend: "llamacpp", path: "/nonexistent/model.gguf" },
    },
  });
  runtime = new Runtime({ config, ledger: sqliteStores(ledger) });
});

afterAll(async () => {
  await runtime.close();
  cleanup();
});

describe("the embedded llama.cpp backend", () => {
  it("returns schema-valid output through the same stage code path, and logs the model call", async () => {
    const result = await runtime.runStage(classify, "The app crashes when I click save.", {
      agent: "triage",
    });

    expect(schema.safeParse(result.output).success).toBe(true);
    expect(["bug", "feature", "question"]).toContain(result.output.category);
    ledger.writer.flush();
    const attempt = ledger.actions.get(result.winnerId)!;
    expect(attempt.model).toBe("stories260K");
    expect(attempt.upstream).toBe(MODEL);
    expect((attempt.request as { backend: string }).backend).toBe("llamacpp");
    const [call] = ledger.actions.children(attempt.id);
    expect(call!.actionType).toBe("model_call");
    expect(call!.tokensOut).toBeGreaterThan(0);
  });

  it("names the missing GGUF file in the error", async () => {
    const stage = defineStage({ ...classify, name: "classify-missing", role: "missing" });
    await expect(runtime.runStage(stage, "x", { agent: "triage" })).rejects.toThrow(
      /got no valid reply.*GGUF file not found for role "missing": \/nonexistent\/model.gguf/,
    );
  });
});
