import { NightshiftError } from "../errors.js";
import type { FinanceAccount, FinanceReads, FinanceTransaction } from "../ledger/stores/finance.js";
import { formatMoney } from "./import/amounts.js";
import { uncheckedReason } from "./reconcile.js";

/** Moving money between one's own accounts is not spending (a card payment, a transfer). */
export const NOT_SPENDING = new Set([
  "transfer",
  "transfers",
  "credit card payment",
  "card payment",
  "savings",
  "income",
]);

export interface SpendQuery {
  category?: string | undefined;
  merchant?: string | undefined;
  /** "YYYY-MM"; the latest month with data when absent. */
  month?: string | undefined;
}

export interface MerchantFigure {
  merchant: string;
  visits: number;
  totalCents: number;
}

/** Every figure an answer may state, computed from the ledger. Spending is positive cents. */
export interface SpendFacts {
  month: string;
  category: string | null;
  merchant: string | null;
  currency: string;
  totalCents: number;
  count: number;
  /** Average spent per transaction, when there is any. */
  averageTransactionCents: number | null;
  /** Up to 3 months before `month` that have data, oldest first. */
  previousMonths: { month: string; totalCents: number }[];
  averagePreviousCents: number | null;
  /** Whole percent above (+) or below (-) that average. */
  changePct: number | null;
  /** By visits, then amount. */
  topMerchants: MerchantFigure[];
  /** Accounts in these currencies are left out (amounts in two currencies are never summed). */
  otherCurrencies: string[];
  /** Possible duplicates waiting for a person: left out of the figures until decided. */
  pendingDuplicates: { count: number; totalCents: number };
  /** Spending in the month with no category yet (it may belong to the asked category). */
  uncategorizedCount: number;
  /** Statements behind these figures that did not reconcile: unchecked (and why) or flagged. */
  unverifiedStatements: { file: string; status: "unchecked" | "mismatch"; reason: string }[];
}

export async function computeSpend(
  store: FinanceReads,
  query: SpendQuery,
  currency: string,
): Promise<SpendFacts> {
  const months = await store.months();
  if (months.length === 0) {
    throw new NightshiftError(
      "no transactions imported yet; run `nightshift finance import FILE` first",
      {
        code: "no_data",
      },
    );
  }
  if (query.month !== undefined && !/^\d{4}-(0[1-9]|1[0-2])$/.test(query.month)) {
    throw new NightshiftError(`--month "${query.month}": expected YYYY-MM, like 2026-01`);
  }
  const month = query.month ?? months.at(-1)!;
  const {
    currency: shown,
    accountIds,
    otherCurrencies,
  } = pickCurrency(await store.accounts(), currency);
  const monthRows = async (m: string) =>
    (await spendingIn(store, m)).filter((t) => accountIds.has(t.accountId));
  const rows = await monthRows(month);
  const matching = rows.filter((t) => matches(t, query) && !isPendingDuplicate(t));
  const pending = rows.filter((t) => matches(t, query) && isPendingDuplicate(t));
  // The 3 calendar months before, a month with no spending counting as zero; months before the
  // first imported one are left out (no data is not "spent nothing").
  const previousMonths = await Promise.all(
    calendarMonthsBefore(month, 3)
      .filter((m) => m >= months[0]!)
      .map(async (m) => ({
        month: m,
        totalCents: sum(
          (await monthRows(m)).filter((t) => matches(t, query) && !isPendingDuplicate(t)),
        ),
      })),
  );
  const averagePreviousCents = previousMonths.length
    ? Math.round(previousMonths.reduce((a, m) => a + m.totalCents, 0) / previousMonths.length)
    : null;
  const totalCents = sum(matching);
  return {
    month,
    category: query.category ?? null,
    merchant: query.merchant ?? null,
    currency: shown,
    otherCurrencies,
    totalCents,
    count: matching.length,
    averageTransactionCents: matching.length ? Math.round(totalCents / matching.length) : null,
    previousMonths,
    averagePreviousCents,
    changePct: averagePreviousCents
      ? Math.round(((totalCents - averagePreviousCents) / averagePreviousCents) * 100)
      : null,
    topMerchants: topMerchants(matching),
    pendingDuplicates: { count: pending.length, totalCents: sum(pending) },
    uncategorizedCount: query.category
      ? rows.filter((t) => t.category === null && !isPendingDuplicate(t)).length
      : 0,
    unverifiedStatements: await unverified(store, matching),
  };
}

/** The statements the figures rest on that are not reconciled: every answer says so. */
async function unverified(store: FinanceReads, rows: FinanceTransaction[]) {
  const ids = new Set(rows.map((t) => t.statementId));
  return (await store.statements())
    .filter((s) => ids.has(s.id) && s.reconcileStatus !== "reconciled")
    .map((s) => ({
      file: s.fileName,
      status: s.reconcileStatus as "unchecked" | "mismatch",
      reason:
        s.reconcileStatus === "unchecked"
          ? (uncheckedReason(s.flags) ?? "nothing printed to check against")
          : "its figures do not reconcile",
    }));
}

/** One line naming the unreconciled statements behind an answer, or null when all reconcile. */
export function verificationNote(facts: SpendFacts): string | null {
  if (facts.unverifiedStatements.length === 0) return null;
  const list = facts.unverifiedStatements
    .map(
      (s) =>
        `${s.file} (${s.status === "unchecked" ? `unchecked: ${s.reason}` : `FLAGGED: ${s.reason}`})`,
    )
    .join("; ");
  return `Not verified against a balance: ${list}.`;
}

/**
 * Amounts in different currencies are never added together. The configured currency is used
 * when any account is in it; when every account shares another one, that one.
 */
function pickCurrency(accounts: FinanceAccount[], configured: string) {
  const currencies = [...new Set(accounts.map((a) => a.currency))];
  const currency =
    currencies.includes(configured) || currencies.length !== 1 ? configured : currencies[0]!;
  return {
    currency,
    accountIds: new Set(accounts.filter((a) => a.currency === currency).map((a) => a.id)),
    otherCurrencies: currencies.filter((c) => c !== currency),
  };
}

/** Money out in one month, excluding confirmed copies. */
async function spendingIn(store: FinanceReads, month: string): Promise<FinanceTransaction[]> {
  return (await store.transactions({ from: `${month}-01`, to: `${month}-31` })).filter(
    (t) => t.amountCents < 0 && !t.flags.includes("duplicate"),
  );
}

function isPendingDuplicate(t: FinanceTransaction): boolean {
  return t.flags.includes("duplicate_suspect");
}

function matches(t: FinanceTransaction, query: SpendQuery): boolean {
  if (query.category !== undefined) {
    if ((t.category ?? "").toLowerCase() !== query.category.toLowerCase()) return false;
  } else if (t.category && NOT_SPENDING.has(t.category.toLowerCase())) {
    return false;
  }
  if (query.merchant !== undefined) {
    const needle = query.merchant.toLowerCase();
    return (
      merchantOf(t).toLowerCase().includes(needle) || t.description.toLowerCase().includes(needle)
    );
  }
  return true;
}

/** The name a transaction is counted under: its payee, else its description (a statement may print neither). */
export function merchantOf(t: Pick<FinanceTransaction, "payee" | "description">): string {
  return t.payee?.trim() || t.description.trim() || "(no payee or description)";
}

function topMerchants(rows: FinanceTransaction[]): MerchantFigure[] {
  const byMerchant = new Map<string, MerchantFigure>();
  for (const t of rows) {
    const name = merchantOf(t);
    const key = name.toLowerCase();
    const figure = byMerchant.get(key) ?? { merchant: name, visits: 0, totalCents: 0 };
    figure.visits++;
    figure.totalCents += -t.amountCents;
    byMerchant.set(key, figure);
  }
  return [...byMerchant.values()]
    .sort(
      (a, b) =>
        b.visits - a.visits || b.totalCents - a.totalCents || a.merchant.localeCompare(b.merchant),
    )
    .slice(0, 5);
}

function sum(rows: FinanceTransaction[]): number {
  return rows.reduce((a, t) => a - t.amountCents, 0);
}

/** The plain answer from the facts alone: what `spend` prints and what `ask` falls back to. */
export function describeSpend(facts: SpendFacts): string {
  const money = (cents: number) => formatMoney(cents, facts.currency);
  const subject = [
    facts.category ? `on ${facts.category}` : "",
    facts.merchant ? `at ${facts.merchant}` : "",
  ]
    .filter(Boolean)
    .join(" ");
  const lines = [
    `You spent ${money(facts.totalCents)}${subject ? ` ${subject}` : ""} in ${monthName(facts.month)} (${facts.count} transaction${facts.count === 1 ? "" : "s"}).`,
  ];
  if (facts.averagePreviousCents !== null && facts.changePct !== null) {
    const n = facts.previousMonths.length;
    const direction = facts.changePct >= 0 ? "above" : "below";
    lines.push(
      `That's ${Math.abs(facts.changePct)}% ${direction} your ${n}-month average of ${money(facts.averagePreviousCents)}.`,
    );
  } else if (facts.averagePreviousCents === 0) {
    lines.push(`Nothing in the ${facts.previousMonths.length} month(s) before.`);
  }
  const top = facts.topMerchants[0];
  if (top)
    lines.push(
      `Top merchant: ${top.merchant} (${top.visits} visit${top.visits === 1 ? "" : "s"}, ${money(top.totalCents)}).`,
    );
  const note = verificationNote(facts);
  if (note) lines.push(note);
  if (facts.pendingDuplicates.count > 0) {
    lines.push(
      `Not counted: ${facts.pendingDuplicates.count} possible duplicate(s) of ${money(facts.pendingDuplicates.totalCents)} waiting for review (\`nightshift review\`).`,
    );
  }
  if (facts.otherCurrencies.length > 0) {
    lines.push(`Accounts in ${facts.otherCurrencies.join(", ")} are not included.`);
  }
  if (facts.uncategorizedCount > 0) {
    lines.push(
      `${facts.uncategorizedCount} transaction(s) that month have no category yet; run \`nightshift finance categorize\`.`,
    );
  }
  return lines.join(" ");
}

export function monthName(month: string): string {
  const [year, m] = month.split("-").map(Number);
  return new Date(Date.UTC(year!, m! - 1, 1)).toLocaleString("en-US", {
    month: "long",
    year: "numeric",
    timeZone: "UTC",
  });
}

/** "2026-03", 3 → ["2025-12", "2026-01", "2026-02"]. */
export function calendarMonthsBefore(month: string, count: number): string[] {
  const [year, m] = month.split("-").map(Number) as [number, number];
  return Array.from({ length: count }, (_, i) => {
    const index = year * 12 + (m - 1) - (count - i);
    return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, "0")}`;
  });
}
