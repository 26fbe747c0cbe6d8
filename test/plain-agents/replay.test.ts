import { Ollama } from "ollama";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { PostgresActionLedger } from "../../src/ledger/postgres/action-ledger.js";
import { runCliInProcess } from "../support/cli-in-process.js";
import { ENGINES } from "../support/engines.js";
import { type PlainHarness, postJson, startPlainHarness } from "./harness.js";

const REPLIES: Record<string, string> = {
  "qwen2.5:7b": "Total: 120 EUR\nDue: 2024-05-01\nPayee: ACME",
  "llama3.2:3b": "Total: 120 EUR\nDue: 2024-06-01\nPayee: ACME",
  "qwen2.5:14b": "Total: 120 EUR\nDue: 2024-05-01\nPayee: ACME",
};

const engines = ENGINES.filter((engine) => engine.available);

describe.each(engines)("replay of a logged gateway call on $name", (engine) => {
  let h: PlainHarness;
  const seen: string[] = [];
  const recording: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    const id = response.headers.get("x-nightshift-action");
    if (id) seen.push(id);
    return response;
  };
  beforeAll(async () => {
    h = await startPlainHarness({
      config: () => ({ models: { auditor: { model: "qwen2.5:14b" } } }),
      upstream: { models: Object.keys(REPLIES) },
      engine,
    });
    h.upstream.setScript((r) => ({ content: REPLIES[r.model] ?? `unknown model ${r.model}` }));
  });
  afterAll(() => h.close());

  it("re-sends an ollama chat to another model, logs it under the original, and diffs the replies", async () => {
    const client = new Ollama({
      host: h.gateway.url,
      headers: { "X-Nightshift-Agent": "bills" },
      fetch: recording,
    });
    const parts: string[] = [];
    for await (const part of await client.chat({
      model: "qwen2.5:7b",
      messages: [{ role: "user", content: "read this bill" }],
      stream: true,
    })) {
      parts.push(part.message.content);
    }
    const original = await h.waitForAction(seen.at(-1)!);
    const response = await h.api(
      `/v0/actions/${original.id}/replay`,
      postJson({ model: "llama3.2:3b" }),
    );
    expect(response.status).toBe(200);
    const result = (await response.json()) as Record<string, unknown>;
    expect(result).toMatchObject({
      kind: "gateway_call",
      original_id: original.id,
      trace_id: original.traceId,
      before: { model: "qwen2.5:7b", text: REPLIES["qwen2.5:7b"] },
      after: { model: "llama3.2:3b", text: REPLIES["llama3.2:3b"], error: null },
      identical: false,
      diff: ["  Total: 120 EUR", "- Due: 2024-05-01", "+ Due: 2024-06-01", "  Payee: ACME"],
    });
    // In the selected ledger, where the original is.
    const replay = (await h.stores.actions.get(String(result.replay_id)))!;
    expect(replay).toMatchObject({
      parentId: original.id,
      traceId: original.traceId,
      agent: "bills",
      actionType: "replay",
      model: "llama3.2:3b",
      status: "ok",
      meta: { replay_of: original.id, original_model: "qwen2.5:7b" },
    });
    expect(replay.request).toMatchObject({
      model: "llama3.2:3b",
      stream: false,
      messages: [{ content: "read this bill" }],
    });
    const sent = h.upstream.requests.at(-1)!;
    expect(sent).toMatchObject({
      path: "/api/chat",
      body: { model: "llama3.2:3b", stream: false },
    });
  });

  it("replays an openai chat completion on a role's model", async () => {
    const client = new OpenAI({
      baseURL: `${h.gateway.url}/v1`,
      apiKey: "x",
      fetch: recording,
      maxRetries: 0,
    });
    await client.chat.completions
      .create({
        model: "qwen2.5:7b",
        messages: [{ role: "user", content: "read this bill" }],
        stream: true,
        stream_options: { include_usage: true },
      })
      .then(async (stream) => {
        for await (const _ of stream) {
          // drain
        }
      });
    const original = await h.waitForAction(seen.at(-1)!);
    const response = await h.api(
      `/v0/actions/${original.id}/replay`,
      postJson({ role: "auditor" }),
    );
    const result = (await response.json()) as Record<string, unknown>;
    expect(result).toMatchObject({
      after: { model: "qwen2.5:14b", text: REPLIES["qwen2.5:14b"] },
      identical: true,
    });
    expect(h.upstream.requests.at(-1)).toMatchObject({ path: "/v1/chat/completions" });
    expect(
      (h.upstream.requests.at(-1)!.body as Record<string, unknown>).stream_options,
    ).toBeUndefined();

    const unknownRole = await h.api(
      `/v0/actions/${original.id}/replay`,
      postJson({ role: "nobody" }),
    );
    expect(unknownRole.status).toBe(404);
    expect(((await unknownRole.json()) as { error: string }).error).toMatch(
      /no model role "nobody"/,
    );
  });

  it("refuses to replay what is not a model's reply", async () => {
    const listing = await recording(`${h.gateway.url}/api/tags`);
    expect(listing.status).toBe(200);
    const action = await h.waitForAction(seen.at(-1)!);
    const response = await h.api(`/v0/actions/${action.id}/replay`, postJson({ model: "x" }));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(
      /\(tags\) is neither a gateway chat, generate or completion call nor a runtime stage/,
    );
  });

  it("replays from the CLI with nightshift replay ID --model", async () => {
    const original = seen[0]!;
    const ledgerUrl = h.ledgerUrl;
    await h.close(false);
    const upstream = h.upstream;
    onTestFinished(() => h.close());
    // The CLI reads the config from the data dir: point it at a fresh scripted upstream.
    const { startScriptedUpstream } = await import("../support/scripted-upstream.js");
    const fresh = await startScriptedUpstream({
      models: Object.keys(REPLIES),
      script: (r) => ({ content: REPLIES[r.model] ?? "?" }),
    });
    onTestFinished(() => fresh.close());
    expect(upstream).not.toBe(fresh);
    const result = await runCliInProcess(h.home, ["replay", original, "--model", "llama3.2:3b"], {
      NIGHTSHIFT_UPSTREAM: fresh.url,
      ...(ledgerUrl ? { NIGHTSHIFT_LEDGER_URL: ledgerUrl } : {}),
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain(`replayed ${original} as `);
    expect(result.stdout).toContain("  after:  llama3.2:3b");
    expect(result.stdout).toMatch(/- Due: 2024-05-01\n\s+\+ Due: 2024-06-01/);
    if (ledgerUrl) {
      // The CLI logged its replay in the shared database, under the original.
      const replayId = /as (\S+)/.exec(result.stdout)![1]!;
      const shared = await PostgresActionLedger.open(ledgerUrl);
      onTestFinished(() => shared.close());
      expect(await shared.actions.get(replayId)).toMatchObject({
        parentId: original,
        actionType: "replay",
        model: "llama3.2:3b",
      });
    }
  });
});
