import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { importStatementFile } from "../../src/finance/importer.js";
import { computeSpend } from "../../src/finance/spend.js";
import { buildCorpus } from "../fixtures/finance/corpus.js";
import { writePdf } from "../fixtures/finance/pdf-writer.js";
import { openTestFinanceAgent } from "../support/finance-agent.js";
import { tempLedger } from "../support/temp-ledger.js";

const config = parseConfig({});
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "nightshift-finance-"));
  await buildCorpus(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function setup() {
  const temp = tempLedger();
  const agent = await openTestFinanceAgent(temp.ledger, config);
  const deps = { store: agent.store, config: config.finance, review: agent.review };
  return { ...temp, agent, deps };
}

describe("duplicates", () => {
  it("importing the same file twice changes nothing", async () => {
    const { agent, deps, cleanup } = await setup();
    try {
      const first = await importStatementFile(join(dir, "card.pdf"), deps);
      const second = await importStatementFile(join(dir, "card.pdf"), deps);
      expect(first.imported).toBe(7);
      expect(second).toMatchObject({
        status: "already_imported",
        statementId: first.statementId,
        imported: 0,
      });
      expect(await agent.store.transactions()).toHaveLength(7);
      expect(await agent.store.statements()).toHaveLength(1);
    } finally {
      cleanup();
    }
  });

  it("skips transactions whose bank id is already in the ledger, from a re-exported file", async () => {
    const { agent, deps, cleanup } = await setup();
    try {
      await importStatementFile(join(dir, "checking.ofx"), deps);
      const again = readFileSync(join(dir, "checking.ofx"), "utf8")
        .replace("NEWFILEUID:NONE", "NEWFILEUID:2")
        .replace(
          "</BANKTRANLIST>",
          "<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20260125<TRNAMT>-15.49<FITID>2026012504<NAME>NETFLIX.COM</STMTTRN>\n</BANKTRANLIST>",
        );
      writeFileSync(join(dir, "checking-again.ofx"), again);
      const result = await importStatementFile(join(dir, "checking-again.ofx"), deps);
      expect(result).toMatchObject({ imported: 1, duplicatesSkipped: 3, duplicateSuspects: 0 });
      // Same amount and payee five days later, but a different bank id: a second charge, not a copy.
      expect(await agent.store.transactions({ flag: "duplicate_suspect" })).toEqual([]);
    } finally {
      cleanup();
    }
  });

  it("flags a same-amount transaction a day apart for review, and a person's decision settles it", async () => {
    const { agent, deps, cleanup } = await setup();
    try {
      const pdf = await importStatementFile(join(dir, "bank-checking.pdf"), deps);
      writeFileSync(
        join(dir, "overlap.csv"),
        "Date,Description,Amount\n12/29/2025,CHIPOTLE 1234,-12.85\n12/30/2025,BOOKSHOP,-20.00\n12/30/2025,CHIPOTLE 1234,-12.85\n",
      );
      const csv = await importStatementFile(join(dir, "overlap.csv"), deps, {
        account: pdf.account,
      });
      expect(csv).toMatchObject({ imported: 3, duplicateSuspects: 1 });
      const [suspect] = await agent.store.transactions({ flag: "duplicate_suspect" });
      expect(suspect).toMatchObject({ date: "2025-12-29", amountCents: -1285, duplicateOf: 4 });
      const open = await agent.review!.list({ agent: "finance", kind: "duplicate_suspect" });
      expect(open).toHaveLength(1);
      expect(open[0]!.title).toContain("CHIPOTLE 1234");

      // Until decided, the suspect is left out of totals and said so.
      const before = await computeSpend(agent.store, { month: "2025-12" }, "USD");
      expect(before.pendingDuplicates).toEqual({ count: 1, totalCents: 1285 });
      expect(before.totalCents).toBe(475 + 123456 + 1285 + 2000 + 1285);

      const decision = await agent.review!.accept(open[0]!.id, { by: "sam" });
      expect(decision.applied).toBe(true);
      expect((await agent.store.transactionById(suspect!.id))!.flags).toEqual(["duplicate"]);
      const after = await computeSpend(agent.store, { month: "2025-12" }, "USD");
      expect(after.pendingDuplicates.count).toBe(0);
      expect(after.totalCents).toBe(before.totalCents);
    } finally {
      cleanup();
    }
  });

  it("a rejected duplicate becomes an ordinary transaction that totals count", async () => {
    const { agent, deps, ledger, cleanup } = await setup();
    try {
      const pdf = await importStatementFile(join(dir, "bank-checking.pdf"), deps);
      writeFileSync(
        join(dir, "overlap2.csv"),
        "Date,Description,Amount\n12/27/2025,CHIPOTLE 1234,-12.85\n",
      );
      await importStatementFile(join(dir, "overlap2.csv"), deps, { account: pdf.account });
      const [item] = await agent.review!.list({ agent: "finance", kind: "duplicate_suspect" });
      await agent.review!.reject(item!.id, { by: "sam", reason: "two lunches" });
      const reopened = await openTestFinanceAgent(ledger, config);
      expect(await reopened.store.transactions({ flag: "duplicate_suspect" })).toEqual([]);
      expect(
        await computeSpend(reopened.store, { month: "2025-12", merchant: "chipotle" }, "USD"),
      ).toMatchObject({
        count: 2,
        totalCents: 2570,
      });
    } finally {
      cleanup();
    }
  });
});

describe("bad OFX", () => {
  it("imports each account's statement of a multi-account file into its own account", async () => {
    const { agent, deps, cleanup } = await setup();
    try {
      const one = readFileSync(join(dir, "checking.ofx"), "utf8");
      const stmt = one
        .slice(one.indexOf("<STMTTRNRS>"), one.indexOf("</STMTTRNRS>") + 12)
        .replace("000123456789", "000987654321")
        .replaceAll("<FITID>2026", "<FITID>S2-2026");
      writeFileSync(join(dir, "two.ofx"), one.replace("</STMTTRNRS>", `</STMTTRNRS>${stmt}`));
      const result = await importStatementFile(join(dir, "two.ofx"), deps);
      expect(result.accountMasked).toBe("…6789");
      expect(result.more?.map((part) => part.accountMasked)).toEqual(["…4321"]);
      const statements = await agent.store.statements();
      expect(statements).toHaveLength(2);
      expect(new Set(statements.map((s) => s.accountName)).size).toBe(2);
      expect(await agent.store.transactions()).toHaveLength(6);
      // The same file again changes nothing.
      const again = await importStatementFile(join(dir, "two.ofx"), deps);
      expect(again.status).toBe("already_imported");
      expect(await agent.store.transactions()).toHaveLength(6);
    } finally {
      cleanup();
    }
  });

  it("refuses an investment statement as such, and shows a server's error with its code", async () => {
    const { agent, deps, cleanup } = await setup();
    try {
      writeFileSync(
        join(dir, "inv.ofx"),
        "OFXHEADER:100\n\n<OFX><INVSTMTMSGSRSV1><INVSTMTTRNRS><INVSTMTRS><INVTRANLIST></INVTRANLIST></INVSTMTRS></INVSTMTTRNRS></INVSTMTMSGSRSV1></OFX>\n",
      );
      await expect(importStatementFile(join(dir, "inv.ofx"), deps)).rejects.toThrow(
        /inv\.ofx: investment statement: not supported/,
      );
      writeFileSync(
        join(dir, "err.ofx"),
        "OFXHEADER:100\n\n<OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>2000<SEVERITY>ERROR<MESSAGE>General error</STATUS></STMTTRNRS></BANKMSGSRSV1></OFX>\n",
      );
      await expect(importStatementFile(join(dir, "err.ofx"), deps)).rejects.toThrow(
        /err\.ofx: .*OFX status 2000 \(General error\)/,
      );
      expect(await agent.store.statements()).toEqual([]);
    } finally {
      cleanup();
    }
  });
});

describe("spend", () => {
  it("never adds amounts in two currencies, and uses the one all accounts share", async () => {
    const { agent, deps, cleanup } = await setup();
    try {
      await importStatementFile(join(dir, "european.pdf"), deps);
      const euro = await computeSpend(agent.store, { month: "2026-03" }, "USD");
      expect(euro).toMatchObject({
        currency: "EUR",
        totalCents: 123456 + 4590 + 8900 + 6745,
        count: 4,
        otherCurrencies: [],
      });
      await importStatementFile(join(dir, "card.qfx"), deps);
      const dollars = await computeSpend(agent.store, { month: "2026-02" }, "USD");
      expect(dollars).toMatchObject({
        currency: "USD",
        totalCents: 875 + 6420,
        otherCurrencies: ["EUR"],
      });
    } finally {
      cleanup();
    }
  });
});

describe("reconciliation", () => {
  it("imports a statement whose closing balance does not add up, flagged with the difference", async () => {
    const { agent, deps, cleanup } = await setup();
    try {
      const L = (text: string, x: number) => ({ text, x });
      const R = (text: string, x: number) => ({ text, x, align: "right" as const });
      const pdf = await writePdf([
        [
          [L("Account number 5555 6666 7777", 50)],
          [L("Statement period: 03/01/2026 to 03/31/2026", 50)],
          [L("Opening balance", 50), R("100.00", 300)],
          [L("Closing balance", 50), R("80.00", 300)],
          [L("Date", 50), L("Description", 100), R("Debit", 400), R("Credit", 480)],
          [L("03/02", 50), L("GROCER", 100), R("25.00", 400)],
          [L("03/09", 50), L("REFUND", 100), R("2.50", 480)],
        ],
      ]);
      writeFileSync(join(dir, "off.pdf"), pdf);
      const result = await importStatementFile(join(dir, "off.pdf"), deps);
      expect(result.reconciliation.status).toBe("mismatch");
      expect(result.reconciliation.differenceCents).toBe(250);
      expect(result.reconciliation.problems[0]).toContain("difference 2.50");
      const [statement] = await agent.store.statements();
      expect(statement).toMatchObject({
        reconcileStatus: "mismatch",
        differenceCents: 250,
        flags: ["balance_mismatch"],
      });
      expect((await agent.store.transactions()).map((t) => t.flags)).toEqual([
        ["statement_unreconciled"],
        ["statement_unreconciled"],
      ]);
    } finally {
      cleanup();
    }
  });

  it("points at the row where a printed running balance stops following the amounts", async () => {
    const { deps, cleanup } = await setup();
    try {
      const L = (text: string, x: number) => ({ text, x });
      const R = (text: string, x: number) => ({ text, x, align: "right" as const });
      writeFileSync(
        join(dir, "running.pdf"),
        await writePdf([
          [
            [L("Account number 1111 2222 3333", 50)],
            [L("Date", 50), L("Description", 100), R("Amount", 400), R("Balance", 480)],
            [L("2026-03-02", 50), L("GROCER", 100), R("-25.00", 400), R("75.00", 480)],
            [L("2026-03-05", 50), L("BAKERY", 100), R("-4.00", 400), R("70.00", 480)],
            [L("2026-03-09", 50), L("REFUND", 100), R("2.50", 400), R("72.50", 480)],
          ],
        ]),
      );
      const result = await importStatementFile(join(dir, "running.pdf"), deps);
      expect(result.reconciliation.status).toBe("mismatch");
      expect(result.reconciliation.problems).toEqual([
        "the running balance breaks at 2026-03-05 BAKERY: 75.00 - 4.00 is not the printed 70.00",
      ]);
    } finally {
      cleanup();
    }
  });

  it("stores account numbers and card numbers in descriptions masked", async () => {
    const { agent, deps, ledger, cleanup } = await setup();
    try {
      writeFileSync(
        join(dir, "cardnum.csv"),
        "Date,Description,Amount\n2026-05-01,PAYMENT FROM CARD 4111 1111 1111 9876,-10.00\n",
      );
      await importStatementFile(join(dir, "cardnum.csv"), deps, { account: "visa" });
      await importStatementFile(join(dir, "bank-checking.pdf"), deps);
      expect((await agent.store.transactions({ from: "2026-05-01" }))[0]!.description).toBe(
        "PAYMENT FROM CARD …9876",
      );
      expect((await agent.store.accounts()).map((a) => a.numberMasked)).toEqual(["…7890", null]);
      // Every stored text, not the numbers: a millisecond timestamp may hold "4111" by chance.
      const raw = ledger.db.prepare("SELECT * FROM finance_transactions").all() as Array<
        Record<string, unknown>
      >;
      const texts = raw.flatMap((row) => Object.values(row).filter((v) => typeof v === "string"));
      expect(texts).toContain("PAYMENT FROM CARD …9876");
      expect(texts.join("\n")).not.toMatch(/4111|0012 3456/);
    } finally {
      cleanup();
    }
  });
});
