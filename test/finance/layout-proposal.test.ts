import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { layoutProposer } from "../../src/finance/import/propose-layout.js";
import { importStatementFile } from "../../src/finance/importer.js";
import { previewStatementFile } from "../../src/finance/preview.js";
import { KnowledgeBase } from "../../src/knowledge/kb.js";
import { sqliteStores } from "../../src/ledger/select.js";
import { sqliteKnowledgeStore } from "../../src/ledger/sqlite/knowledge.js";
import { Runtime } from "../../src/runtime/index.js";
import { sqliteFinanceStore } from "../support/finance-agent.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { tempLedger } from "../support/temp-ledger.js";

// Two unsigned figure columns that never chain and no names the parser knows: it cannot tell
// the amount from the fee, so the layout is the model's to propose and the checks' to accept.
const HEADER = "Wann;Was;Wert;Spesen;Richtung";
const rows = (lines: string[]) => [HEADER, ...lines].join("\n");
const MARCH = rows([
  "02.03.2026;BAECKEREI MUELLER;3,20;0,10;S",
  "05.03.2026;GEHALT ACME;2500,00;0,00;H",
  "09.03.2026;STADTWERKE STROM;64,90;0,00;S",
]);
const APRIL = rows(["01.04.2026;MIETE APRIL;900,00;0,00;S", "15.04.2026;ERSTATTUNG;12,00;0,00;H"]);

let dir: string;
let upstream: ScriptedUpstream | undefined;
let cleanups: (() => void | Promise<void>)[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "nightshift-layout-"));
  writeFileSync(join(dir, "march.csv"), MARCH);
  writeFileSync(join(dir, "april.csv"), APRIL);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
  upstream = undefined;
});

async function setup(amountColumn: string) {
  const proposal = {
    date: "Wann",
    description: "Was",
    amount: amountColumn,
    debit: null,
    credit: null,
    sign: "Richtung",
    balance: null,
    date_format: "DD.MM.YYYY",
    decimal: ",",
  };
  const server = await startScriptedUpstream({
    models: ["small:1b"],
    script: () => ({ content: JSON.stringify(proposal) }),
  });
  upstream = server;
  const temp = tempLedger();
  const config = parseConfig({ models: { reasoner: { model: "small:1b", url: server.url } } });
  const runtime = new Runtime({ config, ledger: sqliteStores(temp.ledger) });
  cleanups.push(
    temp.cleanup,
    () => server.close(),
    () => runtime.close(),
  );
  const store = sqliteFinanceStore(temp.ledger);
  const kb = new KnowledgeBase(sqliteKnowledgeStore(temp.ledger));
  const deps = {
    store,
    kb,
    config: config.finance,
    proposeLayout: layoutProposer(runtime, config.finance),
  };
  return { store, kb, deps, runtime, ledger: temp.ledger };
}

describe("a model proposes the layout, the parser reads the numbers", () => {
  it("imports with a mapping that passes the checks and remembers it for the next export", async () => {
    const { store, kb, deps, runtime, ledger } = await setup("Wert");
    const result = await importStatementFile(join(dir, "march.csv"), deps, { account: "giro" });
    expect(result.layout).toMatchObject({ source: "model" });
    expect((await store.transactions()).map((t) => [t.date, t.amountCents, t.description])).toEqual(
      [
        ["2026-03-02", -320, "BAECKEREI MUELLER"],
        ["2026-03-05", 250000, "GEHALT ACME"],
        ["2026-03-09", -6490, "STADTWERKE STROM"],
      ],
    );
    expect((await store.statements())[0]!.flags).toContain("layout_by_model");
    // The model saw the header and masked rows: no figure's digits.
    const prompt = JSON.stringify(upstream!.requests.map((r) => r.body));
    expect(prompt).toContain("Wann");
    expect(prompt).not.toContain("2500");
    expect(prompt).toContain("9999,99");
    // The stage is logged as an action the night shift can review.
    await runtime.flush();
    const actions = ledger.db
      .prepare("SELECT action_type FROM actions WHERE action_type = 'propose_csv_layout'")
      .all();
    expect(actions.length).toBeGreaterThan(0);
    const entry = (await kb.list({ scope: "finance" })).find((e) =>
      e.key.startsWith("csv-layout:"),
    );
    expect(entry?.provenance.kind).toBe("import");

    const before = upstream!.requests.length;
    const april = await importStatementFile(join(dir, "april.csv"), deps, { account: "giro" });
    expect(upstream!.requests.length).toBe(before);
    expect(april.layout).toMatchObject({ source: "knowledge" });
    expect(april.imported).toBe(2);
  });

  it("refuses a mapping whose reading fails the checks, importing and remembering nothing", async () => {
    const { store, kb, deps } = await setup("Spesen");
    await expect(
      importStatementFile(join(dir, "march.csv"), deps, { account: "giro" }),
    ).rejects.toThrow(/march\.csv: cannot tell the columns apart .*model's column mapping/);
    expect(await store.statements()).toEqual([]);
    expect(await kb.list({ scope: "finance" })).toEqual([]);
  });

  it("shows the model's mapping in a dry run and changes nothing", async () => {
    const { store, kb, deps } = await setup("Wert");
    const preview = await previewStatementFile(join(dir, "march.csv"), deps);
    expect(preview.statements[0]).toMatchObject({
      transactionCount: 3,
      layout: { source: "model", columns: { amount: "Wert", sign: "Richtung" } },
    });
    expect(preview.layoutProposedBy).not.toBeNull();
    expect(await store.statements()).toEqual([]);
    expect(await kb.list({ scope: "finance" })).toEqual([]);
  });
});
