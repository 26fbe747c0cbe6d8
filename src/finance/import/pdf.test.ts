import { describe, expect, it } from "vitest";
import { parsePdfLines } from "./pdf.js";

const cell = (text: string, x0: number, x1: number) => ({ text, x0, x1 });
const line = (page: number, y: number, cells: ReturnType<typeof cell>[]) => ({
  page,
  y,
  size: 9,
  cells,
  text: cells.map((c) => c.text).join("  "),
});
const header = (page: number, y: number) =>
  line(page, y, [
    cell("Date", 50, 70),
    cell("Description", 100, 160),
    cell("Debit", 280, 300),
    cell("Credit", 330, 360),
    cell("Balance", 420, 460),
  ]);
// A row: date (or none), description, debit or credit (negative = debit), balance (or none).
const row = (page: number, y: number, date: string, text: string, cents: number, bal?: string) =>
  line(page, y, [
    ...(date ? [cell(date, 50, 75)] : []),
    cell(text, 100, 170),
    cents < 0
      ? cell((-cents / 100).toFixed(2), 270, 300)
      : cell((cents / 100).toFixed(2), 330, 360),
    ...(bal ? [cell(bal, 420, 460)] : []),
  ]);
const period = line(1, 760, [cell("Statement Period: 1 Jan 2026 to 31 Jan 2026", 50, 300)]);

describe("pdf tables over pages", () => {
  it("carries the columns onto a page without a header, and reads a row's text begun there", () => {
    const statement = parsePdfLines(
      [
        period,
        header(1, 700),
        row(1, 680, "02 Jan", "GROCER", -1250),
        line(1, 666, [cell("03 Jan", 50, 75), cell("RENT", 100, 130)]),
        line(2, 760, [cell("JANUARY", 100, 140)]),
        row(2, 746, "", "LANDLORD", -90000),
        row(2, 732, "05 Jan", "SALARY", 250000),
      ],
      "pages.pdf",
    );
    expect(statement.transactions.map((t) => [t.date, t.amountCents, t.description])).toEqual([
      ["2026-01-02", -1250, "GROCER"],
      ["2026-01-03", -90000, "RENT JANUARY LANDLORD"],
      ["2026-01-05", 250000, "SALARY"],
    ]);
  });

  it("stops carrying the columns after a page without rows", () => {
    const statement = parsePdfLines(
      [
        period,
        header(1, 700),
        row(1, 680, "02 Jan", "GROCER", -1250),
        line(2, 760, [cell("Terms and conditions", 50, 200)]),
        row(3, 746, "05 Jan", "NOT A ROW", 250000),
      ],
      "terms.pdf",
    );
    expect(statement.transactions.map((t) => t.description)).toEqual(["GROCER"]);
  });

  it("reads a text line above undated figures as the start of that row, not the end of the last", () => {
    const statement = parsePdfLines(
      [
        period,
        header(1, 700),
        row(1, 680, "04 Jan", "CARD PAYMENT", -200000),
        line(1, 666, [cell("TRANSFER TO", 100, 160)]),
        row(1, 652, "", "SAVINGS", -400),
        row(1, 638, "06 Jan", "BAKERY", -300),
        line(1, 624, [cell("HIGH STREET", 100, 160)]),
        row(1, 610, "07 Jan", "REFUND", 500),
      ],
      "undated.pdf",
    );
    expect(statement.transactions.map((t) => [t.date, t.description])).toEqual([
      ["2026-01-04", "CARD PAYMENT"],
      ["2026-01-04", "TRANSFER TO SAVINGS"],
      ["2026-01-06", "BAKERY HIGH STREET"],
      ["2026-01-07", "REFUND"],
    ]);
  });

  it("reads a reprinted table once, but keeps repeated rows without balances", () => {
    const rows = (page: number) => [
      header(page, 700),
      row(page, 680, "02 Jan", "GROCER", -1250),
      row(page, 666, "", "COFFEE", -300, "985.50"),
    ];
    const statement = parsePdfLines([period, ...rows(1), ...rows(2)], "reprint.pdf");
    expect(statement.transactions.map((t) => t.amountCents)).toEqual([-1250, -300]);
    expect(statement.warnings.join(" ")).toMatch(/reprint earlier rows/);
    const plain = parsePdfLines(
      [period, header(1, 700), row(1, 680, "02 Jan", "GROCER", -1250)].concat([
        header(2, 700),
        row(2, 680, "02 Jan", "GROCER", -1250),
      ]),
      "twice.pdf",
    );
    expect(plain.transactions).toHaveLength(2);
  });
});

describe("pdf header rows", () => {
  it("reads headings that run together as separate columns", async () => {
    const cell = (text: string, x0: number, x1: number) => ({ text, x0, x1 });
    const line = (y: number, cells: ReturnType<typeof cell>[]) => ({
      page: 1,
      y,
      size: 9,
      cells,
      text: cells.map((c) => c.text).join("  "),
    });
    const statement = parsePdfLines(
      [
        line(700, [cell("Statement period: 01/01/2026 to 01/31/2026", 50, 250)]),
        line(680, [cell("Date Description", 50, 125), cell("Amount", 380, 400)]),
        line(666, [cell("01/05", 50, 72), cell("BAKERY", 80, 110), cell("-3.20", 378, 400)]),
      ],
      "tight.pdf",
    );
    expect(statement.transactions).toEqual([
      {
        date: "2026-01-05",
        amountCents: -320,
        description: "BAKERY",
        payee: "BAKERY",
        bankId: null,
        balanceCents: null,
      },
    ]);
  });
});
