import type { FinanceReads, FinanceTransaction } from "../ledger/stores/finance.js";
import type { ReviewQueue } from "../review/queue.js";
import type { ParsedTransaction } from "./import/statement.js";

export type DuplicateVerdict =
  | { kind: "new" }
  /** The bank's own id is already in the ledger: the same transaction, skipped. */
  | { kind: "same_bank_id"; existing: FinanceTransaction }
  /** Same account and amount a few days apart: maybe the same, for a person to decide. */
  | { kind: "suspect"; existing: FinanceTransaction };

/**
 * What the ledger holds around one statement's transactions, read in two queries for the whole
 * statement: the account's rows with any of its bank ids, and the possible duplicates of any of
 * its amounts across its dates and the window around them. Inside the import's transaction
 * nothing else changes them (finance transactions take turns), so deciding every row from it
 * gives what asking the store row by row gave.
 */
export interface DuplicateContext {
  byBankId: Map<string, FinanceTransaction>;
  candidates: FinanceTransaction[];
  windowDays: number;
}

export async function loadDuplicateContext(
  store: FinanceReads,
  accountId: number,
  statementId: number,
  transactions: readonly ParsedTransaction[],
  windowDays: number,
): Promise<DuplicateContext> {
  const bankIds = transactions.flatMap((t) => (t.bankId ? [t.bankId] : []));
  const dates = transactions.map((t) => t.date).sort();
  const amounts = transactions.map((t) => t.amountCents);
  const [known, candidates] = await Promise.all([
    bankIds.length ? store.byBankIds(accountId, bankIds) : [],
    dates.length
      ? store.duplicateCandidatesMany(
          accountId,
          amounts,
          shiftDate(dates[0]!, -windowDays),
          shiftDate(dates[dates.length - 1]!, windowDays),
          statementId,
        )
      : [],
  ]);
  return { byBankId: new Map(known.map((t) => [t.bankId!, t])), candidates, windowDays };
}

/**
 * Where an incoming transaction stands against the ledger. Only the bank's id proves identity;
 * a match on amount and date is never merged, only flagged. Among several candidates the same
 * payee wins, then the closest date. `claimed` holds candidates already matched in this import.
 */
export function judgeDuplicate(
  context: DuplicateContext,
  transaction: ParsedTransaction,
  claimed: Set<number>,
): DuplicateVerdict {
  if (transaction.bankId) {
    const existing = context.byBankId.get(transaction.bankId);
    if (existing) return { kind: "same_bank_id", existing };
  }
  const from = shiftDate(transaction.date, -context.windowDays);
  const to = shiftDate(transaction.date, context.windowDays);
  const candidates = context.candidates
    .filter((c) => c.amountCents === transaction.amountCents && c.date >= from && c.date <= to)
    // Two transactions with different bank ids are two transactions, however alike.
    .filter((c) => !(c.bankId && transaction.bankId && c.bankId !== transaction.bankId))
    .filter((c) => !claimed.has(c.id));
  if (candidates.length === 0) return { kind: "new" };
  const payee = normalize(transaction.payee ?? transaction.description);
  const score = (c: FinanceTransaction) =>
    (normalize(c.payee ?? c.description) === payee ? 0 : 1000) +
    daysBetween(c.date, transaction.date);
  const best = candidates.reduce((a, b) => (score(b) < score(a) ? b : a));
  return { kind: "suspect", existing: best };
}

/** One transaction on its own (two reads); an import decides a whole statement with the above. */
export async function checkDuplicate(
  store: FinanceReads,
  accountId: number,
  statementId: number,
  transaction: ParsedTransaction,
  windowDays: number,
  claimed: Set<number>,
): Promise<DuplicateVerdict> {
  const context = await loadDuplicateContext(
    store,
    accountId,
    statementId,
    [transaction],
    windowDays,
  );
  return judgeDuplicate(context, transaction, claimed);
}

function normalize(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, " ")
    .trim();
}

export function shiftDate(iso: string, days: number): string {
  const date = new Date(`${iso}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

function daysBetween(a: string, b: string): number {
  return Math.abs(Date.parse(a) - Date.parse(b)) / 86_400_000;
}

/** A person decides whether two alike transactions are one; accepting marks the newer a copy. */
export async function openDuplicateReview(
  deps: { store: FinanceReads; review?: ReviewQueue | undefined },
  id: number,
  existingId: number,
): Promise<void> {
  if (!deps.review) return;
  const incoming = (await deps.store.transactionById(id))!;
  const existing = (await deps.store.transactionById(existingId))!;
  const describe = (t: typeof incoming) =>
    `#${t.id} ${t.date} ${(t.amountCents / 100).toFixed(2)} ${t.description}`;
  await deps.review.open({
    kind: "duplicate_suspect",
    agent: "finance",
    title: `Possible duplicate: ${describe(incoming)} looks like ${describe(existing)}`,
    original: { transaction_id: id, duplicate_of: existingId, duplicate: null },
    proposed: { transaction_id: id, duplicate_of: existingId, duplicate: true },
    reasoning:
      "same account and amount within the duplicate window; no bank id proves them the same",
    openedBy: "finance",
    context: { incoming: describe(incoming), existing: describe(existing) },
  });
}
