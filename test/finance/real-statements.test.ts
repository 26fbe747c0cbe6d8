import { beforeAll, describe, expect, it } from "vitest";
import { loadCorpus } from "../fixtures/finance/real-corpus.js";
import { evaluate, type Outcome } from "../fixtures/finance/real-evaluate.js";

// The parser against the real corpus, in process (the bench measures the same through the CLI).
// The data files live outside the repository (../shared/finance-real or
// NIGHTSHIFT_FINANCE_CORPUS); without them these tests are skipped.
const corpus = loadCorpus().filter((entry) => entry.dataPath !== null);

describe.skipIf(corpus.length === 0)("real statements", () => {
  let outcomes: Outcome[] = [];
  beforeAll(async () => {
    outcomes = await Promise.all(corpus.map(evaluate));
  }, 120_000);

  it("never imports a wrong statement without marking it, and refuses what is no statement", () => {
    const silent: string[] = [];
    const wronglyAccepted: string[] = [];
    for (const o of outcomes) {
      const { expect: wanted, transactions } = o.entry.expected;
      if (wanted === "refuse") {
        if (o.parts && o.parts.length > 0) wronglyAccepted.push(o.entry.name);
        continue;
      }
      const total = o.parts?.reduce((n, p) => n + p.transactions.length, 0) ?? 0;
      const wrong = o.exact < transactions.length || total > transactions.length;
      if (o.parts && wrong && !o.marked) silent.push(o.entry.name);
    }
    expect(silent).toEqual([]);
    expect(wronglyAccepted).toEqual([]);
  });

  it("reads every transaction exactly in each statement it marks as fine", () => {
    const inexact = outcomes
      .filter((o) => o.parts && !o.marked && o.entry.expected.expect === "import")
      .filter((o) => o.exact !== o.entry.expected.transactions.length)
      .map((o) => `${o.entry.name}: ${o.exact}/${o.entry.expected.transactions.length}`);
    expect(inexact).toEqual([]);
  });

  it("reads at least 99 % of all corpus transactions exactly", () => {
    const wanted = corpus.filter((e) => e.expected.expect === "import");
    const total = wanted.reduce((n, e) => n + e.expected.transactions.length, 0);
    const exact = outcomes.reduce((n, o) => n + o.exact, 0);
    expect(exact / total).toBeGreaterThanOrEqual(0.99);
  });
});
