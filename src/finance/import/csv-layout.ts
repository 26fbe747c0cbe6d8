import type { DecimalMark } from "./amounts.js";
import {
  amountCell,
  type ColumnProfile,
  isAmountColumn,
  isDateColumn,
  isTextColumn,
} from "./column-profile.js";
import type { HeaderRole } from "./header-names.js";

/** Which column holds what; null where the file has no such column. */
export interface Columns {
  date: number;
  description: number;
  payee: number | null;
  amount: number | null;
  debit: number | null;
  credit: number | null;
  balance: number | null;
  /** A debit/credit marker column ("Af Bij", "Transaction Type", "CRDT/DBIT"). */
  sign: number | null;
  id: number | null;
  currency: number | null;
}

export interface LayoutGuess {
  columns: Columns | null;
  /** Why no layout was found, in words a person can act on. */
  missing: string[];
  /** What the content could not prove and was assumed (flags for the statement). */
  assumed: string[];
}

/** Finds the layout from the columns' content, with header names as tie-breakers. */
export function guessLayout(
  profiles: ColumnProfile[],
  rows: string[][],
  decimal: DecimalMark,
): LayoutGuess {
  const missing: string[] = [];
  const date = pickDate(profiles);
  if (date === null) missing.push("no column of dates");
  const taken = new Set<number>(date === null ? [] : [date]);
  const assumed: string[] = [];
  const money = moneyColumns(profiles, taken, rows, decimal, assumed);
  if (!money) missing.push("no amount column (or debit and credit columns)");
  for (const i of [money?.amount, money?.debit, money?.credit, money?.balance])
    if (i !== null && i !== undefined) taken.add(i);
  const sign = pickBy(profiles, taken, (p) => p.marker, "sign");
  if (sign !== null) taken.add(sign);
  const currency = profiles.find((p) => !taken.has(p.index) && p.currencyCode)?.index ?? null;
  const id = pickBy(profiles, taken, (p) => p.filled > 0 && p.roles[0] === "id", "id");
  if (id !== null) taken.add(id);
  const description = pickDescription(profiles, taken, rows.length);
  if (description === null) missing.push("no column of descriptions");
  if (date === null || !money || description === null) return { columns: null, missing, assumed };
  const payee = profiles.find(
    (p) =>
      p.index !== description &&
      !taken.has(p.index) &&
      p.roles[0] === "payee" &&
      !/account|rekening|konto|compte|cuenta/i.test(p.header) &&
      isTextColumn(p) &&
      !(rows.length >= 4 && p.distinct <= 2),
  );
  return {
    columns: { date, description, payee: payee?.index ?? null, ...money, sign, id, currency },
    missing,
    assumed,
  };
}

function pickBy(
  profiles: ColumnProfile[],
  taken: Set<number>,
  fits: (p: ColumnProfile) => boolean,
  role: HeaderRole,
): number | null {
  const free = profiles.filter((p) => !taken.has(p.index) && fits(p));
  return (free.find((p) => p.roles.includes(role)) ?? free[0])?.index ?? null;
}

/** The booking date: a named date column before a value date, else the first column of dates. */
function pickDate(profiles: ColumnProfile[]): number | null {
  const dates = profiles.filter(isDateColumn);
  const named = dates.find((p) => p.roles[0] === "date");
  const notValue = dates.find((p) => !p.roles.includes("value_date"));
  return (named ?? notValue ?? dates[0])?.index ?? null;
}

type Money = Pick<Columns, "amount" | "debit" | "credit" | "balance">;

function moneyColumns(
  profiles: ColumnProfile[],
  taken: Set<number>,
  rows: string[][],
  decimal: DecimalMark,
  assumed: string[],
): Money | null {
  const numeric = profiles.filter((p) => !taken.has(p.index) && isAmountColumn(p));
  // The booked amount before one in the original or local currency.
  const foreign = (p: ColumnProfile) => /orig|local|foreign|fremd|oorspr|devis/i.test(p.header);
  const ordered = [...numeric.filter((p) => !foreign(p)), ...numeric.filter(foreign)];
  const named = (role: HeaderRole) => ordered.find((p) => p.roles[0] === role)?.index ?? null;
  // A labelled debit or credit column may be empty in a short file; it still names the pair.
  const namedAny = (role: HeaderRole) =>
    named(role) ??
    profiles.find((p) => !taken.has(p.index) && p.roles[0] === role && p.filled === 0)?.index ??
    null;
  let balance = named("balance");
  const amount = named("amount");
  const [debit, credit] = [namedAny("debit"), namedAny("credit")];
  const column = (i: number) => rows.map((row) => amountCell(row[i] ?? "", decimal));
  if (amount !== null) {
    balance ??= chainedBalance(numeric, amount, column);
    return { amount, debit: null, credit: null, balance };
  }
  if (debit !== null && credit !== null && debit !== credit) {
    return { amount: null, debit, credit, balance };
  }
  const rest = numeric.filter((p) => p.index !== balance);
  // Unnamed: the column whose running sum another column follows is the amount.
  for (const candidate of rest) {
    const chained = balance ?? chainedBalance(numeric, candidate.index, column);
    if (chained !== null && chained !== candidate.index)
      return { amount: candidate.index, debit: null, credit: null, balance: chained };
  }
  if (rest.length === 1) return { amount: rest[0]!.index, debit: null, credit: null, balance };
  const pair = unnamedPair(rest, rows);
  if (pair) assumed.push("sign_assumed");
  return pair ? { ...pair, balance } : null;
}

/**
 * Two unnamed figure columns never filled on the same row: money out and money in. Without a
 * name or a balance to tell them apart, the busier one is taken as money out (most rows of a
 * statement are spending) and the statement is flagged as assumed.
 */
function unnamedPair(
  rest: ColumnProfile[],
  rows: string[][],
): { amount: null; debit: number; credit: number } | null {
  if (rest.length !== 2) return null;
  const [a, b] = rest as [ColumnProfile, ColumnProfile];
  const both = rows.some((row) => (row[a.index] ?? "").trim() && (row[b.index] ?? "").trim());
  if (both || a.negatives + b.negatives > 0) return null;
  const [debit, credit] = a.filled >= b.filled ? [a, b] : [b, a];
  return { amount: null, debit: debit.index, credit: credit.index };
}

/** A column that equals the previous row's value plus this row's amount (either order). */
function chainedBalance(
  numeric: ColumnProfile[],
  amount: number,
  column: (i: number) => (number | null)[],
): number | null {
  const amounts = column(amount);
  for (const candidate of numeric) {
    if (candidate.index === amount) continue;
    const balances = column(candidate.index);
    if (follows(amounts, balances) || follows([...amounts].reverse(), [...balances].reverse()))
      return candidate.index;
  }
  return null;
}

function follows(amounts: (number | null)[], balances: (number | null)[]): boolean {
  let links = 0;
  let holds = 0;
  for (let i = 1; i < balances.length; i++) {
    const [before, now, amount] = [balances[i - 1], balances[i], amounts[i]];
    if (before == null || now == null || amount == null) continue;
    links++;
    if (before + amount === now) holds++;
  }
  return links > 0 && holds >= Math.max(1, Math.ceil(links * 0.9));
}

/**
 * The free text that tells one transaction from another: a named description column unless
 * it holds only a few distinct values (a "Details" column of DEBIT/CREDIT), then the richest.
 */
function pickDescription(
  profiles: ColumnProfile[],
  taken: Set<number>,
  rowCount: number,
): number | null {
  const texts = profiles.filter((p) => !taken.has(p.index) && isTextColumn(p));
  const few = (p: ColumnProfile) => rowCount >= 4 && p.distinct <= Math.max(2, rowCount * 0.25);
  const rank = (p: ColumnProfile) => {
    return (
      (few(p) ? 0 : 100) +
      (p.roles.includes("description") ? 20 : p.roles.includes("payee") ? 10 : 0) +
      (p.distinct + p.texts) / Math.max(1, 2 * p.filled) +
      Math.min(p.length, 60) / 1000
    );
  };
  let best: ColumnProfile | null = null;
  for (const p of texts) if (!best || rank(p) > rank(best)) best = p;
  return best?.index ?? null;
}
