import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { type Clock, systemClock } from "../clock.js";
import { NightshiftError } from "../errors.js";
import type { FinanceAccount, FinanceStore } from "../ledger/finance-store.js";
import type { ReviewQueue } from "../review/queue.js";
import { DEFAULT_ACCOUNT, resolveAccount } from "./accounts.js";
import { checkDuplicate, openDuplicateReview } from "./dedupe.js";
import { rememberLayout } from "./import/layout-memory.js";
import type { ParsedStatement, ReadLayout } from "./import/statement.js";
import { countLines, type ImportProgressListener, storeProgress } from "./import-progress.js";
import { maskText } from "./mask.js";
import { type ReadDeps, readStatements } from "./read-statements.js";
import { type Reconciliation, reconcileStatement } from "./reconcile.js";

export interface ImportDeps extends ReadDeps {
  store: FinanceStore;
  /** Where possible duplicates go for a person; without it they are only flagged. */
  review?: ReviewQueue | undefined;
  clock?: Clock;
}

export interface ImportOptions {
  /** An account name; found or created. Needed for files that print no account number. */
  account?: string | undefined;
  /** Told how far a large import has come (see import-progress.ts). */
  onProgress?: ImportProgressListener | undefined;
}

export interface ImportResult {
  file: string;
  status: "imported" | "already_imported";
  statementId: number;
  account: string;
  /** The number as printed, unmasked: shown only with --show-numbers, never stored. */
  accountNumber: string | null;
  accountMasked: string | null;
  format: string;
  extraction: "parser" | "model";
  periodStart: string | null;
  periodEnd: string | null;
  imported: number;
  duplicatesSkipped: number;
  duplicateSuspects: number;
  reconciliation: Pick<
    Reconciliation,
    "status" | "differenceCents" | "problems" | "debitsCents" | "creditsCents"
  > & { flags?: string[] };
  warnings: string[];
  /** How the columns were read (CSV). */
  layout?: ReadLayout | undefined;
  /** The other account statements of a file that holds several (an OFX "all accounts"). */
  more?: ImportResult[] | undefined;
}

/**
 * Imports one statement file in one database transaction: all of it or none of it. The same
 * file again (by its sha256) changes nothing.
 */
export async function importStatementFile(
  path: string,
  deps: ImportDeps,
  options: ImportOptions = {},
): Promise<ImportResult> {
  const file = basename(path);
  const bytes = await readBytes(path);
  const sha = createHash("sha256").update(bytes).digest("hex");
  const known = deps.store.statementBySha(sha);
  if (known) return alreadyImported(file, known);
  options.onProgress?.({ phase: "parse", file, bytes: bytes.length, lines: countLines(bytes) });
  const { parts, extraction, proposed } = await checkedStatements(bytes, path, deps);
  // Duplicate suspects' review items, opened with the transactions (the queue is async).
  const reviews: Promise<void>[] = [];
  const results = deps.store.transaction(() =>
    parts.map(({ parsed, reconciliation }, i) =>
      store(
        file,
        i === 0 ? sha : `${sha}#${i + 1}`,
        parsed,
        reconciliation,
        extraction,
        { ...deps, reviews },
        options,
      ),
    ),
  );
  await Promise.all(reviews);
  if (proposed && deps.kb) {
    await rememberLayout(deps.kb, proposed.known, {
      kind: "import",
      ref: `${file} (${proposed.actionId})`,
    });
  }
  const [first, ...more] = results;
  return more.length ? { ...first!, more } : first!;
}

/** The statements of a file with their checks, refused whole when none has a transaction. */
export async function checkedStatements(bytes: Uint8Array, path: string, deps: ReadDeps) {
  const read = await readStatements(bytes, path, deps);
  const parts = read.parts
    .filter((parsed) => parsed.transactions.length > 0)
    .map((parsed) => ({ parsed, reconciliation: reconcileStatement(parsed) }));
  if (parts.length === 0) {
    throw new NightshiftError(
      `${path}: cannot import: the statement has no transactions; nothing was imported`,
      { code: "empty_statement" },
    );
  }
  for (const { reconciliation } of parts) {
    if (read.extraction === "model" && reconciliation.status !== "reconciled") {
      throw new NightshiftError(
        `${path}: cannot import: the parser does not know this layout, and the model's reading did not reconcile (${reconciliation.problems.join("; ") || "nothing printed to check it against"}); export a CSV or OFX from your bank`,
        { code: "layout_unknown" },
      );
    }
  }
  return { ...read, parts };
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    throw new NightshiftError(`cannot read ${path}: ${(error as Error).message}`, {
      code: "bad_file",
      cause: error,
    });
  }
}

function store(
  file: string,
  sha: string,
  parsed: ParsedStatement,
  reconciliation: Reconciliation,
  extraction: "parser" | "model",
  deps: ImportDeps & { reviews: Promise<void>[] },
  options: ImportOptions,
): ImportResult {
  const now = (deps.clock ?? systemClock).now();
  const account = resolveAccount(file, parsed, deps, options, now);
  const statementId = deps.store.insertStatement({
    accountId: account.id,
    fileName: file,
    fileSha256: sha,
    format: parsed.format,
    extraction,
    periodStart: parsed.periodStart,
    periodEnd: parsed.periodEnd,
    openingCents: parsed.openingCents,
    closingCents: parsed.closingCents,
    printedTotals: parsed.printedTotals,
    debitsCents: reconciliation.debitsCents,
    creditsCents: reconciliation.creditsCents,
    reconcileStatus: reconciliation.status,
    differenceCents: reconciliation.differenceCents,
    flags: statementFlags(parsed, reconciliation, extraction),
    transactionCount: 0,
    duplicatesSkipped: 0,
    importedAt: now,
  });
  const stored = storeProgress(file, parsed.transactions.length, options.onProgress);
  const counts = storeTransactions(statementId, account, parsed, reconciliation, deps, stored, now);
  deps.store.setStatementCounts(statementId, counts.imported, counts.skipped);
  return {
    file,
    status: "imported",
    statementId,
    account: account.name,
    accountNumber: parsed.accountNumber,
    accountMasked: account.numberMasked,
    format: parsed.format,
    extraction,
    periodStart: parsed.periodStart,
    periodEnd: parsed.periodEnd,
    imported: counts.imported,
    duplicatesSkipped: counts.skipped,
    duplicateSuspects: counts.suspects,
    reconciliation: {
      ...reconciliation,
      flags: statementFlags(parsed, reconciliation, extraction),
    },
    warnings: [
      ...parsed.warnings,
      ...(account.name === DEFAULT_ACCOUNT && !options.account
        ? [
            `the file names no account: imported into account "${DEFAULT_ACCOUNT}"; pass --account NAME to file it elsewhere`,
          ]
        : []),
    ],
    layout: parsed.layout,
  };
}

function statementFlags(
  parsed: ParsedStatement,
  reconciliation: Reconciliation,
  extraction: "parser" | "model",
): string[] {
  return [
    ...new Set([
      ...reconciliation.flags,
      ...(parsed.flags ?? []),
      ...(extraction === "model" ? ["model_extracted"] : []),
    ]),
  ];
}

function storeTransactions(
  statementId: number,
  account: FinanceAccount,
  parsed: ParsedStatement,
  reconciliation: Reconciliation,
  deps: ImportDeps & { reviews: Promise<void>[] },
  stored: (done: number) => void,
  now: number,
): { imported: number; skipped: number; suspects: number } {
  const counts = { imported: 0, skipped: 0, suspects: 0 };
  const claimed = new Set<number>();
  const statementFlags = reconciliation.status === "mismatch" ? ["statement_unreconciled"] : [];
  parsed.transactions.forEach((transaction, position) => {
    const verdict = checkDuplicate(
      deps.store,
      account.id,
      statementId,
      transaction,
      deps.config.duplicate_window_days,
      claimed,
    );
    stored(position + 1);
    if (verdict.kind === "same_bank_id") {
      counts.skipped++;
      return;
    }
    const suspect = verdict.kind === "suspect" ? verdict.existing : null;
    if (suspect) claimed.add(suspect.id);
    const id = deps.store.insertTransaction({
      accountId: account.id,
      statementId,
      position,
      date: transaction.date,
      amountCents: transaction.amountCents,
      description: maskText(transaction.description),
      payee: transaction.payee === null ? null : maskText(transaction.payee),
      bankId: transaction.bankId,
      balanceCents: transaction.balanceCents,
      duplicateOf: suspect?.id ?? null,
      flags: [...statementFlags, ...(suspect ? ["duplicate_suspect"] : [])],
      createdAt: now,
    });
    counts.imported++;
    if (suspect) {
      counts.suspects++;
      deps.reviews.push(openDuplicateReview(deps, id, suspect.id));
    }
  });
  return counts;
}

function alreadyImported(
  file: string,
  known: NonNullable<ReturnType<FinanceStore["statementBySha"]>>,
): ImportResult {
  return {
    file,
    status: "already_imported",
    statementId: known.id,
    account: known.accountName,
    accountNumber: null,
    accountMasked: null,
    format: known.format,
    extraction: known.extraction,
    periodStart: known.periodStart,
    periodEnd: known.periodEnd,
    imported: 0,
    duplicatesSkipped: 0,
    duplicateSuspects: 0,
    reconciliation: {
      status: known.reconcileStatus,
      differenceCents: known.differenceCents,
      problems: [],
      debitsCents: known.debitsCents,
      creditsCents: known.creditsCents,
    },
    warnings: [],
  };
}
