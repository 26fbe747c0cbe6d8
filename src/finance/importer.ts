import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { type Clock, systemClock } from "../clock.js";
import type { Config } from "../config.js";
import { describeError, NightshiftError } from "../errors.js";
import type { FinanceAccount, FinanceStore } from "../ledger/finance-store.js";
import type { ReviewQueue } from "../review/queue.js";
import { resolveAccount } from "./accounts.js";
import { checkDuplicate, openDuplicateReview } from "./dedupe.js";
import { parseStatementBytes } from "./import/read-file.js";
import { type ParsedStatement, payeeFromDescription } from "./import/statement.js";
import { maskText } from "./mask.js";
import { type Reconciliation, reconcileStatement } from "./reconcile.js";

export interface ImportDeps {
  store: FinanceStore;
  config: Config["finance"];
  /** Where possible duplicates go for a person; without it they are only flagged. */
  review?: ReviewQueue | undefined;
  /**
   * A model-based reader for layouts the parser does not know. Its result counts only if it
   * reconciles, so a model can never invent a transaction that the statement's own figures
   * do not confirm.
   */
  extract?: ((bytes: Uint8Array, file: string) => Promise<ParsedStatement>) | undefined;
  clock?: Clock;
}

export interface ImportOptions {
  /** An account name; found or created. Needed for files that print no account number. */
  account?: string | undefined;
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
  >;
  warnings: string[];
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
  const { parsed, extraction } = await parseWithFallback(bytes, path, deps);
  if (parsed.transactions.length === 0) {
    throw new NightshiftError(
      `${path}: cannot import: the statement has no transactions; nothing was imported`,
      {
        code: "empty_statement",
      },
    );
  }
  const reconciliation = reconcileStatement(parsed);
  if (extraction === "model" && reconciliation.status !== "reconciled") {
    throw new NightshiftError(
      `${path}: cannot import: the parser does not know this layout, and the model's reading did not reconcile (${reconciliation.problems.join("; ") || "nothing printed to check it against"}); export a CSV or OFX from your bank`,
      { code: "layout_unknown" },
    );
  }
  return deps.store.transaction(() =>
    store(file, sha, parsed, reconciliation, extraction, deps, options),
  );
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

async function parseWithFallback(bytes: Uint8Array, path: string, deps: ImportDeps) {
  try {
    return {
      parsed: await parseStatementBytes(bytes, path, deps.config),
      extraction: "parser" as const,
    };
  } catch (error) {
    if (!(error instanceof NightshiftError) || error.code !== "layout_unknown" || !deps.extract)
      throw error;
    let parsed: ParsedStatement;
    try {
      parsed = await deps.extract(bytes, path);
    } catch (failure) {
      if (!(failure instanceof NightshiftError)) throw failure;
      throw new NightshiftError(
        `${error.message}; reading it with a model failed too: ${describeError(failure)}`,
        {
          code: "layout_unknown",
          cause: failure,
        },
      );
    }
    if (parsed.transactions.some((t) => !Number.isSafeInteger(t.amountCents))) {
      throw new NightshiftError(
        `${error.message}; the model's reading has amounts that are not amounts`,
        { code: "layout_unknown" },
      );
    }
    for (const t of parsed.transactions) t.payee = payeeFromDescription(t.description);
    return { parsed, extraction: "model" as const };
  }
}

function store(
  file: string,
  sha: string,
  parsed: ParsedStatement,
  reconciliation: Reconciliation,
  extraction: "parser" | "model",
  deps: ImportDeps,
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
    flags: [...reconciliation.flags, ...(extraction === "model" ? ["model_extracted"] : [])],
    transactionCount: 0,
    duplicatesSkipped: 0,
    importedAt: now,
  });
  const counts = storeTransactions(statementId, account, parsed, reconciliation, deps, now);
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
    reconciliation,
    warnings: parsed.warnings,
  };
}

function storeTransactions(
  statementId: number,
  account: FinanceAccount,
  parsed: ParsedStatement,
  reconciliation: Reconciliation,
  deps: ImportDeps,
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
      openDuplicateReview(deps, id, suspect.id);
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
