import { beforeAll, describe, expect, it } from "vitest";
import {
  evaluateGenerated,
  type GeneratedOutcome,
  generatedCorpus,
  isWrong,
} from "../fixtures/finance/generated-corpus.js";

// Layouts no public file in the real corpus shows (Singapore card PDFs, Dutch bank CSVs, OFX
// corner cases), generated from their truth: every transaction exact, every statement checked
// as its printed figures allow, and what is no bank statement refused with the reason.
describe("generated statements", () => {
  let outcomes: GeneratedOutcome[] = [];
  beforeAll(async () => {
    outcomes = await Promise.all((await generatedCorpus()).map(evaluateGenerated));
  }, 120_000);

  it("reads every transaction of every generated statement exactly, inventing none", () => {
    const wrong = outcomes
      .filter((o) => o.case.truth.expect === "import")
      .filter((o) => o.parts === null || isWrong(o))
      .map(
        (o) =>
          `${o.case.name}: ${o.exact}/${o.case.truth.transactions.length} (read ${o.read})${o.error ? ` ${o.error}` : ""}`,
      );
    expect(wrong).toEqual([]);
  });

  it("reconciles what prints its balances and says why the rest is unchecked", () => {
    const off = outcomes
      .filter((o) => o.case.truth.expect === "import")
      .filter((o) => o.statuses.some((s) => s !== o.case.truth.status))
      .map((o) => `${o.case.name}: ${o.statuses.join(",")} (want ${o.case.truth.status})`);
    expect(off).toEqual([]);
    for (const o of outcomes.filter((o) => o.statuses.includes("unchecked")))
      expect(o.flags.some((f) => f.startsWith("unchecked_"))).toBe(true);
  });

  it("refuses investment statements and server errors, naming what they are", () => {
    const refusals = outcomes.filter((o) => o.case.truth.expect === "refuse");
    expect(refusals.length).toBeGreaterThan(0);
    for (const o of refusals) {
      expect(o.parts, o.case.name).toBeNull();
      expect(o.error, o.case.name).toMatch(o.case.truth.refusal!);
    }
  });
});
