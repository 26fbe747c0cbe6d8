import {
  evaluateGenerated,
  generatedCorpus,
  isWrong,
} from "../test/fixtures/finance/generated-corpus.js";

// The generated corpus (Singapore-style PDFs, Dutch and other CSV dialects, OFX corner cases)
// through the parser and its checks, in process: the figures BENCHMARKS.md records beside the
// real corpus's. `npm run bench -- finance-generated [--json]`.
const outcomes = await Promise.all((await generatedCorpus()).map(evaluateGenerated));
const importing = outcomes.filter((o) => o.case.truth.expect === "import");
const refusing = outcomes.filter((o) => o.case.truth.expect === "refuse");
const statuses = outcomes.flatMap((o) => o.statuses);
const summary = {
  bench: "finance-generated",
  files: outcomes.length,
  transactions_exact: outcomes.reduce((n, o) => n + o.exact, 0),
  transactions_total: importing.reduce((n, o) => n + o.case.truth.transactions.length, 0),
  files_parsed: importing.filter((o) => o.parts !== null).length,
  files_parsed_all_exact: importing.filter((o) => o.parts !== null && !isWrong(o)).length,
  statements_reconciled: statuses.filter((s) => s === "reconciled").length,
  statements_flagged: statuses.filter((s) => s === "mismatch").length,
  statements_unchecked: statuses.filter((s) => s === "unchecked").length,
  status_as_expected: importing.filter(
    (o) => o.case.truth.status && o.statuses.every((s) => s === o.case.truth.status),
  ).length,
  false_refusals: importing.filter((o) => o.parts === null).length,
  silent_wrong_statements: importing.filter((o) => isWrong(o) && !o.marked).length,
  refused_with_reason: refusing.filter(
    (o) => o.parts === null && o.case.truth.refusal!.test(o.error ?? ""),
  ).length,
  refusals_expected: refusing.length,
};
if (process.argv.includes("--json")) process.stdout.write(`${JSON.stringify(summary)}\n`);
else {
  for (const o of outcomes) {
    const want = o.case.truth;
    const bad =
      want.expect === "refuse"
        ? o.parts !== null || !want.refusal!.test(o.error ?? "")
        : o.parts === null || isWrong(o) || o.statuses.some((s) => s !== want.status);
    if (bad)
      process.stdout.write(
        `${o.case.name}: ${o.exact}/${want.transactions.length} read ${o.read} [${o.statuses.join(",")}] want ${want.status ?? "refusal"}${o.error ? ` error: ${o.error.slice(0, 160)}` : ""}${isWrong(o) && !o.marked ? " SILENT" : ""}\n`,
      );
  }
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
}
