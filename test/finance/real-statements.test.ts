import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { parseStatementBytes } from "../../src/finance/import/read-file.js";
import type { ParsedStatement } from "../../src/finance/import/statement.js";
import { maskText } from "../../src/finance/mask.js";
import { reconcileStatement } from "../../src/finance/reconcile.js";
import { type CorpusEntry, cents, loadCorpus } from "../fixtures/finance/real-corpus.js";

// The parser against the real corpus, in process (the bench measures the same through the CLI).
// The data files live outside the repository (../shared/finance-real or
// NIGHTSHIFT_FINANCE_CORPUS); without them these tests are skipped.
const corpus = loadCorpus().filter((entry) => entry.dataPath !== null);
const finance = parseConfig({}).finance;

// As the bench compares: case, spaces, digits, punctuation and masking runs do not count.
const squash = (s: string | null | undefined) =>
  (s ?? "")
    .toLowerCase()
    .replace(/x{2,}/g, "")
    .replace(/[\s\d\p{P}]/gu, "");

interface Outcome {
  entry: CorpusEntry;
  parts: ParsedStatement[] | null;
  error: string | null;
  exact: number;
  marked: boolean;
}

async function evaluate(entry: CorpusEntry): Promise<Outcome> {
  let parts: ParsedStatement[];
  try {
    const bytes = new Uint8Array(readFileSync(entry.dataPath!));
    parts = (await parseStatementBytes(bytes, entry.dataPath!, finance)).filter(
      (p) => p.transactions.length > 0,
    );
  } catch (error) {
    return { entry, parts: null, error: (error as Error).message, exact: 0, marked: true };
  }
  const got = parts.flatMap((p) => p.transactions);
  let exact = 0;
  for (const want of entry.expected.transactions) {
    const text = squash(want.description);
    const at = got.findIndex(
      (t) =>
        t.date === want.date &&
        t.amountCents === cents(want.amount) &&
        (squash(maskText(t.description)).includes(text) || squash(t.payee).includes(text)),
    );
    if (at >= 0) {
      got.splice(at, 1);
      exact++;
    }
  }
  const marked = parts.some((p) => {
    const r = reconcileStatement(p);
    return r.status !== "reconciled" || (p.flags ?? []).length > 0;
  });
  return { entry, parts, error: null, exact, marked };
}

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

  it("reads at least 89 % of all corpus transactions exactly", () => {
    const wanted = corpus.filter((e) => e.expected.expect === "import");
    const total = wanted.reduce((n, e) => n + e.expected.transactions.length, 0);
    const exact = outcomes.reduce((n, o) => n + o.exact, 0);
    expect(exact / total).toBeGreaterThanOrEqual(0.89);
  });
});
