import type { FinanceAgent } from "../../finance/agent.js";
import { formatMoney } from "../../finance/import/amounts.js";
import type { ImportResult } from "../../finance/importer.js";
import { maskNumber } from "../../finance/mask.js";
import { uncheckedReason } from "../../finance/reconcile.js";
import type { FinanceStatement, FinanceTransaction } from "../../ledger/stores/finance.js";
import { formatLocalTime } from "../../views/table.js";
import { count } from "../../views/terminal.js";

/** How the finance commands show their results: lines, tables and --json. */

export function describeImport(
  result: ImportResult,
  showNumbers: boolean,
  currency: string,
): string {
  if (result.status === "already_imported") {
    return `${result.file}: already imported (statement ${result.statementId}, ${result.account}); nothing changed`;
  }
  const number = showNumbers && result.accountNumber ? ` (${result.accountNumber})` : "";
  const period = result.periodStart ? ` for ${result.periodStart} to ${result.periodEnd}` : "";
  const parts = [
    `${result.file}: imported ${count(result.imported, "transaction")} into "${result.account}"${number}${period}`,
  ];
  if (result.duplicatesSkipped)
    parts.push(`${result.duplicatesSkipped} already in the ledger (same bank id), skipped`);
  if (result.duplicateSuspects)
    parts.push(
      `${result.duplicateSuspects} possible duplicate(s) flagged for review (\`nightshift review\`)`,
    );
  const r = result.reconciliation;
  if (r.status === "reconciled") parts.push("reconciled: balances and totals agree");
  else if (r.status === "unchecked")
    parts.push(
      `unchecked: ${uncheckedReason(r.flags ?? []) ?? "nothing printed to check against"}`,
    );
  else
    parts.push(
      `DOES NOT RECONCILE (difference ${formatMoney(r.differenceCents ?? 0, currency)}): ${r.problems.join("; ")}`,
    );
  return [...parts, ...result.warnings.map((w) => `warning: ${w}`)].join("\n  ");
}

export function importToJson(
  result: ImportResult | { file: string; status: "failed"; error: string },
  showNumbers: boolean,
) {
  if (result.status === "failed") return result;
  const { reconciliation, accountNumber, ...rest } = result;
  return {
    file: rest.file,
    status: rest.status,
    statement_id: rest.statementId,
    account: rest.account,
    account_number:
      accountNumber === null ? null : showNumbers ? accountNumber : maskNumber(accountNumber),
    format: rest.format,
    extraction: rest.extraction,
    period_start: rest.periodStart,
    period_end: rest.periodEnd,
    imported: rest.imported,
    duplicates_skipped: rest.duplicatesSkipped,
    duplicate_suspects: rest.duplicateSuspects,
    reconcile_status: reconciliation.status,
    unchecked_reason: uncheckedReason(reconciliation.flags ?? []),
    difference_cents: reconciliation.differenceCents,
    debits_cents: reconciliation.debitsCents,
    credits_cents: reconciliation.creditsCents,
    problems: reconciliation.problems,
    flags: reconciliation.flags ?? [],
    layout: rest.layout ?? null,
    warnings: rest.warnings,
  };
}

export async function accountCurrency(agent: FinanceAgent, name: string): Promise<string> {
  const account = (await agent.store.accounts()).find((a) => a.name === name);
  return account?.currency ?? agent.config.finance.currency;
}

/** Each account's currency, so every figure is shown in its own (a euro account is not dollars). */
export async function currencies(agent: FinanceAgent): Promise<(accountId: number) => string> {
  const byId = new Map((await agent.store.accounts()).map((a) => [a.id, a.currency]));
  return (accountId) => byId.get(accountId) ?? agent.config.finance.currency;
}

export const statementColumns = (currencyOf: (accountId: number) => string) => [
  { header: "ID", value: (s: FinanceStatement) => String(s.id), align: "right" as const },
  { header: "ACCOUNT", value: (s: FinanceStatement) => s.accountName, max: 24 },
  { header: "FILE", value: (s: FinanceStatement) => s.fileName, max: 32 },
  {
    header: "PERIOD",
    value: (s: FinanceStatement) => (s.periodStart ? `${s.periodStart}..${s.periodEnd}` : "-"),
  },
  {
    header: "TXNS",
    value: (s: FinanceStatement) => String(s.transactionCount),
    align: "right" as const,
  },
  {
    header: "CHECK",
    value: (s: FinanceStatement) =>
      s.reconcileStatus === "unchecked"
        ? `unchecked: ${uncheckedReason(s.flags) ?? "nothing to check against"}`
        : s.reconcileStatus === "mismatch"
          ? "FLAGGED"
          : "reconciled",
    max: 60,
  },
  {
    header: "DIFFERENCE",
    value: (s: FinanceStatement) =>
      s.differenceCents ? formatMoney(s.differenceCents, currencyOf(s.accountId)) : "-",
    align: "right" as const,
  },
  {
    header: "IMPORTED",
    value: (s: FinanceStatement) => formatLocalTime(s.importedAt),
  },
  { header: "FLAGS", value: (s: FinanceStatement) => s.flags.join(",") },
];

export const transactionColumns = (currencyOf: (accountId: number) => string) => [
  { header: "ID", value: (t: FinanceTransaction) => String(t.id), align: "right" as const },
  { header: "DATE", value: (t: FinanceTransaction) => t.date },
  {
    header: "AMOUNT",
    value: (t: FinanceTransaction) => formatMoney(t.amountCents, currencyOf(t.accountId)),
    align: "right" as const,
  },
  { header: "DESCRIPTION", value: (t: FinanceTransaction) => t.description, max: 40 },
  { header: "CATEGORY", value: (t: FinanceTransaction) => t.category ?? "-" },
  { header: "BY", value: (t: FinanceTransaction) => t.categorySource ?? "-" },
  { header: "FLAGS", value: (t: FinanceTransaction) => t.flags.join(",") },
];

/** --json speaks the ledger's snake_case, whatever the library's camelCase. */
export function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [
      key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
      snakeKeys(v),
    ]),
  );
}
