import { describe, expect, it } from "vitest";
import { checkAnswerFigures } from "./answer-check.js";
import type { SpendFacts } from "./spend.js";

const facts: SpendFacts = {
  month: "2026-01",
  category: "restaurants",
  merchant: null,
  currency: "USD",
  otherCurrencies: [],
  totalCents: 84_723,
  count: 11,
  averageTransactionCents: 7_702,
  previousMonths: [
    { month: "2025-10", totalCents: 70_000 },
    { month: "2025-11", totalCents: 65_000 },
    { month: "2025-12", totalCents: 71_600 },
  ],
  averagePreviousCents: 68_867,
  changePct: 23,
  topMerchants: [{ merchant: "CHIPOTLE 1234", visits: 8, totalCents: 10_400 }],
  pendingDuplicates: { count: 0, totalCents: 0 },
  uncategorizedCount: 0,
  unverifiedStatements: [],
};
const question = "How much did I spend on restaurants last month?";

describe("checking a model's figures against the facts", () => {
  it("accepts amounts (exact or to the whole dollar), the change, counts and names with digits", () => {
    const text =
      "You spent $847 on restaurants in January 2026 ($847.23 over 11 visits). That's 23% above your 3-month average of $688.67. Top merchant: CHIPOTLE 1234 (8 visits, 104.00 USD).";
    expect(checkAnswerFigures(text, facts, question)).toEqual([]);
  });

  it("names each figure the facts do not contain", () => {
    const text = "You spent $850 on restaurants, 25% above average, over 12 visits.";
    expect(checkAnswerFigures(text, facts, question)).toEqual([
      "$850 is not among the computed amounts",
      "25% is not the computed change",
      "12 is not among the computed figures",
    ]);
  });
});
