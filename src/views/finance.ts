import { NOT_SPENDING } from "../finance/spend.js";
import type { FinanceStatement, FinanceTransaction } from "../ledger/stores/finance.js";

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** A transaction as the API and `--json` show it: the ledger's column names. */
export function transactionToJson(t: FinanceTransaction): Record<string, unknown> {
  return Object.fromEntries(Object.entries(t).map(([key, value]) => [snake(key), value]));
}

export function statementToJson(s: FinanceStatement): Record<string, unknown> {
  const json = Object.fromEntries(Object.entries(s).map(([key, value]) => [snake(key), value]));
  json.imported_at = new Date(s.importedAt).toISOString();
  return json;
}

/**
 * Money spent, by category and by month, in cents (positive): money out, not a confirmed or
 * suspected duplicate, not a transfer or other non-spending category. The same rule as the
 * finance agent's answers (src/finance/spend.ts).
 */
export function spendingSummary(transactions: readonly FinanceTransaction[], month: string | null) {
  const byMonth = new Map<string, number>();
  const byCategory = new Map<string, number>();
  for (const t of transactions) {
    if (
      t.amountCents >= 0 ||
      t.flags.includes("duplicate") ||
      t.flags.includes("duplicate_suspect")
    )
      continue;
    if (t.category && NOT_SPENDING.has(t.category.toLowerCase())) continue;
    const m = t.date.slice(0, 7);
    byMonth.set(m, (byMonth.get(m) ?? 0) - t.amountCents);
    if (m === month) {
      const category = t.category ?? "(uncategorized)";
      byCategory.set(category, (byCategory.get(category) ?? 0) - t.amountCents);
    }
  }
  return {
    month,
    by_month: [...byMonth]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([m, cents]) => ({ month: m, spent_cents: cents })),
    by_category: [...byCategory]
      .sort(([, a], [, b]) => b - a)
      .map(([category, cents]) => ({ category, spent_cents: cents })),
  };
}
