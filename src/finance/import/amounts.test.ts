import { describe, expect, it } from "vitest";
import { maskText } from "../mask.js";
import { detectDecimalMark, parseAmount, signedCents } from "./amounts.js";
import { findPeriod, inferOrder, isoDate, parseDate } from "./dates.js";

describe("amounts", () => {
  it.each([
    ["1,234.56", undefined, 123456],
    ["1.234,56", ",", 123456],
    ["(12.00)", undefined, -1200],
    ["-12.00", undefined, -1200],
    ["12.00-", undefined, -1200],
    ["12.00 DR", undefined, -1200],
    ["$ 3,200.00", undefined, 320000],
    ["€ -45,90", ",", -4590],
    ["1 234,56", ",", 123456],
    ["0.5", undefined, 50],
  ] as const)("reads %s as %d cents", (text, decimal, cents) => {
    expect(signedCents(parseAmount(text, decimal)!)).toBe(cents);
  });

  it("keeps a CR mark apart from the sign", () => {
    expect(parseAmount("500.00 CR")).toEqual({ cents: 50000, negative: false, marker: "CR" });
  });

  it.each(["12/05", "ACME", "1,23.45", "12.345", "2026-01-05"])("refuses %s", (text) => {
    expect(parseAmount(text, ".")).toBeNull();
  });

  it("tells the decimal mark from the document's figures", () => {
    expect(detectDecimalMark(["1.234,56", "12,50", "3"])).toBe(",");
    expect(detectDecimalMark(["1,234.56", "12.50"])).toBe(".");
  });
});

describe("dates", () => {
  it("infers day-first from a day above 12 and month-first from the opposite", () => {
    expect(inferOrder(["05/01/2026", "25/01/2026"], "MD")).toBe("DM");
    expect(inferOrder(["01/25/2026"], "DM")).toBe("MD");
    expect(inferOrder(["01/02"], "DM")).toBe("DM");
  });

  it("gives a December date on a Dec–Jan statement the earlier year", () => {
    const period = { start: "2025-12-15", end: "2026-01-14" };
    expect(isoDate(parseDate("12/28", "MD")!, period)).toBe("2025-12-28");
    expect(isoDate(parseDate("01/03", "MD")!, period)).toBe("2026-01-03");
    expect(isoDate(parseDate("05 Jan", "MD")!, period)).toBe("2026-01-05");
    expect(isoDate(parseDate("Dec 20", "MD")!, period)).toBe("2025-12-20");
  });

  it("reads the statement period in several forms", () => {
    expect(findPeriod(["Statement period: 12/15/2025 to 01/14/2026"], "MD")).toEqual({
      start: "2025-12-15",
      end: "2026-01-14",
    });
    expect(findPeriod(["Zeitraum 01.03.2026 - 31.03.2026"], "DM")).toEqual({
      start: "2026-03-01",
      end: "2026-03-31",
    });
    expect(findPeriod(["January 1, 2026 - January 31, 2026"], "MD")).toEqual({
      start: "2026-01-01",
      end: "2026-01-31",
    });
  });

  it("refuses impossible dates", () => {
    expect(parseDate("02/30/2026", "MD")).toBeNull();
    expect(parseDate("13/13", "MD")).toBeNull();
  });
});

describe("masking", () => {
  it("masks card and account numbers in text but leaves amounts, dates and short references", () => {
    expect(maskText("CARD 4111 1111 1111 1234 PURCHASE")).toBe("CARD …1234 PURCHASE");
    expect(maskText("TRANSFER TO 000123456789")).toBe("TRANSFER TO …6789");
    expect(maskText("XXXX-XXXX-XXXX-4321 refund 1,234.56 on 2026-01-05 ref 1234")).toBe(
      "…4321 refund 1,234.56 on 2026-01-05 ref 1234",
    );
  });
});
