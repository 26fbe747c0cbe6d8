import { Ollama } from "ollama";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { selectForAudit } from "../../src/audit/select.js";
import { sqliteStoresOf } from "../../src/ledger/sqlite/stores-of.js";
import { runCliInProcess } from "../support/cli-in-process.js";
import { type PlainHarness, postJson, startPlainHarness } from "./harness.js";

// A plain agent reports how sure it was in request headers, through the official clients with
// nothing but headers set, and the audit selects its uncertain work as it would a runtime stage's.
describe("self-reporting from the ollama and openai clients", () => {
  let h: PlainHarness;
  const seen: string[] = [];
  const recording: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    const id = response.headers.get("x-nightshift-action");
    if (id) seen.push(id);
    return response;
  };
  beforeAll(async () => {
    h = await startPlainHarness();
    h.upstream.setScript(() => ({ content: "The invoice total is 120 EUR." }));
  });
  afterAll(() => h.close());

  it("stores confidence, flags and input key sent by the ollama client", async () => {
    const client = new Ollama({
      host: h.gateway.url,
      headers: {
        "X-Nightshift-Agent": "invoices",
        "X-Nightshift-Confidence": "0.55",
        "X-Nightshift-Flags": "needs_receipt, requires_audit",
        "X-Nightshift-Input-Key": "invoice-2024-117",
      },
      fetch: recording,
    });
    const reply = await client.chat({
      model: "qwen2.5:7b",
      messages: [{ role: "user", content: "total of invoice 117?" }],
    });
    expect(reply.message.content).toBe("The invoice total is 120 EUR.");
    const action = await h.waitForAction(seen.at(-1)!);
    expect(action).toMatchObject({
      agent: "invoices",
      confidence: 0.55,
      inputKey: "invoice-2024-117",
    });
    // Under the 0.8 threshold: flagged exactly as a runtime stage under its threshold is.
    expect(action.flags.sort()).toEqual(["low_confidence", "needs_receipt", "requires_audit"]);
    expect(h.ledger.actions.byInputKey("invoices", "invoice-2024-117").map((a) => a.id)).toEqual([
      action.id,
    ]);
  });

  it("stores a confident openai client call without flags, and lets the audit sample it", async () => {
    const client = new OpenAI({
      baseURL: `${h.gateway.url}/v1`,
      apiKey: "unused",
      defaultHeaders: { "X-Nightshift-Agent": "mailer", "X-Nightshift-Confidence": "0.93" },
      fetch: recording,
      maxRetries: 0,
    });
    const reply = await client.chat.completions.create({
      model: "qwen2.5:7b",
      messages: [{ role: "user", content: "draft a reply" }],
    });
    expect(reply.choices[0]!.message.content).toBe("The invoice total is 120 EUR.");
    const action = await h.waitForAction(seen.at(-1)!);
    expect(action).toMatchObject({ agent: "mailer", confidence: 0.93, flags: [] });

    const selection = await selectForAudit(sqliteStoresOf(h.ledger).audit, {
      since: 0,
      until: Date.now() + 1000,
      seed: "s",
      sampleRate: 0.05,
    });
    const reasons = Object.fromEntries(selection.items.map((i) => [i.agent, i.reason]));
    expect(reasons).toEqual({ invoices: "requires_audit", mailer: "sample" });
    expect(selection.items.find((i) => i.agent === "invoices")!.confidence).toBe(0.55);
  });

  it("answers a bad confidence with a 400 in each API's own error shape, and logs nothing", async () => {
    const before = h.ledger.actions.count();
    const ollama = new Ollama({
      host: h.gateway.url,
      headers: { "X-Nightshift-Confidence": "very sure" },
    });
    const error = (await ollama
      .chat({ model: "qwen2.5:7b", messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e)) as { status_code: number; error: string };
    expect(error).toMatchObject({ status_code: 400 });
    expect(error.error).toMatch(
      /X-Nightshift-Confidence: "very sure" is not a confidence; send a number from 0 to 1/,
    );

    const openai = new OpenAI({
      baseURL: `${h.gateway.url}/v1`,
      apiKey: "unused",
      defaultHeaders: { "X-Nightshift-Flags": "ok,no spaces allowed" },
      maxRetries: 0,
    });
    const apiError = await openai.chat.completions
      .create({ model: "qwen2.5:7b", messages: [{ role: "user", content: "hi" }] })
      .then(() => undefined)
      .catch((e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
    expect(apiError).toBeInstanceOf(OpenAI.BadRequestError);
    if (!apiError) throw new Error("the bad flag was accepted");
    expect(apiError.message).toMatch(/X-Nightshift-Flags: "no spaces allowed" is not a flag name/);
    expect((apiError.error as { type: string }).type).toBe("invalid_request_error");

    const outOfRange = await fetch(`${h.gateway.url}/api/chat`, {
      method: "POST",
      headers: { "x-nightshift-confidence": "1.5" },
      body: JSON.stringify({ model: "m", messages: [] }),
    });
    expect(outOfRange.status).toBe(400);
    h.ledger.writer.flush();
    expect(h.ledger.actions.count()).toBe(before);
  });

  it("takes feedback after the fact and shows it on the action", async () => {
    const id = seen[1]!;
    const response = await h.api(
      `/v0/actions/${id}/feedback`,
      postJson(
        {
          confidence: 0.4,
          flags: ["wrong_tone"],
          reasoning: "the user rewrote the whole draft",
          scores: { thumbs: "down", "eval.helpfulness": 0.25 },
        },
        { "x-nightshift-person": "ann" },
      ),
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as { action: { flags: string[]; confidence: number } };
    expect(body.action.confidence).toBe(0.4);
    expect(body.action.flags.sort()).toEqual(["low_confidence", "requires_audit", "wrong_tone"]);

    const shown = (await (await h.api(`/v0/actions/${id}`)).json()) as Record<string, unknown>;
    expect(shown).toMatchObject({
      confidence: 0.4,
      reasoning: "the user rewrote the whole draft",
      feedback: [
        {
          given_by: "ann",
          confidence: 0.4,
          flags: ["wrong_tone", "low_confidence", "requires_audit"],
          scores: { thumbs: 0, "eval.helpfulness": 0.25 },
        },
      ],
    });
  });

  it("refuses bad feedback with a message naming the field, and changes nothing", async () => {
    const id = seen[0]!;
    const cases: [unknown, RegExp][] = [
      [{ confidence: "high" }, /"confidence": "high" is not a confidence/],
      [{ flags: "requires_audit" }, /"flags" must be an array/],
      [{ scores: { thumbs: "sideways" } }, /"scores.thumbs": "sideways" is not a score/],
      [{ mood: "bad" }, /unknown feedback field mood/],
      [{}, /empty feedback/],
    ];
    for (const [body, message] of cases) {
      const response = await h.api(`/v0/actions/${id}/feedback`, postJson(body));
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toMatch(message);
    }
    const missing = await h.api("/v0/actions/0000000000000/feedback", postJson({ flags: ["x"] }));
    expect(missing.status).toBe(404);
    const shown = (await (await h.api(`/v0/actions/${id}`)).json()) as { feedback: unknown[] };
    expect(shown.feedback).toEqual([]);
  });

  it("flags an action from the CLI with nightshift actions flag", async () => {
    const id = seen[0]!;
    await h.close(false);
    onTestFinished(() => h.close());
    const flagged = await runCliInProcess(h.home, [
      "actions",
      "flag",
      id,
      "requires_audit",
      "pii",
      "--score",
      "thumbs=up",
      "--json",
    ]);
    expect(flagged.stderr).toBe("");
    expect(flagged.code).toBe(0);
    expect(JSON.parse(flagged.stdout).flags).toEqual(
      expect.arrayContaining(["requires_audit", "pii"]),
    );
    const shown = await runCliInProcess(h.home, ["actions", "show", id]);
    expect(shown.stdout).toMatch(/feedback:\n.*flags requires_audit,pii {2}scores thumbs=1/);
    const bad = await runCliInProcess(h.home, ["actions", "flag", id, "bad flag"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/"bad flag" is not a flag name/);
  });
});
