import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { modelExtractor } from "../../src/finance/import/extract.js";
import { importStatementFile } from "../../src/finance/importer.js";
import { sqliteStores } from "../../src/ledger/select.js";
import { Runtime } from "../../src/runtime/index.js";
import { writePdf } from "../fixtures/finance/pdf-writer.js";
import { sqliteFinanceStore } from "../support/finance-agent.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { tempLedger } from "../support/temp-ledger.js";

let dir: string;
let upstream: ScriptedUpstream | undefined;
let cleanups: (() => void | Promise<void>)[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "nightshift-finance-"));
  const L = (text: string, x: number) => ({ text, x });
  // No Date/Description/Amount header: a layout the parser does not know.
  writeFileSync(
    join(dir, "odd.pdf"),
    await writePdf([
      [
        [L("Account 4444 5555 6666 7777", 50)],
        [L("Opening 100.00", 50)],
        [L("On 2026-03-02 you paid GROCER 25.00", 50)],
        [L("On 2026-03-09 you received REFUND 2.50", 50)],
        [L("Closing 77.50", 50)],
      ],
    ]),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
  upstream = undefined;
});

async function setup(groceries: string) {
  upstream = await startScriptedUpstream({
    models: ["small:1b"],
    script: () => ({
      content: JSON.stringify({
        kind: "bank",
        account_number: "…7777",
        period_start: null,
        period_end: null,
        opening_balance: "100.00",
        closing_balance: "77.50",
        transactions: [
          { date: "2026-03-02", description: "GROCER", amount: groceries },
          { date: "2026-03-09", description: "REFUND", amount: "2.50" },
        ],
      }),
    }),
  });
  const temp = tempLedger();
  const config = parseConfig({ models: { reasoner: { model: "small:1b", url: upstream.url } } });
  const runtime = new Runtime({ config, ledger: sqliteStores(temp.ledger) });
  const server = upstream;
  cleanups.push(
    temp.cleanup,
    () => server.close(),
    () => runtime.close(),
  );
  const store = sqliteFinanceStore(temp.ledger);
  return {
    store,
    deps: { store, config: config.finance, extract: modelExtractor(runtime, config.finance) },
  };
}

describe("model extraction for unknown layouts", () => {
  it("imports what a model read only because it reconciles, with masked numbers sent to it", async () => {
    const { store, deps } = await setup("-25.00");
    const result = await importStatementFile(join(dir, "odd.pdf"), deps);
    expect(result).toMatchObject({ extraction: "model", imported: 2, accountMasked: "…7777" });
    expect(result.reconciliation.status).toBe("reconciled");
    expect((await store.transactions()).map((t) => [t.date, t.amountCents, t.description])).toEqual(
      [
        ["2026-03-02", -2500, "GROCER"],
        ["2026-03-09", 250, "REFUND"],
      ],
    );
    expect((await store.statements())[0]!.flags).toEqual(["model_extracted"]);
    const sent = JSON.stringify(upstream!.requests.map((r) => r.body));
    expect(sent).toContain("…7777");
    expect(sent).not.toContain("4444 5555");
  });

  it("refuses a model reading that does not reconcile, importing nothing", async () => {
    const { store, deps } = await setup("-52.00");
    await expect(importStatementFile(join(dir, "odd.pdf"), deps)).rejects.toThrow(
      /odd\.pdf: cannot import: the parser does not know this layout, and the model's reading did not reconcile/,
    );
    expect(await store.statements()).toEqual([]);
    expect(await store.transactions()).toEqual([]);
  });
});
