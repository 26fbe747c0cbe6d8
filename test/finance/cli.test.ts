import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Ledger } from "../../src/ledger/ledger.js";
import { PostgresActionLedger } from "../../src/ledger/postgres/action-ledger.js";
import { SqliteActionLedger } from "../../src/ledger/sqlite/action-ledger.js";
import { buildBadFiles, buildCorpus } from "../fixtures/finance/corpus.js";
import { runCliAsync } from "../support/cli.js";
import { runCliInProcess } from "../support/cli-in-process.js";
import { createTestDatabase, postgresUrl } from "../support/postgres-db.js";
import { type ScriptRequest, startScriptedUpstream } from "../support/scripted-upstream.js";
import { tempHome } from "../support/temp-ledger.js";

const reply = (value: unknown) => ({ content: JSON.stringify(value) });

/**
 * The finance agent's models, scripted: categorize's reasoner copies the transactions and its
 * expert calls each one shopping; ask's parser reads the question and its phraser answers.
 */
function financeModels(request: ScriptRequest) {
  const system = JSON.stringify(request.body.messages);
  if (system.includes("Turn the user's question")) {
    return reply({
      measure: "total",
      category: null,
      merchant: "amazon",
      period: { kind: "month", month: "2026-01" },
      compare_to_average: false,
      top_merchants: false,
    });
  }
  if (system.includes("You prepare work")) {
    const material = request.prompt.slice(request.prompt.indexOf("Material:\n") + 10);
    return reply({
      data: { transactions: JSON.parse(material.split("\n\n")[0]!) },
      expert_prompt: { task: "Categorize", context: "", constraints: [], answer_format: "" },
      confidence: 0.9,
    });
  }
  if (system.includes("You categorize personal bank transactions")) {
    const data = request.prompt
      .slice(request.prompt.indexOf("Data:\n") + 6)
      .split("\n\nAnswer")[0]!;
    const { transactions } = JSON.parse(data) as { transactions: { id: number }[] };
    return reply({
      categories: transactions.map((t) => ({
        transaction_id: t.id,
        category: "shopping",
        confidence: 0.95,
      })),
    });
  }
  return reply({ answer: "You spent $89.99 at amazon in January 2026." });
}

/**
 * The same commands on each engine: the SQLite file, and a PostgreSQL ledger (ledger.url). Where
 * PostgreSQL is not installed its half is left out (postgres-setup.ts says so; CI never does).
 */
const engines = [
  { engine: "sqlite", available: true },
  { engine: "postgres", available: postgresUrl !== null },
].filter((e) => e.available);

describe.each(engines)("nightshift finance on $engine", { timeout: 90_000 }, ({ engine }) => {
  let home: string;
  let cleanup: () => void;
  const env: Record<string, string> = { NIGHTSHIFT_PORT: "1" };
  const nightshift = (...args: string[]) => runCliInProcess(home, args, env);

  beforeAll(async () => {
    ({ home, cleanup } = tempHome());
    if (engine === "postgres") env.NIGHTSHIFT_LEDGER_URL = await createTestDatabase("finance_cli");
    await buildCorpus(home);
    await buildBadFiles(home);
  });
  afterAll(() => cleanup?.());
  it("imports good files, refuses bad ones by name, masks numbers, and exits 1", async () => {
    const run = await nightshift(
      "finance",
      "import",
      join(home, "bank-checking.pdf"),
      join(home, "encrypted.pdf"),
      join(home, "card.pdf"),
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      'bank-checking.pdf: imported 6 transactions into "account …7890" for 2025-12-15 to 2026-01-14',
    );
    expect(run.stdout).toContain("card.pdf: imported 7 transactions");
    expect(run.stdout).toContain("reconciled: balances and totals agree");
    expect(run.stdout).not.toMatch(/0012 3456|XXXX XXXX/);
    expect(run.stderr).toMatch(/^nightshift: .*encrypted\.pdf: cannot import: it is encrypted/);
  });

  it("shows what --dry-run would import (layout, rows, check) and changes nothing", async () => {
    const human = await nightshift("finance", "import", join(home, "european.csv"), "--dry-run");
    expect(human.code).toBe(0);
    expect(human.stdout).toContain("european.csv: would import (dry run; nothing was changed)");
    expect(human.stdout).toMatch(
      /layout \(detected\): date=Buchungstag, description=Verwendungszweck/,
    );
    expect(human.stdout).toContain("unchecked: the file prints no balances or totals");
    expect(human.stdout).toContain("EDEKA MARKT");
    const json = JSON.parse(
      (await nightshift("finance", "import", join(home, "bank.csv"), "--dry-run", "--json")).stdout,
    );
    expect(json[0]).toMatchObject({
      status: "preview",
      statements: [{ transaction_count: 3, reconciliation: { status: "reconciled" } }],
    });
    const listed = (await nightshift("finance", "statements", "--json")).stdout;
    expect(JSON.parse(listed).map((s: { file_name: string }) => s.file_name)).not.toContain(
      "bank.csv",
    );
  });

  it("shows account numbers in full only with --show-numbers", async () => {
    const run = await nightshift(
      "finance",
      "import",
      join(home, "checking.ofx"),
      "--show-numbers",
      "--json",
    );
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)[0]).toMatchObject({
      status: "imported",
      account_number: "000123456789",
      account: "account …6789",
    });
    const again = await nightshift("finance", "import", join(home, "checking.ofx"));
    expect(again.stdout).toContain("checking.ofx: already imported");
  });

  it("lists statements with their reconciliation status and gives spend figures without a model", async () => {
    const statements = JSON.parse((await nightshift("finance", "statements", "--json")).stdout);
    expect(
      statements
        .map((s: { file_name: string; reconcile_status: string }) => [
          s.file_name,
          s.reconcile_status,
        ])
        .sort(),
    ).toEqual([
      ["bank-checking.pdf", "reconciled"],
      ["card.pdf", "reconciled"],
      ["checking.ofx", "unchecked"],
    ]);
    const spend = await nightshift(
      "finance",
      "spend",
      "--month",
      "2026-01",
      "--merchant",
      "amazon",
    );
    expect(spend.stdout).toContain("You spent $89.99 at amazon in January 2026 (1 transaction).");
    const facts = JSON.parse(
      (await nightshift("finance", "spend", "--month", "2026-01", "--json")).stdout,
    );
    expect(facts).toMatchObject({
      month: "2026-01",
      total_cents: 8640 + 1450 + 8999 + 4500 + 20474 + 3500 + 4217 + 1549,
      count: 8,
    });
  });

  it("imports a file two processes import at once exactly once", async () => {
    const file = join(home, "european.csv");
    const runs = await Promise.all([
      runCliAsync(home, ["finance", "import", file, "--json"], env),
      runCliAsync(home, ["finance", "import", file, "--json"], env),
    ]);
    expect(runs.map((run) => run.code)).toEqual([0, 0]);
    const results = runs.map((run) => JSON.parse(run.stdout)[0]);
    expect(results.map((r) => r.status).sort()).toEqual(["already_imported", "imported"]);
    const statements = JSON.parse((await nightshift("finance", "statements", "--json")).stdout);
    const european = statements.filter(
      (s: { file_name: string }) => s.file_name === "european.csv",
    );
    expect(european).toHaveLength(1);
    const rows = JSON.parse((await nightshift("finance", "transactions", "--json")).stdout);
    const landed = rows.filter((t: { statement_id: number }) => t.statement_id === european[0].id);
    const imported = results.find((r) => r.status === "imported");
    expect(landed.length).toBeGreaterThan(0);
    expect(landed).toHaveLength(imported.imported);
  });

  it("turns a person's categorization into a rule for the payee", async () => {
    const rows = JSON.parse((await nightshift("finance", "transactions", "--json")).stdout);
    const chipotle = rows.find((t: { description: string }) => t.description === "CHIPOTLE 1234");
    const run = await nightshift(
      "finance",
      "categorize",
      String(chipotle.id),
      "--category",
      "Restaurants",
      "--by",
      "sam",
    );
    expect(run.stdout).toContain(
      `re-categorized #${chipotle.id} uncategorized → restaurants; payee "CHIPOTLE" will be restaurants`,
    );
    const spend = await nightshift(
      "finance",
      "spend",
      "--month",
      "2025-12",
      "--category",
      "restaurants",
    );
    expect(spend.stdout).toContain(
      "You spent $12.85 on restaurants in December 2025 (1 transaction).",
    );
  });

  it("ask says clearly when no model is reachable", async () => {
    const run = await nightshift(
      "finance",
      "ask",
      "How much did I spend at amazon in January 2026?",
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^No usable answer from the models \(.*cannot reach.*\); computed from your data: You spent \$89\.99 at amazon in January 2026/,
    );
  });

  it("categorize and ask put the work to the models and log each stage in this ledger", async () => {
    const upstream = await startScriptedUpstream({ models: ["small:1b"], script: financeModels });
    const config = join(home, "nightshift.yaml");
    writeFileSync(
      config,
      JSON.stringify({
        models: {
          reasoner: { model: "small:1b", url: upstream.url },
          "finance-expert": { model: "small:1b", url: upstream.url },
        },
      }),
    );
    try {
      const categorized = await runCliInProcess(home, ["finance", "categorize", "--json"], env);
      expect(categorized.stderr).toBe("");
      const report = JSON.parse(categorized.stdout);
      expect(report).toMatchObject({ left: 0, model_error: null });
      expect(report.by_model).toBeGreaterThan(0);
      const rows = JSON.parse((await nightshift("finance", "transactions", "--json")).stdout);
      expect(
        rows.filter((t: { category_source: string }) => t.category_source === "model"),
      ).toHaveLength(report.by_model);
      const run = await runCliInProcess(
        home,
        ["finance", "ask", "How much did I spend at amazon in January 2026?", "--json"],
        env,
      );
      expect(run.stderr).toBe("");
      const answer = JSON.parse(run.stdout);
      expect(answer).toMatchObject({ source: "model", mismatches: [] });
      expect(answer.answer).toContain("You spent $89.99 at amazon in January 2026.");
      // The run, both stages and their attempts, read back from the engine the CLI used.
      const ledger = env.NIGHTSHIFT_LEDGER_URL
        ? await PostgresActionLedger.open(env.NIGHTSHIFT_LEDGER_URL)
        : new SqliteActionLedger(Ledger.open(join(home, "nightshift.db")));
      try {
        const trace = await ledger.actions.trace(answer.trace_id);
        expect(trace.every((a) => a.agent === "finance")).toBe(true);
        expect(trace.filter((a) => a.actionType === "attempt")).toHaveLength(2);
        expect(trace.filter((a) => a.actionType === "model_call")).toHaveLength(2);
        expect(trace.filter((a) => a.parentId === null).map((a) => a.actionType)).toEqual(["run"]);
        const stages = await ledger.actions.list({ agent: "finance", limit: 1000 });
        expect(stages.map((a) => a.actionType)).toContain("categorize.expert");
      } finally {
        await ledger.close();
      }
    } finally {
      rmSync(config);
      await upstream.close();
    }
  });
});
