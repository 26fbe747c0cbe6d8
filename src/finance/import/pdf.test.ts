import { describe, expect, it } from "vitest";
import { parsePdfLines } from "./pdf.js";

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
