import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../src/config.js";
import { importStatementFile } from "../src/finance/importer.js";
import { Ledger } from "../src/ledger/ledger.js";
import { PostgresActionLedger } from "../src/ledger/postgres/action-ledger.js";
import { SqliteActionLedger } from "../src/ledger/sqlite/action-ledger.js";
import type { FinanceStore } from "../src/ledger/stores/finance.js";
import { buildCorpus, CUSTOM_LAYOUT, multiPage } from "../test/fixtures/finance/corpus.js";
import { findPostgresBin, type PostgresCluster, startPostgres } from "../test/support/postgres.js";
import { freshDatabase } from "./fresh-database.js";

// Import speed of a 50-page statement, and exactness over the fixture corpus: a transaction
// counts only if its date, amount and description are all right; a statement only if it
// reconciles (or is correctly "unchecked" where nothing is printed to check against).
const dir = mkdtempSync(join(tmpdir(), "nightshift-finance-bench-"));
const config = parseConfig({ finance: { csv_layouts: { custom: CUSTOM_LAYOUT } } }).finance;

function freshStore(name: string): { store: FinanceStore; ledger: Ledger } {
  const ledger = Ledger.open(join(dir, `${name}.db`));
  return { store: new SqliteActionLedger(ledger, false).finance, ledger };
}

/**
 * The same 50-page import on PostgreSQL (a throwaway cluster, or NIGHTSHIFT_BENCH_PG_URL): one
 * read of known bank ids, one of duplicate candidates and one multi-row insert per statement,
 * inside one transaction. Null without one.
 */
async function postgresImportMs(file: string): Promise<number | null> {
  let cluster: PostgresCluster | undefined;
  let admin = process.env.NIGHTSHIFT_BENCH_PG_URL;
  if (!admin) {
    const bin = findPostgresBin();
    if (!bin) return null;
    cluster = await startPostgres(bin, true);
    admin = cluster.url;
  }
  try {
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const name = `ns_finance_bench_${process.pid}_${i}`;
      const stores = await PostgresActionLedger.open(await freshDatabase(admin, name));
      const started = performance.now();
      await importStatementFile(file, { store: stores.finance, config });
      runs.push(performance.now() - started);
      await stores.close();
    }
    return runs.sort((a, b) => a - b)[1]!;
  } finally {
    await cluster?.stop();
  }
}

try {
  const big = await multiPage(dir, 50, "fifty-pages.pdf");
  const runs: number[] = [];
  let bigExact = 0;
  for (let i = 0; i < 3; i++) {
    const { store, ledger } = freshStore(`big-${i}`);
    const started = performance.now();
    const result = await importStatementFile(join(dir, big.file), { store, config });
    runs.push(performance.now() - started);
    if (i === 0) {
      const got = await store.transactions({ statementId: result.statementId });
      bigExact = got.filter((t, n) => {
        const want = big.transactions[n];
        return (
          want &&
          t.date === want.date &&
          t.amountCents === want.amountCents &&
          t.description === want.description
        );
      }).length;
      if (result.reconciliation.status !== "reconciled")
        throw new Error("the 50-page statement did not reconcile");
    }
    ledger.close();
  }
  const median = runs.sort((a, b) => a - b)[1]!;

  const corpus = await buildCorpus(dir);
  let exact = 0;
  let total = 0;
  let reconciled = 0;
  const { store, ledger } = freshStore("corpus");
  for (const fixture of corpus) {
    const result = await importStatementFile(
      join(dir, fixture.file),
      { store, config },
      { account: fixture.account },
    );
    if (result.reconciliation.status === fixture.reconcile) reconciled++;
    const got = await store.transactions({ statementId: result.statementId });
    const remaining = [...fixture.transactions];
    for (const t of got) {
      const at = remaining.findIndex(
        (w) =>
          w.date === t.date && w.amountCents === t.amountCents && w.description === t.description,
      );
      if (at >= 0) {
        remaining.splice(at, 1);
        exact++;
      }
    }
    total += fixture.transactions.length;
  }
  ledger.close();

  const onPostgres = await postgresImportMs(join(dir, big.file));
  const perPage = median / 50;
  process.stdout.write(
    [
      `50-page PDF statement (${big.transactions.length} transactions): ${median.toFixed(0)} ms median of 3 imports (${perPage.toFixed(1)} ms/page), ${bigExact}/${big.transactions.length} exact`,
      `the same import on PostgreSQL: ${onPostgres === null ? "skipped (no PostgreSQL)" : `${onPostgres.toFixed(0)} ms median of 3`}`,
      `corpus: ${corpus.length} statements (PDF, CSV, OFX/QFX), ${exact}/${total} transactions exact (date, amount, description), ${reconciled}/${corpus.length} statements with the expected reconciliation`,
      "",
    ].join("\n"),
  );
  process.stdout.write(
    `${JSON.stringify({
      bench: "finance",
      import_50_pages_ms: Math.round(median),
      import_ms_per_page: Number(perPage.toFixed(2)),
      import_50_pages_postgres_ms: onPostgres === null ? null : Math.round(onPostgres),
      fifty_page_transactions: big.transactions.length,
      fifty_page_exact: bigExact,
      corpus_statements: corpus.length,
      corpus_transactions: total,
      corpus_exact: exact,
      corpus_reconciled: reconciled,
    })}\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
