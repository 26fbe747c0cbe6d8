import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { parseStatementBytes } from "../../src/finance/import/read-file.js";
import type { ParsedStatement } from "../../src/finance/import/statement.js";

// The rules that decide a CSV's reading from evidence, each on a small export built the way
// banks write them: wrapped descriptions, status and type columns, ragged headerless rows and
// unsigned figures (whose sign is assumed and said so, never silently).
const finance = parseConfig({}).finance;

async function read(file: string, lines: string[]): Promise<ParsedStatement> {
  const parts = await parseStatementBytes(
    new TextEncoder().encode(`${lines.join("\n")}\n`),
    file,
    finance,
  );
  return parts[0]!;
}

const rows = (s: ParsedStatement) =>
  s.transactions.map((t) => [t.date, t.amountCents, t.description, t.payee]);

describe("CSV reading from evidence", () => {
  it("appends a dateless, figureless line of text to the description above it", async () => {
    const s = await read("wrapped.csv", [
      "Transaction date,Value date,Description,Withdrawals (SGD),Deposits (SGD)",
      "18/04/2018,18/04/2018,DEBIT PURCHASE,6.50,",
      ",,15/04/18 1234-5678 UBER EATS HELP.UBER",
      "17/04/2018,17/04/2018,SALARY,,2500.00",
      "Total,,,6.50,2500.00",
    ]);
    expect(rows(s).map((r) => r.slice(0, 3))).toEqual([
      ["2018-04-18", -650, "DEBIT PURCHASE 15/04/18 1234-5678 UBER EATS HELP.UBER"],
      ["2018-04-17", 250000, "SALARY"],
    ]);
    expect(s.warnings.join(" ")).toMatch(/skipped 1 line/);
  });

  it("does not take a status or a type column for the description, even in one row", async () => {
    const s = await read("app.csv", [
      ",1001,2024-03-02T10:00:00,Merchant Transaction,Complete,,Jo Doe,Corner Bakery,- $21.59",
    ]);
    expect(s.transactions).toHaveLength(1);
    expect(s.transactions[0]!.amountCents).toBe(-2159);
    const text = `${s.transactions[0]!.description} ${s.transactions[0]!.payee}`;
    expect(text).toMatch(/Corner Bakery|Jo Doe/);
    expect(text).not.toMatch(/^Merchant Transaction Complete$/);
  });

  it("reads a ragged headerless export's name column, not the cells a longer row pushed out", async () => {
    const s = await read("ragged.csv", [
      '20240301,Bakker B.V.,NL01BANK0123456789,NL02BANK0987654321,BA,Af,"12,50",Betaalautomaat,Pas 12,extra',
      '20240302,Werkgever,NL01BANK0123456789,NL03BANK0555555555,GT,Bij,"2000,00",Overschrijving',
      '20240303,Bakker B.V.,NL01BANK0123456789,NL02BANK0987654321,BA,Af,"3,10",Betaalautomaat',
    ]);
    expect(s.transactions.map((t) => t.amountCents)).toEqual([-1250, 200000, -310]);
    for (const [t, name] of s.transactions.map(
      (t, i) => [t, ["Bakker", "Werkgever", "Bakker"][i]] as const,
    ))
      expect(`${t.description} ${t.payee}`).toContain(name);
  });

  it("reads unsigned figures under a named column as printed, and a headerless file's as charges, flagging both", async () => {
    const named = await read("named.csv", [
      '"Date","Payee","Amount"',
      '"2025.12.04","Café","100.25"',
    ]);
    expect(named.transactions[0]!.amountCents).toBe(10025);
    expect(named.flags).toContain("sign_assumed");
    const bare = await read("bare.csv", ["27 Feb 2018,POS, 7.80, ,MCDONALD'S 22FEB"]);
    expect(bare.transactions[0]!.amountCents).toBe(-780);
    expect(bare.flags).toContain("sign_assumed");
  });

  it("checks a balance printed before each row (ASN) as a running balance", async () => {
    const s = await read("asn.csv", [
      "01-03-2024,NL11ASNB0707070707,NL20RABO0300065264,Albert Heijn,,,,EUR,5000.00,EUR,-45.99,01-03-2024,01-03-2024,8810,IOB,1,,'boodschappen',3",
      "04-03-2024,NL11ASNB0707070707,NL20RABO0300065264,Werkgever,,,,EUR,4954.01,EUR,2450.00,04-03-2024,04-03-2024,8820,GEA,2,,'salaris',3",
      "05-03-2024,NL11ASNB0707070707,NL20RABO0300065264,Huur,,,,EUR,7404.01,EUR,-1100.00,05-03-2024,05-03-2024,8810,IOB,3,,'huur',3",
    ]);
    expect(s.transactions.map((t) => [t.amountCents, t.balanceCents])).toEqual([
      [-4599, 495401],
      [245000, 740401],
      [-110000, 630401],
    ]);
    expect(s.openingCents).toBe(500000);
    expect(s.closingCents).toBe(630401);
    expect(s.layout?.columns.balance).toMatch(/before each row/);
  });
});
