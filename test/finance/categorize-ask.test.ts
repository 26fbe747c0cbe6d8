import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { parseConfig } from "../../src/config.js";
import type { FinanceAgent } from "../../src/finance/agent.js";
import { askQuestion } from "../../src/finance/ask.js";
import { categorizeTransactions } from "../../src/finance/categorize.js";
import { financeCorrectionHandler } from "../../src/finance/corrections.js";
import { importStatementFile } from "../../src/finance/importer.js";
import { loadRules } from "../../src/finance/rules.js";
import type { Ledger } from "../../src/ledger/ledger.js";
import { buildCorpus } from "../fixtures/finance/corpus.js";
import { openTestFinanceAgent } from "../support/finance-agent.js";
import {
  type Script,
  type ScriptedUpstream,
  startScriptedUpstream,
} from "../support/scripted-upstream.js";
import { tempLedger } from "../support/temp-ledger.js";

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "nightshift-finance-"));
  await buildCorpus(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Fixture {
  agent: FinanceAgent;
  ledger: Ledger;
  upstream: ScriptedUpstream;
  close(): Promise<void>;
}
let fixture: Fixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

const json = (value: unknown) => ({ content: JSON.stringify(value) });
const systemOf = (body: Record<string, unknown>) =>
  ((body.messages as { role: string; content: string }[]) ?? []).find((m) => m.role === "system")
    ?.content ?? "";

async function start(script: Script): Promise<Fixture> {
  const upstream = await startScriptedUpstream({ models: ["small:1b", "expert:3b"], script });
  const temp = tempLedger();
  const config = parseConfig({
    models: {
      reasoner: { model: "small:1b", url: upstream.url },
      "finance-expert": { model: "expert:3b", url: upstream.url },
    },
  });
  const agent = await openTestFinanceAgent(
    temp.ledger,
    config,
    new ManualClock(Date.parse("2026-02-10T12:00:00Z")),
  );
  await importStatementFile(join(dir, "card.pdf"), { store: agent.store, config: config.finance });
  return {
    agent,
    ledger: temp.ledger,
    upstream,
    async close() {
      await agent.close();
      await upstream.close();
      temp.cleanup();
    },
  };
}

/** The reasoner copies the material; the expert answers from `answers` (payee word → [category, confidence]). */
function categorizeScript(answers: Record<string, [string, number]>): Script {
  return (request) => {
    const system = systemOf(request.body);
    const material = (text: string) =>
      JSON.parse(text.slice(text.indexOf("Material:\n") + 10).split("\n\n")[0]!);
    if (system.includes("You prepare work")) {
      return json({
        data: { transactions: material(request.prompt) },
        expert_prompt: {
          task: "Categorize each transaction",
          context: "A credit card",
          constraints: [],
          answer_format: "categories",
        },
        confidence: 0.9,
      });
    }
    const data = JSON.parse(
      request.prompt.slice(request.prompt.indexOf("Data:\n") + 6).split("\n\nAnswer format")[0]!,
    );
    return json({
      categories: data.transactions.map((t: { id: number; description: string }) => {
        const [category, confidence] = Object.entries(answers).find(([word]) =>
          t.description.includes(word),
        )?.[1] ?? ["other", 0.5];
        return { transaction_id: t.id, category, confidence };
      }),
    });
  };
}

describe("categorize", () => {
  it("applies knowledge-base rules first and sends only the rest to the two-stage pipeline", async () => {
    fixture = await start(
      categorizeScript({
        RETURN: ["shopping", 0.3],
        AMAZON: ["shopping", 0.97],
        SHELL: ["fuel", 0.98],
        "TRADER JOE": ["groceries", 0.96],
        FEE: ["fees", 0.99],
      }),
    );
    const { agent, upstream, ledger } = fixture;
    const person = { kind: "person" as const, ref: "sam" };
    await agent.kb!.put(
      {
        scope: "finance",
        key: "rule:chipotle",
        content: "Chipotle is restaurants",
        data: {
          match: "contains",
          field: "description",
          value: "chipotle",
          category: "restaurants",
        },
      },
      person,
    );
    await agent.kb!.put(
      {
        scope: "finance",
        key: "rule:payment",
        content: "Card payments",
        data: {
          match: "is",
          field: "payee",
          value: "PAYMENT THANK YOU",
          category: "credit card payment",
          stage: "post",
        },
      },
      person,
    );

    const report = await categorizeTransactions({
      store: agent.store,
      kb: agent.kb!,
      config: agent.config.finance,
      runtime: agent.runtime(),
    });

    expect(report).toMatchObject({ byRule: 2, byModel: 5, left: 0 });
    const byDescription = Object.fromEntries(
      (await agent.store.transactions()).map((t) => [t.description, t]),
    );
    expect(byDescription["CHIPOTLE MEXICAN GRILL"]).toMatchObject({
      category: "restaurants",
      categorySource: "rule",
      confidence: 1,
    });
    expect(byDescription["PAYMENT THANK YOU"]).toMatchObject({
      category: "credit card payment",
      categorySource: "rule",
    });
    expect(byDescription["SHELL OIL 57444"]).toMatchObject({
      category: "fuel",
      categorySource: "model",
    });
    expect(byDescription["RETURN AMAZON.COM"]!.flags).toContain("low_confidence");
    expect(byDescription["SHELL OIL 57444"]!.flags).not.toContain("low_confidence");
    // Rule-matched transactions never reached a model.
    const sent = JSON.stringify(upstream.requests.map((r) => r.body));
    expect(sent).not.toContain("CHIPOTLE");
    expect(sent).toContain("SHELL OIL");
    // The logged expert stage carries the transaction ids, so the audit can correct it.
    await agent.runtime().flush();
    const actionId = byDescription["SHELL OIL 57444"]!.categoryActionId!;
    const action = (await ledger.actions.get(actionId))!;
    expect(action.agent).toBe("finance");
    expect(JSON.stringify(action.request)).toContain(
      `"id":${byDescription["SHELL OIL 57444"]!.id},`,
    );
  });

  it("applies an audit correction to the transaction and teaches a payee rule, idempotently", async () => {
    fixture = await start(categorizeScript({ "": ["other", 0.95] }));
    const { agent } = fixture;
    await categorizeTransactions({
      store: agent.store,
      kb: agent.kb!,
      config: agent.config.finance,
      runtime: agent.runtime(),
    });
    const shell = (await agent.store.transactions()).find((t) =>
      t.description.startsWith("SHELL"),
    )!;
    const handler = financeCorrectionHandler({ store: agent.store, kb: agent.kb! });
    const correction = {
      correctionId: "c-1",
      actionId: shell.categoryActionId!,
      agent: "finance",
      original: { categories: [{ transaction_id: shell.id, category: "other", confidence: 0.95 }] },
      corrected: { categories: [{ transaction_id: shell.id, category: "fuel", confidence: 0.95 }] },
      source: "audit" as const,
    };
    expect(await handler.apply(correction)).toBe(`re-categorized #${shell.id} other → fuel`);
    expect(await handler.apply(correction)).toBe("already applied");
    expect(await agent.store.transactionById(shell.id)).toMatchObject({
      category: "fuel",
      categorySource: "audit",
    });
    const rules = await loadRules(agent.kb!);
    expect(rules).toEqual([
      expect.objectContaining({
        match: "is",
        field: "payee",
        value: shell.payee,
        category: "fuel",
      }),
    ]);
    expect(await agent.kb!.history("finance", rules[0]!.key)).toHaveLength(1);
  });
});

/** The reasoner reads the question as `query` (restaurants last month by default); the expert says `answer`. */
function askScript(
  answer: string,
  query: Record<string, unknown> = {},
  asked: string[] = [],
): Script {
  return (request) => {
    const system = systemOf(request.body);
    if (system.includes("Turn the user's question")) {
      asked.push("query");
      return json({
        measure: "total",
        category: "restaurants",
        merchant: null,
        period: { kind: "last_month", month: null },
        compare_to_average: true,
        top_merchants: true,
        ...query,
      });
    }
    asked.push("answer");
    return json({ answer });
  };
}

async function withRestaurants(agent: FinanceAgent): Promise<void> {
  const chipotle = (await agent.store.transactions()).find((t) =>
    t.description.startsWith("CHIPOTLE"),
  )!;
  await financeCorrectionHandler({ store: agent.store, kb: agent.kb! }).apply({
    correctionId: "p-1",
    actionId: "",
    agent: "finance",
    original: null,
    corrected: { categories: [{ transaction_id: chipotle.id, category: "restaurants" }] },
    source: "person",
  });
}

describe("ask", () => {
  it("shows the expert's phrasing when every figure in it is a computed fact", async () => {
    fixture = await start(
      askScript(
        "You spent $14.50 on restaurants in January 2026, across 1 visit. Top merchant: CHIPOTLE MEXICAN GRILL.",
      ),
    );
    await withRestaurants(fixture.agent);
    const result = await askQuestion("How much did I spend on restaurants last month?", {
      store: fixture.agent.store,
      config: fixture.agent.config.finance,
      clock: fixture.agent.clock,
      runtime: fixture.agent.runtime(),
    });
    expect(result.facts).toMatchObject({
      month: "2026-01",
      category: "restaurants",
      totalCents: 1450,
      count: 1,
    });
    expect(result).toMatchObject({
      source: "model",
      mismatches: [],
      answer: expect.stringContaining("$14.50"),
    });
  });

  it("replaces an answer with a figure not in the facts by the computed one, and flags it", async () => {
    fixture = await start(
      askScript("You spent $847 on restaurants last month, 23% above average."),
    );
    await withRestaurants(fixture.agent);
    const result = await askQuestion("How much did I spend on restaurants last month?", {
      store: fixture.agent.store,
      config: fixture.agent.config.finance,
      clock: fixture.agent.clock,
      runtime: fixture.agent.runtime(),
    });
    expect(result.source).toBe("computed");
    expect(result.flags).toContain("figure_mismatch");
    expect(result.mismatches).toEqual([
      "$847 is not among the computed amounts",
      "23% is not the computed change",
    ]);
    expect(result.answer).toBe(
      "You spent $14.50 on restaurants in January 2026 (1 transaction). Top merchant: CHIPOTLE MEXICAN GRILL (1 visit, $14.50). 4 transaction(s) that month have no category yet; run `nightshift finance categorize`.",
    );
  });

  it("answers from the data, not the model, when the model's reading of the question fails its checks", async () => {
    const asked: string[] = [];
    fixture = await start(
      askScript("You spent nothing on astrology.", { category: "astrology" }, asked),
    );
    await withRestaurants(fixture.agent);
    const result = await askQuestion("How much did I spend on restaurants in January 2026?", {
      store: fixture.agent.store,
      config: fixture.agent.config.finance,
      clock: fixture.agent.clock,
      runtime: fixture.agent.runtime(),
    });
    expect(asked.every((stage) => stage === "query")).toBe(true);
    expect(result).toMatchObject({ source: "computed", modelAnswer: null, modelError: null });
    expect(result.flags).toEqual(expect.arrayContaining(["check_failed", "query_rejected"]));
    expect(result.traceId).toEqual(expect.any(String));
    expect(result.answer).toMatch(
      /^No usable answer from the models \(the model read the question as category "astrology", which does not fit your data\); computed from your data: You spent \$14\.50 on restaurants in January 2026/,
    );
  });

  it("says no model is reachable and still answers a simple question from the data", async () => {
    fixture = await start(askScript("unused"));
    await withRestaurants(fixture.agent);
    await fixture.upstream.close();
    const result = await askQuestion("How much did I spend on restaurants in January 2026?", {
      store: fixture.agent.store,
      config: fixture.agent.config.finance,
      clock: fixture.agent.clock,
      runtime: fixture.agent.runtime(),
    });
    expect(result.flags).toEqual(["no_model"]);
    expect(result.modelError).toMatch(/cannot reach/);
    expect(result.answer).toMatch(
      /^No usable answer from the models .*You spent \$14\.50 on restaurants in January 2026/,
    );
  });
});

describe("a model whose replies never fit the schema", () => {
  const wrongShape: Script = () => json({ wrong: "shape" });

  it("leaves categorize's failure in plain words, naming the model and the missing field", async () => {
    fixture = await start(wrongShape);
    const report = await categorizeTransactions({
      store: fixture.agent.store,
      kb: fixture.agent.kb!,
      config: fixture.agent.config.finance,
      runtime: fixture.agent.runtime(),
    });
    expect(report.byModel).toBe(0);
    expect(report.left).toBeGreaterThan(0);
    expect(report.modelError).toMatch(
      /^no usable answer from small:1b in \d+ tries: the reply did not have the expected shape \(the field \w+ was missing/,
    );
    expect(report.modelError).not.toMatch(/Invalid input|received undefined/);
  });

  it("answers ask from the data without the schema library's text", async () => {
    fixture = await start(wrongShape);
    await withRestaurants(fixture.agent);
    const result = await askQuestion("How much did I spend on restaurants in January 2026?", {
      store: fixture.agent.store,
      config: fixture.agent.config.finance,
      clock: fixture.agent.clock,
      runtime: fixture.agent.runtime(),
    });
    expect(result.flags).toEqual(["no_model"]);
    expect(result.answer).toMatch(/^No usable answer from the models \(no usable answer from/);
    expect(result.answer).not.toMatch(/Invalid input|received undefined|schema/);
    expect(result.answer).toContain("You spent $14.50 on restaurants in January 2026");
  });
});
