import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { NightshiftError } from "../../src/errors.js";
import { importStatementFile } from "../../src/finance/importer.js";
import { SqliteActionLedger } from "../../src/ledger/sqlite/action-ledger.js";
import { ReviewQueue } from "../../src/review/queue.js";
import {
  buildBadFiles,
  buildCorpus,
  CUSTOM_LAYOUT,
  type Fixture,
} from "../fixtures/finance/corpus.js";
import { sqliteFinanceStore } from "../support/finance-agent.js";
import { tempLedger } from "../support/temp-ledger.js";

const config = parseConfig({ finance: { csv_layouts: { custom: CUSTOM_LAYOUT } } }).finance;
let dir: string;
let corpus: Fixture[];
let bad: Record<string, RegExp>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "nightshift-finance-"));
  corpus = await buildCorpus(dir);
  bad = await buildBadFiles(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function setup() {
  const temp = tempLedger();
  const store = sqliteFinanceStore(temp.ledger);
  const review = new ReviewQueue(new SqliteActionLedger(temp.ledger, false));
  return { ...temp, store, review, deps: { store, config, review } };
}

describe("finance import", () => {
  it.each([
    "bank-checking.pdf",
    "card.pdf",
    "multi-page.pdf",
    "european.pdf",
    "monospace.pdf",
    "bank.csv",
    "debit-credit.csv",
    "european.csv",
    "custom.csv",
    "checking.ofx",
    "card.qfx",
  ])(
    "reads every transaction of %s exactly and checks it against its printed figures",
    async (file) => {
      const fixture = corpus.find((f) => f.file === file)!;
      const { store, deps, cleanup } = setup();
      try {
        const result = await importStatementFile(join(dir, file), deps, {
          account: fixture.account,
        });
        expect(result.reconciliation.problems).toEqual([]);
        expect(result.reconciliation.status).toBe(fixture.reconcile);
        expect(result.accountMasked).toBe(fixture.accountMasked);
        const stored = await store.transactions({ statementId: result.statementId });
        const got = stored.map((t) => ({
          date: t.date,
          amountCents: t.amountCents,
          description: t.description,
        }));
        const want = fixture.transactions.map((t) => ({ ...t, description: t.description }));
        expect(got.sort(byKey)).toEqual(want.sort(byKey));
      } finally {
        cleanup();
      }
    },
  );

  it.each([
    "scanned.pdf",
    "encrypted.pdf",
    "truncated.pdf",
    "not-a-pdf.pdf",
    "empty-statement.pdf",
    "empty.csv",
    "zero.csv",
  ])("refuses %s with the file and the reason, importing nothing", async (file) => {
    const { store, deps, cleanup } = setup();
    try {
      const attempt = importStatementFile(join(dir, file), deps, { account: "checking" });
      await expect(attempt).rejects.toThrow(NightshiftError);
      await expect(attempt).rejects.toThrow(bad[file]!);
      expect(await store.statements()).toEqual([]);
      expect(await store.transactions()).toEqual([]);
    } finally {
      cleanup();
    }
  });
});

const byKey = (
  a: { date: string; amountCents: number },
  b: { date: string; amountCents: number },
) => a.date.localeCompare(b.date) || a.amountCents - b.amountCents;
