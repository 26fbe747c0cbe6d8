import { NOT_SPENDING } from "../finance/spend.js";
import type { FinanceTransaction } from "../ledger/finance-store.js";

export { statementToJson, transactionToJson } from "../ledger/finance-store.js";

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
