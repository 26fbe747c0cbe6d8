import { loadCorpus } from "../test/fixtures/finance/real-corpus.js";
import { evaluate } from "../test/fixtures/finance/real-evaluate.js";

// The real corpus through the parser and its checks in process: the same comparison as
// finance-real.bench.ts (which imports each file through the built CLI into a fresh ledger), in
// seconds rather than minutes. `npm run bench -- finance-parse-real [--json]`.
const corpus = loadCorpus().filter((entry) => entry.dataPath !== null);
const outcomes = await Promise.all(corpus.map(evaluate));
const importing = outcomes.filter((o) => o.entry.expected.expect === "import");
const total = importing.reduce((n, o) => n + o.entry.expected.transactions.length, 0);
const exact = outcomes.reduce((n, o) => n + o.exact, 0);
const wrong = (o: (typeof outcomes)[number]) =>
  o.parts !== null &&
  (o.exact < o.entry.expected.transactions.length ||
    o.parts.reduce((n, p) => n + p.transactions.length, 0) > o.entry.expected.transactions.length);
const parsed = importing.filter((o) => o.parts !== null);
const statuses = outcomes.flatMap((o) => o.statuses);
const summary = {
  bench: "finance-parse-real",
  files: outcomes.length,
  transactions_exact: exact,
  transactions_total: total,
  exact_pct: total ? Math.round((1000 * exact) / total) / 10 : null,
  files_parsed: parsed.length,
  files_parsed_all_exact: parsed.filter((o) => !wrong(o)).length,
  files_parsed_unmarked_all_exact: parsed.filter((o) => !o.marked).every((o) => !wrong(o)),
  statements_reconciled: statuses.filter((s) => s === "reconciled").length,
  statements_flagged: statuses.filter((s) => s === "mismatch").length,
  statements_unchecked: statuses.filter((s) => s === "unchecked").length,
  false_refusals: importing.filter((o) => o.parts === null).length,
  silent_wrong_statements: importing.filter((o) => wrong(o) && !o.marked).length,
  wrongly_accepted: outcomes.filter(
    (o) => o.entry.expected.expect === "refuse" && o.parts !== null && o.parts.length > 0,
  ).length,
};
if (process.argv.includes("--json")) process.stdout.write(`${JSON.stringify(summary)}\n`);
else {
  for (const o of outcomes)
    if (o.entry.expected.expect === "import" && (wrong(o) || o.parts === null))
      process.stdout.write(
        `${o.entry.name}: ${o.exact}/${o.entry.expected.transactions.length}${o.parts === null ? ` refused: ${o.error?.slice(0, 100)}` : o.marked ? " (marked)" : " SILENT"}\n`,
      );
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
}
