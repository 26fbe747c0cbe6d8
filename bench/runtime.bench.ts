import { performance } from "node:perf_hooks";
import { z } from "zod";
import { parseConfig } from "../src/config.js";
import { sqliteStores } from "../src/ledger/select.js";
import { defineStage, type ModelClient, ModelClients, Runtime } from "../src/runtime/index.js";
import { startScriptedUpstream } from "../test/support/scripted-upstream.js";
import { tempLedger } from "../test/support/temp-ledger.js";

// Runtime overhead per stage, model time excluded: building the prompt, the lineage headers,
// parsing and validating the reply, running checks, deriving confidence, reading history and
// queueing the stage, attempt and model-call actions in the ledger (real SQLite file, batched).
// (a) an in-process backend that answers at once: the stage's wall time is all overhead;
// (b) the scripted Ollama upstream over HTTP: stage time minus the raw round trip of the same
//     request measured alone.

const ANSWER = JSON.stringify({ category: "groceries", amount: 54.2, confidence: 0.92 });
const schema = z.object({
  category: z.enum(["groceries", "rent", "travel", "other"]),
  amount: z.number(),
  confidence: z.number(),
});
const stage = defineStage({
  name: "categorize",
  role: "reasoner",
  schema,
  prompt: (input: { payee: string; amount: number }, context) =>
    `Categorize ${input.payee} (${input.amount}).${context.previous.length ? " Try again." : ""}`,
  checks: [
    (out, input) => ({
      name: "amount_matches",
      passed: Math.abs(out.amount - Math.abs(input.amount)) < 0.005,
    }),
  ],
});

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { median: at(0.5), p95: at(0.95), p99: at(0.99) };
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

async function inProcess(iterations: number) {
  const { ledger, cleanup } = tempLedger();
  const config = parseConfig({ models: { reasoner: { model: "instant" } } });
  const models = new ModelClients(config);
  const instant: ModelClient = {
    role: "reasoner",
    model: "instant",
    backend: "ollama",
    location: "in-process",
    gpu: null,
    loggedByGateway: false,
    chat: async () => ({ content: ANSWER, model: "instant", tokensIn: 12, tokensOut: 20 }),
    close: async () => {},
  };
  models.use(instant);
  const runtime = new Runtime({ config, ledger: sqliteStores(ledger), models });
  const agent = runtime.agent(
    "bench",
    async (input: { payee: string; amount: number }, run) => (await run.stage(stage, input)).output,
  );
  const samples: number[] = [];
  for (let i = 0; i < iterations + 200; i++) {
    const t = performance.now();
    await agent.run({ payee: `WHOLEFDS MKT ${i}`, amount: -54.2 });
    if (i >= 200) samples.push(performance.now() - t);
  }
  await runtime.close();
  cleanup();
  return stats(samples);
}

async function overHttp(iterations: number) {
  const upstream = await startScriptedUpstream({
    models: ["instant"],
    script: () => ({ content: ANSWER }),
  });
  const { ledger, cleanup } = tempLedger();
  const config = parseConfig({ models: { reasoner: { model: "instant", url: upstream.url } } });
  const runtime = new Runtime({ config, ledger: sqliteStores(ledger) });
  const body = JSON.stringify({
    model: "instant",
    messages: [{ role: "user", content: "Categorize WHOLEFDS MKT (-54.2)." }],
    format: stage.jsonSchema,
    stream: false,
  });
  const raw: number[] = [];
  const staged: number[] = [];
  for (let i = 0; i < iterations + 100; i++) {
    // Interleaved, so both see the same machine load.
    let t = performance.now();
    const response = await fetch(`${upstream.url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    await response.json();
    const rawMs = performance.now() - t;
    t = performance.now();
    await runtime.runStage(
      stage,
      { payee: `WHOLEFDS MKT ${i}`, amount: -54.2 },
      { agent: "bench" },
    );
    const stageMs = performance.now() - t;
    if (i >= 100) {
      raw.push(rawMs);
      staged.push(stageMs);
    }
  }
  await runtime.close();
  await upstream.close();
  cleanup();
  return {
    raw: stats(raw),
    stage: stats(staged),
    overhead: stats(staged.map((s, i) => s - raw[i]!)),
  };
}

const a = await inProcess(3000);
process.stdout.write(
  `in-process backend, agent run with one stage (3000 runs): median ${round(a.median)} ms, p95 ${round(a.p95)} ms, p99 ${round(a.p99)} ms\n`,
);
const b = await overHttp(600);
process.stdout.write(
  `scripted upstream over HTTP (600 stages): raw round trip median ${round(b.raw.median)} ms; stage median ${round(b.stage.median)} ms; overhead (stage − raw, paired) median ${round(b.overhead.median)} ms, p95 ${round(b.overhead.p95)} ms\n`,
);
process.stdout.write(
  `goal: runtime overhead per stage ≤ 1 ms median — ${a.median <= 1 ? "met" : "NOT met"} (in-process)\n`,
);
process.stdout.write(
  `${JSON.stringify({
    bench: "runtime",
    in_process_run_median_ms: round(a.median),
    in_process_run_p95_ms: round(a.p95),
    http_raw_median_ms: round(b.raw.median),
    http_stage_median_ms: round(b.stage.median),
    http_overhead_median_ms: round(b.overhead.median),
    http_overhead_p95_ms: round(b.overhead.p95),
    goal_ms: 1,
  })}\n`,
);
