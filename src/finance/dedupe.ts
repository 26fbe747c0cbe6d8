import type { FinanceStore, FinanceTransaction } from "../ledger/finance-store.js";
import type { ParsedTransaction } from "./import/statement.js";

export type DuplicateVerdict =
  | { kind: "new" }
  /** The bank's own id is already in the ledger: the same transaction, skipped. */
  | { kind: "same_bank_id"; existing: FinanceTransaction }
  /** Same account and amount a few days apart: maybe the same, for a person to decide. */
  | { kind: "suspect"; existing: FinanceTransaction };

/**
 * Where an incoming transaction stands against the ledger. Only the bank's id proves identity;
 * a match on amount and date is never merged, only flagged. Among several candidates the same
 * payee wins, then the closest date.
 */
export function checkDuplicate(
  store: FinanceStore,
  accountId: number,
  statementId: number,
  transaction: ParsedTransaction,
  windowDays: number,
  claimed: Set<number>,
): DuplicateVerdict {
  if (transaction.bankId) {
    const existing = store.byBankId(accountId, transaction.bankId);
    if (existing) return { kind: "same_bank_id", existing };
  }
  const from = shiftDate(transaction.date, -windowDays);
  const to = shiftDate(transaction.date, windowDays);
  const candidates = store
    .duplicateCandidates(accountId, transaction.amountCents, from, to, statementId)
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
