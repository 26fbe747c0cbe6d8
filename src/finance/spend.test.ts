import { describe, expect, it } from "vitest";
import { calendarMonthsBefore, merchantOf } from "./spend.js";

describe("the months a spend figure is compared with", () => {
  it("are the calendar months before it, across a year's end, gaps included", () => {
    expect(calendarMonthsBefore("2026-03", 3)).toEqual(["2025-12", "2026-01", "2026-02"]);
    expect(calendarMonthsBefore("2026-01", 3)).toEqual(["2025-10", "2025-11", "2025-12"]);
    expect(calendarMonthsBefore("2026-12", 1)).toEqual(["2026-11"]);
  });
});

describe("merchantOf", () => {
  it("names a transaction by its payee, else its description, else says it has neither", () => {
    expect(merchantOf({ payee: "ACME", description: "CARD 1234 ACME" })).toBe("ACME");
    expect(merchantOf({ payee: null, description: "Note Only Text" })).toBe("Note Only Text");
    expect(merchantOf({ payee: " ", description: "" })).toBe("(no payee or description)");
  });
});
