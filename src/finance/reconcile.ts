import type { ReconcileStatus } from "../ledger/stores/finance.js";
import { formatCents } from "./import/amounts.js";
import type { ParsedStatement, PrintedTotal } from "./import/statement.js";

export interface Reconciliation {
  status: ReconcileStatus;
  /** Printed closing minus computed closing, when balances are printed. */
  differenceCents: number | null;
  debitsCents: number;
  creditsCents: number;
  /** What failed, in words a person can check against the paper. */
  problems: string[];
  flags: string[];
}

/**
 * Checks a statement against itself: opening + transactions = closing (a card's balance is what
 * is owed, so charges add to it), and the computed debits and credits must appear among the
 * totals the statement prints. A statement with nothing printed to check is "unchecked", never
 * "reconciled".
 */
export function reconcileStatement(statement: ParsedStatement): Reconciliation {
  const debitsCents = sum(
    statement.transactions.filter((t) => t.amountCents < 0).map((t) => -t.amountCents),
  );
  const creditsCents = sum(
    statement.transactions.filter((t) => t.amountCents > 0).map((t) => t.amountCents),
  );
  const net = creditsCents - debitsCents;
  const problems: string[] = [];
  const flags: string[] = [];
  let differenceCents: number | null = null;
  let checked = false;
  if (statement.openingCents !== null && statement.closingCents !== null) {
    checked = true;
    const computed =
      statement.kind === "card" ? statement.openingCents - net : statement.openingCents + net;
    differenceCents = statement.closingCents - computed;
    if (differenceCents !== 0) {
      flags.push("balance_mismatch");
      problems.push(
        `opening ${formatCents(statement.openingCents)} ${statement.kind === "card" ? "- credits + charges" : "+ credits - debits"} = ${formatCents(computed)}, but the statement prints a closing balance of ${formatCents(statement.closingCents)} (difference ${formatCents(differenceCents)})`,
      );
    }
  }
  const broken = runningBalanceBreak(statement);
  if (broken !== undefined) {
    checked = true;
    if (broken) {
      flags.push("running_balance_mismatch");
      problems.push(broken);
    }
  }
  if (statement.printedTotals.length > 0) {
    checked = true;
    for (const [side, computed] of [
      ["out", debitsCents],
      ["in", creditsCents],
    ] as const) {
      if (!totalFound(statement.printedTotals, side, computed)) {
        flags.push("totals_mismatch");
        problems.push(
          `computed ${side === "out" ? "debits" : "credits"} ${formatCents(computed)} are not among the printed totals (${statement.printedTotals.map((t) => `${t.label} ${formatCents(t.cents)}`).join(", ")})`,
        );
        differenceCents ??= difference(statement.printedTotals, side, computed);
      }
    }
  }
  // Checks that need no balance: the file contradicts the reading, whatever the balances say.
  for (const contradiction of statement.contradictions ?? []) {
    flags.push("contradiction");
    problems.push(contradiction);
  }
  const status: ReconcileStatus = problems.length
    ? "mismatch"
    : checked
      ? "reconciled"
      : "unchecked";
  if (status === "unchecked") flags.push(uncheckedFlag(statement));
  return {
    status,
    differenceCents,
    debitsCents,
    creditsCents,
    problems,
    flags: [...new Set(flags)],
  };
}

/** Why nothing could be checked, as a flag the views turn into words (see uncheckedReason). */
function uncheckedFlag(statement: ParsedStatement): string {
  if (statement.transactions.some((t) => t.balanceCents !== null))
    return "unchecked_partial_balances";
  if (statement.openingCents === null && statement.closingCents !== null)
    return "unchecked_no_opening_balance";
  return "unchecked_no_balances";
}

const UNCHECKED_REASONS: Record<string, string> = {
  unchecked_partial_balances: "only some rows print a running balance",
  unchecked_no_opening_balance: "the file prints a closing balance but no opening balance",
  unchecked_no_balances: "the file prints no balances or totals to check against",
};

/** Words for why a statement is unchecked, from its stored flags; null when it was checked. */
export function uncheckedReason(flags: string[]): string | null {
  const flag = flags.find((f) => f in UNCHECKED_REASONS);
  return flag ? UNCHECKED_REASONS[flag]! : null;
}

/**
 * Where every row prints its running balance, each must follow from the one before (in either
 * order: some banks list newest first). Returns undefined when there is nothing to check, null
 * when it holds, else where it first breaks, which points a person at the misread row.
 */
function runningBalanceBreak(statement: ParsedStatement): string | null | undefined {
  const rows = statement.transactions;
  if (rows.length < 2 || rows.some((t) => t.balanceCents === null)) return undefined;
  const sign = statement.kind === "card" ? -1 : 1;
  const firstBreak = (list: typeof rows) =>
    list.findIndex(
      (t, i) => i > 0 && list[i - 1]!.balanceCents! + sign * t.amountCents !== t.balanceCents,
    );
  const forward = firstBreak(rows);
  if (forward < 0 || firstBreak([...rows].reverse()) < 0) return null;
  const row = rows[forward]!;
  return `the running balance breaks at ${row.date} ${row.description}: ${formatCents(rows[forward - 1]!.balanceCents!)} ${row.amountCents < 0 ? "-" : "+"} ${formatCents(Math.abs(row.amountCents))} is not the printed ${formatCents(row.balanceCents!)}`;
}

/**
 * A side passes when it prints nothing, or when the computed total equals one printed figure
 * for that side (or a bare "Total"), or the sum of that side's figures (cards print purchases,
 * fees and interest apart).
 */
function totalFound(totals: PrintedTotal[], side: "in" | "out", computed: number): boolean {
  const own = totals.filter((t) => t.side === side);
  const any = totals.filter((t) => t.side === "any");
  if (own.length === 0 && any.length === 0) return true;
  if (own.length === 0 && computed === 0) return true;
  const candidates = [...own, ...any].map((t) => t.cents);
  if (own.length > 1) candidates.push(sum(own.map((t) => t.cents)));
  return candidates.includes(computed);
}

function difference(totals: PrintedTotal[], side: "in" | "out", computed: number): number | null {
  const own = totals.filter((t) => t.side === side);
  if (own.length === 0) return null;
  return sum(own.map((t) => t.cents)) - computed;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
