import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { type Clock, systemClock } from "../clock.js";
import { NightshiftError } from "../errors.js";
import type {
  FinanceAccount,
  FinanceStatement,
  FinanceStore,
  FinanceWrites,
  NewTransaction,
} from "../ledger/stores/finance.js";
import type { ReviewQueue } from "../review/queue.js";
import { DEFAULT_ACCOUNT, resolveAccount } from "./accounts.js";
import { judgeDuplicate, loadDuplicateContext, openDuplicateReview } from "./dedupe.js";
import { rememberLayout } from "./import/layout-memory.js";
import type { ParsedStatement, ReadLayout } from "./import/statement.js";
import {
  countLines,
  type ImportProgressListener,
  type ReadProgress,
  readProgress,
  storeProgress,
} from "./import-progress.js";
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
  const known = await deps.store.statementBySha(sha);
  if (known) return alreadyImported(file, known);
  options.onProgress?.({ phase: "parse", file, bytes: bytes.length, lines: countLines(bytes) });
  const progress = options.onProgress && readProgress(file, options.onProgress);
  const { parts, extraction, proposed } = await checkedStatements(bytes, path, deps, progress);
  const stored = await deps.store
    .transaction(async (tx) => {
      // Another machine (or process) may have imported the same file while this one parsed it.
      const raced = await tx.statementBySha(sha);
      if (raced) return raced;
      const results: StoredStatement[] = [];
      for (const [i, { parsed, reconciliation }] of parts.entries()) {
        const partSha = i === 0 ? sha : `${sha}#${i + 1}`;
        const input = { file, sha: partSha, parsed, reconciliation, extraction };
        results.push(await store(tx, input, deps, options));
      }
      return results;
    })
    .catch(async (error) => {
      if (!(error instanceof ImportedMeanwhile)) throw error;
      return (await deps.store.statementBySha(sha)) ?? Promise.reject(error);
    });
  if (!Array.isArray(stored)) return alreadyImported(file, stored);
  // A person's review is opened once the import has landed, never for rows rolled back.
  for (const { suspects } of stored) {
    for (const [id, existingId] of suspects) await openDuplicateReview(deps, id, existingId);
  }
  if (proposed && deps.kb) {
    await rememberLayout(deps.kb, proposed.known, {
      kind: "import",
      ref: `${file} (${proposed.actionId})`,
    });
  }
  const [first, ...more] = stored.map((s) => s.result);
  return more.length ? { ...first!, more } : first!;
}

/** The unique file_sha256 turned an insert away: the same file landed first elsewhere. */
class ImportedMeanwhile extends Error {}

interface StoredStatement {
  result: ImportResult;
  /** [new transaction, the one it may duplicate], for a person to decide. */
  suspects: [number, number][];
}

interface StatementToStore {
  file: string;
  sha: string;
  parsed: ParsedStatement;
  reconciliation: Reconciliation;
  extraction: "parser" | "model";
}

/** The statements of a file with their checks, refused whole when none has a transaction. */
export async function checkedStatements(
  bytes: Uint8Array,
  path: string,
  deps: ReadDeps,
  progress?: ReadProgress,
) {
  const read = await readStatements(bytes, path, deps, progress);
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

async function store(
  tx: FinanceWrites,
  { file, sha, parsed, reconciliation, extraction }: StatementToStore,
  deps: ImportDeps,
  options: ImportOptions,
): Promise<StoredStatement> {
  const now = (deps.clock ?? systemClock).now();
  const account = await resolveAccount(file, parsed, tx, deps.config, options, now);
  const flags = statementFlags(parsed, reconciliation, extraction);
  const statementId = await tx.insertStatement({
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
    flags,
    transactionCount: 0,
    duplicatesSkipped: 0,
    importedAt: now,
  });
  if (statementId === null) throw new ImportedMeanwhile(file);
  const progress = storeProgress(file, parsed.transactions.length, options.onProgress);
  const target = { tx, statementId, account, config: deps.config };
  const counts = await storeTransactions(target, parsed, reconciliation, progress, now);
  await tx.setStatementCounts(statementId, counts.imported, counts.skipped);
  const result: ImportResult = {
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
    duplicateSuspects: counts.suspects.length,
    reconciliation: { ...reconciliation, flags },
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
  return { result, suspects: counts.suspects };
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

async function storeTransactions(
  target: {
    tx: FinanceWrites;
    statementId: number;
    account: FinanceAccount;
    config: ImportDeps["config"];
  },
  parsed: ParsedStatement,
  reconciliation: Reconciliation,
  stored: (done: number) => void,
  now: number,
): Promise<{ imported: number; skipped: number; suspects: [number, number][] }> {
  const { tx, statementId, account } = target;
  const counts = { imported: 0, skipped: 0, suspects: [] as [number, number][] };
  const claimed = new Set<number>();
  const seenBankIds = new Set<string>();
  const statementFlags = reconciliation.status === "mismatch" ? ["statement_unreconciled"] : [];
  const window = target.config.duplicate_window_days;
  const context = await loadDuplicateContext(
    tx,
    account.id,
    statementId,
    parsed.transactions,
    window,
  );
  const rows: NewTransaction[] = [];
  const suspects: (number | null)[] = [];
  for (const [position, transaction] of parsed.transactions.entries()) {
    const verdict = judgeDuplicate(context, transaction, claimed);
    stored(position + 1);
    // The same bank id twice within one file: the bank's word that it is one transaction.
    if (
      verdict.kind === "same_bank_id" ||
      (transaction.bankId && seenBankIds.has(transaction.bankId))
    ) {
      counts.skipped++;
      continue;
    }
    if (transaction.bankId) seenBankIds.add(transaction.bankId);
    const suspect = verdict.kind === "suspect" ? verdict.existing : null;
    if (suspect) claimed.add(suspect.id);
    suspects.push(suspect?.id ?? null);
    rows.push({
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
  }
  // One write for the whole statement, not one round trip per row.
  const ids = await tx.insertTransactions(rows);
  for (const [i, id] of ids.entries()) {
    if (id === null) {
      counts.skipped++;
      continue;
    }
    counts.imported++;
    const suspect = suspects[i];
    if (suspect != null) counts.suspects.push([id, suspect]);
  }
  return counts;
}

function alreadyImported(file: string, known: FinanceStatement): ImportResult {
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
