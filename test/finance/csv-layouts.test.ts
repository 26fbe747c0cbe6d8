import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { parseStatementBytes } from "../../src/finance/import/read-file.js";
import type { ParsedStatement } from "../../src/finance/import/statement.js";
import { maskAccountIn, maskText } from "../../src/finance/mask.js";
import { reconcileStatement } from "../../src/finance/reconcile.js";

// Generated exports for what no public file in the real corpus shows, each built the way a
// bank writes it; every figure must come out exact, or the statement must say why it cannot.
const finance = parseConfig({}).finance;

async function read(file: string, text: string | Uint8Array, config = finance) {
  const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
  const parts = await parseStatementBytes(bytes, file, config);
  return parts[0]!;
}

const rows = (s: ParsedStatement) =>
  s.transactions.map((t) => [t.date, t.amountCents, t.description]);

describe("CSV layouts found from the content", () => {
  it("applies a Transaction Type debit/credit column to unsigned amounts (Mint)", async () => {
    const s = await read(
      "mint.csv",
      [
        '"Date","Description","Original Description","Amount","Transaction Type","Category","Account Name"',
        '"1/02/2020","Salary","ACME PAYROLL","2000.00","credit","Paycheck","Checking"',
        '"1/03/2020","Rent","RENT JAN","1000.00","debit","Rent","Checking"',
        '"1/05/2020","Coffee","STARBUCKS 123","4.50","debit","Coffee","Checking"',
      ].join("\n"),
    );
    expect(rows(s)).toEqual([
      ["2020-01-02", 200000, "Salary"],
      ["2020-01-03", -100000, "Rent"],
      ["2020-01-05", -450, "Coffee"],
    ]);
    expect(s.layout?.columns.sign).toBe("Transaction Type");
  });

  it("takes the real text column, not a Details column of DEBIT/CREDIT, and checks the balance (Chase)", async () => {
    const lines = ["Details,Posting Date,Description,Amount,Type,Balance,Check or Slip #"];
    const data: [string, string, number][] = [
      ["DEBIT", "AMAZON MKTPLACE", -2345],
      ["CREDIT", "PAYROLL ACME", 100000],
      ["DEBIT", "NETFLIX", -1000],
      ["DEBIT", "SHELL OIL", -500],
      ["CREDIT", "REFUND STORE", 1000],
      ["DEBIT", "WATER BILL", -3000],
    ];
    let balance = 500000;
    data.forEach(([details, text, cents], i) => {
      balance += cents;
      lines.push(
        `${details},02/${String(20 - i).padStart(2, "0")}/2020,"${text}",${(cents / 100).toFixed(2)},ACH,${(balance / 100).toFixed(2)},,`,
      );
    });
    const s = await read("chase.csv", lines.join("\n"));
    expect(s.layout?.columns.description).toBe("Description");
    expect(s.transactions.map((t) => t.description)).toEqual(data.map((d) => d[1]));
    expect(reconcileStatement(s).status).not.toBe("unchecked");
  });

  it("reads a Dutch export: YYYYMMDD dates, Af Bij marker, decimal comma, Latin-1", async () => {
    const text = [
      '"Datum";"Naam / Omschrijving";"Rekening";"Tegenrekening";"Code";"Af Bij";"Bedrag (EUR)";"Mutatiesoort";"Mededelingen"',
      '"20200213";"Albert Heijn Ã\u00a9";"NL01INGB0001234567";"";"BA";"Af";"1.234,56";"Betaalautomaat";"Pas 001"',
      '"20200214";"Salaris";"NL01INGB0001234567";"";"GT";"Bij";"19,35";"Overschrijving";"Loon"',
    ].join("\r\n");
    const latin1 = Uint8Array.from([...text].map((c) => c.charCodeAt(0) & 0xff));
    const s = await read("ing.csv", latin1);
    expect(s.transactions.map((t) => [t.date, t.amountCents])).toEqual([
      ["2020-02-13", -123456],
      ["2020-02-14", 1935],
    ]);
    expect(s.currency).toBe("EUR");
  });

  it("reads a headerless file with preamble, a repeated header and a totals line", async () => {
    const s = await read(
      "export.csv",
      [
        "Account statement;Giro",
        "Buchungstag;Verwendungszweck;Betrag;Saldo",
        "05.02.2026;EDEKA MARKT;-12,50;987,50",
        "Buchungstag;Verwendungszweck;Betrag;Saldo",
        "14.02.2026;GEHALT;2.000,00;2.987,50",
        "Summe;;1.987,50;",
      ].join("\n"),
    );
    expect(rows(s)).toEqual([
      ["2026-02-05", -1250, "EDEKA MARKT"],
      ["2026-02-14", 200000, "GEHALT"],
    ]);
    expect(reconcileStatement(s).status).toBe("reconciled");
    expect(s.warnings.join(" ")).toMatch(/skipped 1 line/);
  });

  it("tells an unnamed money-out and money-in pair apart by the running balance", async () => {
    const s = await read(
      "nationwide.csv",
      [
        "07 Nov 2013,Bank credit,,£500.00,£500.00",
        "09 Nov 2013,ATM Withdrawal,£20.00,,£480.00",
        "10 Nov 2013,Supermarket,£19.77,,£460.23",
      ].join("\n"),
    );
    expect(s.transactions.map((t) => t.amountCents)).toEqual([50000, -2000, -1977]);
    expect(reconcileStatement(s).status).toBe("reconciled");
  });

  it("reads OCR-noisy and foreign headers", async () => {
    const s = await read(
      "ocr.csv",
      [
        "TRANSACTION DATE,DESCRIPTION,AMOUNT (SGD)I",
        "01/07/2023,GRAB TAXI,-12.30",
        "15/07/2023,SALARY,3000.00",
      ].join("\n"),
    );
    expect(rows(s)).toEqual([
      ["2023-07-01", -1230, "GRAB TAXI"],
      ["2023-07-15", 300000, "SALARY"],
    ]);
    expect(s.currency).toBe("SGD");
  });

  it("flags a file whose markers contradict its signs instead of guessing", async () => {
    const s = await read(
      "conflict.csv",
      [
        "Date,Description,Amount,D/C",
        "2026-01-02,SHOP A,-10.00,D",
        "2026-01-03,SHOP B,12.00,D",
        "2026-01-04,REFUND,-3.00,C",
      ].join("\n"),
    );
    const r = reconcileStatement(s);
    expect(r.status).toBe("mismatch");
    expect(r.problems.join(" ")).toMatch(/disagrees with the amount's sign/);
  });

  it("marks a guessed day/month order, and follows date_format YYYYMMDD and a sign column from config", async () => {
    const guessed = await read(
      "old.csv",
      "Date,Description,Amount\n03/04/2020,COFFEE SHOP,-1.00\n",
    );
    expect(guessed.flags).toContain("date_order_assumed");
    const config = parseConfig({
      finance: {
        csv_layouts: {
          dutch: {
            date: "Boekdatum",
            description: "Tekst",
            amount: "Som",
            sign: "Richting",
            date_format: "YYYYMMDD",
            decimal: ",",
          },
        },
      },
    }).finance;
    const s = await read(
      "custom.csv",
      "Boekdatum;Tekst;Som;Richting\n20200213;KOFFIE;3,50;Af\n20200214;LOON;7,01;Bij\n",
      config,
    );
    expect(rows(s)).toEqual([
      ["2020-02-13", -350, "KOFFIE"],
      ["2020-02-14", 701, "LOON"],
    ]);
    expect(s.layout?.source).toBe("configured");
  });

  it("reads headerless day-month-year dates whose year lost its leading zero (10-Nov-9)", async () => {
    const s = await read(
      "short-year.csv",
      [
        "10-Nov-9,-123.12,,,TRANSFER DEBIT,RENT FLAT 2,0.00,",
        "09-Nov-10,2000.00,,,SALARY,ACME PAYROLL,2000.00,",
        "04-Nov-11,-15.50,,,CARD,BAKERY,1984.50,",
      ].join("\n"),
    );
    expect(s.transactions.map((t) => [t.date, t.amountCents])).toEqual([
      ["2009-11-10", -12312],
      ["2010-11-09", 200000],
      ["2011-11-04", -1550],
    ]);
  });

  it("skips an account summary row above the header instead of taking it for the first transaction", async () => {
    const s = await read(
      "preamble.csv",
      [
        "-",
        '="0234500012345678";21/11/2015;19/02/2016;36;19/02/2016;1234,37 EUR',
        "",
        "Date de l'opération;Libellé;Détail de l'écriture;Montant de l'opération;Devise",
        "19/02/2016;VIR RECU 508160;VIR RECU DE: FRANCOIS;50,00;EUR",
        "18/02/2016;COTISATION JAZZ;COTISATION JAZZ;-8,10;EUR",
      ].join("\n"),
    );
    expect(rows(s)).toEqual([
      ["2016-02-19", 5000, "VIR RECU 508160"],
      ["2016-02-18", -810, "COTISATION JAZZ"],
    ]);
    // A headerless file whose rows all look alike keeps its first row.
    const plain = await read(
      "headerless.csv",
      ["19/02/2016;GROCER;-12,50", "20/02/2016;SALARY;1000,00", "21/02/2016;CAFE;-3,20"].join("\n"),
    );
    expect(plain.transactions).toHaveLength(3);
  });

  it("takes a full text column over sparse notes, and a name over a column of account numbers", async () => {
    const s = await read(
      "notes.csv",
      [
        "Date,Summary,Withdrawal,Deposit,Ending balance,Notes",
        "2021/07/02,Groceries,200,,800,",
        "2021/07/02,Cinema,100,,700,",
        "2021/07/08,Transfer,,200,900,In1",
        "2021/07/09,Transfer,500,,400,",
      ].join("\n"),
    );
    expect(s.layout?.columns.description).toBe("Summary");
    const h = await read(
      "names.csv",
      [
        '20121115,ACME INSURANCE,NL28 INGB 1200 3244 16,IC,Af,"136,13",Incasso',
        '20121112,JANE DOE,NL91 ABNA 0417 1643 00,GT,Bij,"375,00",Online',
        '20121110,BAKERY SMITH,NL02 RABO 0123 4567 89,BA,Af,"4,50",Betaalautomaat',
        '20121109,CITY WATER,NL39 RABO 0300 0652 64,IC,Af,"30,00",Incasso',
      ].join("\n"),
    );
    const texts = [h.layout?.columns.description, h.layout?.columns.payee];
    expect(texts).toContain("column 2");
    expect(texts).not.toContain("column 3");
  });

  it("keeps a named payee column whose few values never repeat", async () => {
    const s = await read(
      "payee-notes.csv",
      [
        "date,amount,payee,notes",
        "2019-01-23,-10.00,Corner Bakery,weekly bread",
        "2019-01-24,-20.00,City Water,",
        "2019-01-25,-30.00,,cash for rent",
        "2019-01-26,-40.00,,",
      ].join("\n"),
    );
    expect(s.layout?.columns.payee).toBe("payee");
    // A row without a payee falls back to its notes.
    expect(s.transactions.map((t) => t.payee)).toEqual([
      "Corner Bakery",
      "City Water",
      "cash for rent",
      null,
    ]);
  });

  it("refuses pdftotext output instead of reading it as a CSV", async () => {
    await expect(
      read("statement.txt", "ACME BANK          Statement\n01/02   COFFEE        3.50\n\f"),
    ).rejects.toThrow(/statement\.txt: .*plain text/);
  });
});

describe("OFX", () => {
  const ofx = (amount: string, name: string, currency = "USD") =>
    `OFXHEADER:100\n\n<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>${currency}<BANKACCTFROM><ACCTID>9876543210</BANKACCTFROM><BANKTRANLIST><STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20260105<TRNAMT>${amount}<FITID>9876543210-0001<NAME>${name}</STMTTRN></BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n`;

  it("reads CDATA text, rounds extra decimals to the currency's unit, masks the account in FITIDs", async () => {
    const s = await read("a.ofx", ofx("-12.3456", "<![CDATA[Café <Lyon>]]>"));
    expect(s.transactions[0]).toMatchObject({
      amountCents: -1235,
      description: "Café <Lyon>",
      bankId: "…3210-0001",
    });
    const yen = await read("b.ofx", ofx("-1500.5", "RAMEN", "JPY"));
    expect(yen.transactions[0]!.amountCents).toBe(-150100);
    const exact = await read("c.ofx", ofx("-7.5000", "X"));
    expect(exact.transactions[0]!.amountCents).toBe(-750);
    expect(exact.warnings).toEqual([]);
  });
});

describe("masking", () => {
  it("masks account numbers and keeps separate numbers separate", () => {
    expect(maskText("TRANSFER 12345678 87654321")).toBe("TRANSFER …5678 …4321");
    expect(maskText("LIPO 2103 0310 K2")).toBe("LIPO 2103 0310 K2");
    expect(maskText("IBAN NL01INGB0001234567 rent")).toBe("IBAN NL••INGB…4567 rent");
    expect(maskText("BIC AT654000000065432109 ZAHLUNG")).toBe("BIC AT••…2109 ZAHLUNG");
    expect(maskAccountIn("ACC9876543210-77", "9876543210")).toBe("ACC…3210-77");
  });
});
