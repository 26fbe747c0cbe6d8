import type { DecimalMark } from "./amounts.js";
import {
  amountCell,
  type ColumnProfile,
  isAmountColumn,
  isDateColumn,
  isTextColumn,
  mostly,
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
  /** The balance column prints each row's balance before it (ASN), not after. */
  balanceBefore?: boolean | undefined;
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
      // Two values over many rows are a type, unless no value repeats (a sparse column of names).
      !(rows.length >= 4 && p.distinct <= 2 && p.filled > p.distinct),
  );
  return {
    columns: {
      balanceBefore:
        money.balance !== null && balanceBefore(...signedAndBalance(money, rows, decimal)),
      date,
      description,
      payee:
        payee?.index ??
        (profiles.every((p) => p.header === "")
          ? secondText(profiles, taken, description, rows.length)
          : null),
      ...money,
      sign,
      id,
      currency,
    },
    missing,
    assumed,
  };
}

/** Without a header, the next-richest text column may be the payee (or the description). */
function secondText(
  profiles: ColumnProfile[],
  taken: Set<number>,
  description: number,
  rowCount: number,
): number | null {
  const rest = new Set([...taken, description]);
  const next = pickDescription(profiles, rest, rowCount);
  if (next === null) return null;
  const p = profiles[next]!;
  return rowCount >= 4 && p.distinct <= 2 ? null : next;
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
  // A named amount column of zeros ("Shipping and Handling Amount") is not the amount.
  const live = ordered.filter((p) => p.roles[0] !== "amount" || p.nonzero > 0);
  const named = (role: HeaderRole) => live.find((p) => p.roles[0] === role)?.index ?? null;
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
    // Of several amount columns (gross, net, fee), the one the running balance follows.
    const amounts = live.filter((p) => p.roles[0] === "amount").map((p) => p.index);
    const chained = balance === null ? null : amounts.find((a) => chains(a, balance!, column));
    const chosen = chained ?? amount;
    balance ??= chainedBalance(numeric, chosen, column);
    return { amount: chosen, debit: null, credit: null, balance };
  }
  if (debit !== null && credit !== null && debit !== credit) {
    return { amount: null, debit, credit, balance };
  }
  const rest = numeric.filter((p) => p.index !== balance);
  const full = (p: ColumnProfile) => p.filled >= Math.ceil(rows.length * 0.9);
  // Unnamed: the column whose running sum another column follows is the amount.
  for (const candidate of rest.filter(full)) {
    const chained = balance ?? chainedBalance(numeric, candidate.index, column);
    if (chained !== null && chained !== candidate.index)
      return { amount: candidate.index, debit: null, credit: null, balance: chained };
  }
  const pair = unnamedPair(rest, rows, decimal, assumed);
  if (pair) return pair;
  const fullRest = rest.filter(full);
  if (fullRest.length === 1)
    return { amount: fullRest[0]!.index, debit: null, credit: null, balance };
  // Two full unnamed columns that do not chain: the signed one is the amount, the other a
  // balance that the check will then hold against it (and flag).
  const signed = fullRest.filter((p) => p.negatives > 0);
  if (fullRest.length === 2 && signed.length === 1 && balance === null) {
    const other = fullRest.find((p) => p !== signed[0])!;
    return { amount: signed[0]!.index, debit: null, credit: null, balance: other.index };
  }
  return null;
}

/** Each row's signed amount and printed balance, for telling how the balance column runs. */
function signedAndBalance(
  money: Money,
  rows: string[][],
  decimal: DecimalMark,
): [(number | null)[], (number | null)[]] {
  const value = (row: string[], i: number | null) =>
    i === null ? null : amountCell(row[i] ?? "", decimal);
  const amounts = rows.map((row) =>
    money.amount !== null
      ? value(row, money.amount)
      : Math.abs(value(row, money.credit) ?? 0) - Math.abs(value(row, money.debit) ?? 0),
  );
  return [amounts, rows.map((row) => value(row, money.balance))];
}

function chains(amount: number, balance: number, column: (i: number) => (number | null)[]) {
  const [a, b] = [column(amount), column(balance)];
  return follows(a, b) || follows([...a].reverse(), [...b].reverse());
}

/**
 * Two figure columns never both filled on one row (a zero counts as empty): money out and money
 * in. Which is which: the printed signs, else the running balance (a third column that follows
 * one reading), else the busier one is money out (most rows of a statement are spending) and
 * the statement is flagged as assumed.
 */
function unnamedPair(
  rest: ColumnProfile[],
  rows: string[][],
  decimal: DecimalMark,
  assumed: string[],
): Money | null {
  const value = (row: string[], i: number) => amountCell(row[i] ?? "", decimal) ?? 0;
  for (let x = 0; x < rest.length; x++) {
    for (let y = x + 1; y < rest.length; y++) {
      const [a, b] = [rest[x]!, rest[y]!];
      if (rows.some((row) => value(row, a.index) !== 0 && value(row, b.index) !== 0)) continue;
      const neither = rows.filter((row) => value(row, a.index) === 0 && value(row, b.index) === 0);
      if (neither.length > rows.length * 0.1) continue;
      const others = rest.filter((p) => p !== a && p !== b);
      return orderPair(a, b, others, rows, value, assumed);
    }
  }
  return null;
}

function orderPair(
  a: ColumnProfile,
  b: ColumnProfile,
  others: ColumnProfile[],
  rows: string[][],
  value: (row: string[], i: number) => number,
  assumed: string[],
): Money {
  const pair = (debit: ColumnProfile, credit: ColumnProfile) => ({
    amount: null,
    debit: debit.index,
    credit: credit.index,
  });
  if (a.negatives > 0 !== b.negatives > 0) {
    const [debit, credit] = a.negatives > 0 ? [a, b] : [b, a];
    return { ...pair(debit, credit), balance: findChain(others, rows, debit, credit, value) };
  }
  for (const [debit, credit] of [
    [a, b],
    [b, a],
  ] as const) {
    const balance = findChain(others, rows, debit, credit, value);
    if (balance !== null) return { ...pair(debit, credit), balance };
  }
  assumed.push("sign_assumed");
  const [debit, credit] = a.filled >= b.filled ? [a, b] : [b, a];
  return { ...pair(debit, credit), balance: null };
}

function findChain(
  others: ColumnProfile[],
  rows: string[][],
  debit: ColumnProfile,
  credit: ColumnProfile,
  value: (row: string[], i: number) => number,
): number | null {
  const amounts = rows.map(
    (row) => Math.abs(value(row, credit.index)) - Math.abs(value(row, debit.index)),
  );
  for (const other of others) {
    const balances = rows.map((row) =>
      (row[other.index] ?? "").trim() ? value(row, other.index) : null,
    );
    if (follows(amounts, balances) || follows([...amounts].reverse(), [...balances].reverse()))
      return other.index;
  }
  return null;
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

/**
 * A balance column follows the amounts: each row's balance is the one before plus its amount
 * (the balance after the row), or plus the amount of the row before (ASN prints the balance
 * *before* each row).
 */
function follows(amounts: (number | null)[], balances: (number | null)[]): boolean {
  return linked(amounts, balances, 0) || linked(amounts, balances, 1);
}

/** The balance column holds each row's balance before the row, not after it. */
export function balanceBefore(amounts: (number | null)[], balances: (number | null)[]): boolean {
  const [a, b] = [[...amounts].reverse(), [...balances].reverse()];
  return (
    !linked(amounts, balances, 0) &&
    !linked(a, b, 0) &&
    (linked(amounts, balances, 1) || linked(a, b, 1))
  );
}

function linked(amounts: (number | null)[], balances: (number | null)[], lag: 0 | 1): boolean {
  let links = 0;
  let holds = 0;
  for (let i = 1; i < balances.length; i++) {
    const [before, now, amount] = [balances[i - 1], balances[i], amounts[i - lag]];
    if (before == null || now == null || amount == null) continue;
    links++;
    if (before + amount === now) holds++;
  }
  // A balance before each row is the rarer layout: one link could be a coincidence.
  return links > lag && holds >= Math.max(1, Math.ceil(links * 0.9));
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
  const candidates = profiles.filter((p) => !taken.has(p.index) && isTextColumn(p));
  // A column of the counterparty's account numbers ("NL28 INGB 1200 3244 16") names no one.
  const named = candidates.filter((p) => p.accounts * 2 < p.filled);
  const texts = named.length > 0 ? named : candidates;
  const few = (p: ColumnProfile) => rowCount >= 4 && p.distinct <= Math.max(2, rowCount * 0.25);
  const rank = (p: ColumnProfile) => {
    return (
      (few(p) ? 0 : 100) +
      // Blank in half the rows or more: notes on some transactions (or the cells a ragged row
      // pushed past the others' ends), not what tells them apart.
      (p.filled * 2 <= rowCount && rowCount >= 3 ? -30 : 0) +
      // A status ("Complete") or a kind ("Merchant Transaction") in nearly every row: a type.
      (mostly(p, p.kinds) ? -60 : 0) +
      (p.roles.includes("description") ? 20 : p.roles.includes("payee") ? 10 : 0) +
      (p.distinct + p.texts) / Math.max(1, 2 * p.filled) -
      // Short codes ("UMC-", "POS") are types, not descriptions.
      (p.length < 6 && p.roles.length === 0 ? 0.5 : 0)
    );
  };
  let best: ColumnProfile | null = null;
  for (const p of texts) if (!best || rank(p) > rank(best)) best = p;
  return best?.index ?? null;
}
