import { NightshiftError } from "../../errors.js";
import { type DecimalMark, formatCents } from "./amounts.js";
import { amountCell, markerSide } from "./column-profile.js";
import type { CsvTable } from "./csv.js";
import type { Columns } from "./csv-layout.js";
import { type DateStyle, readDateCell } from "./date-cells.js";
import { toIso } from "./dates.js";
import { type ParsedTransaction, payeeFromDescription } from "./statement.js";

export interface RowsRead {
  transactions: ParsedTransaction[];
  balances: { opening: number; closing: number } | null;
  currency: string | null;
  warnings: string[];
  contradictions: string[];
  flags: string[];
}

interface Ctx {
  columns: Columns;
  decimal: DecimalMark;
  style: DateStyle;
  file: string;
  /** Apply the marker column's side to unsigned amounts; with signed amounts, only compare. */
  applyMarker: boolean;
  /** Lines whose marker cell says neither debit nor credit. */
  unmarked: string[];
}

/**
 * Reads every body row with a date into a transaction. Rows without a date (a totals line, a
 * note at the end) are skipped and named in a warning, never dropped in silence.
 */
export function readCsvRows(
  table: CsvTable,
  columns: Columns,
  decimal: DecimalMark,
  style: DateStyle,
  /** Told the rows read so far, per row (the caller keeps it cheap). */
  onRow?: (done: number, total: number) => void,
): RowsRead {
  const inverted = markersAllDisagree(table, columns, decimal);
  const amounts = table.body.map((row) =>
    amountCell(row.cells[columns.amount ?? -1] ?? "", decimal),
  );
  const ctx: Ctx = {
    columns,
    decimal,
    style,
    file: table.file,
    applyMarker:
      columns.sign !== null && (inverted || amounts.every((cents) => cents === null || cents >= 0)),
    unmarked: [],
  };
  const transactions: ParsedTransaction[] = [];
  const skipped: number[] = [];
  const noAmount: number[] = [];
  const balanceLines: number[] = [];
  const conflicts: string[] = [];
  const total = table.body.length;
  let done = 0;
  for (const row of table.body) {
    onRow?.(done++, total);
    const date = readDateCell(row.cells[columns.date] ?? "", style);
    if (BALANCE_LINE.test((row.cells[columns.description] ?? "").trim())) {
      balanceLines.push(row.line);
      continue;
    }
    if (!date || date.year === null) {
      if (rowHasAmount(row.cells, ctx)) skipped.push(row.line);
      else if (transactions.length > 0 && continuesText(row.cells, columns))
        appendText(transactions.at(-1)!, row.cells, columns);
      continue;
    }
    if (!rowHasAmount(row.cells, ctx)) {
      // A dated row with no figure (a pending or a note row) is no movement: named, not guessed.
      noAmount.push(row.line);
      continue;
    }
    const where = `${table.file} line ${row.line}`;
    const transaction = readRow(row.cells, ctx, where, toIso({ ...date, year: date.year }));
    const conflict = markerConflict(row.cells, ctx, transaction.amountCents);
    if (conflict) conflicts.push(`line ${row.line}: ${conflict}`);
    transactions.push(transaction);
  }
  onRow?.(total, total);
  const flags: string[] = [];
  const warnings = skipped.length
    ? [
        `skipped ${skipped.length} line(s) with an amount but no date (line ${skipped.slice(0, 5).join(", ")}): totals or notes, not transactions`,
      ]
    : [];
  if (noAmount.length) {
    flags.push("rows_without_amount");
    warnings.push(
      `skipped ${noAmount.length} dated line(s) with no amount (line ${noAmount.slice(0, 5).join(", ")}): check them against the bank's own view`,
    );
  }
  if (inverted) {
    flags.push("sign_from_marker");
    warnings.push(
      "every debit/credit marker disagrees with its amount's sign (the export signs amounts the other way round): the markers were followed",
    );
  }
  if (balanceLines.length)
    warnings.push(
      `line ${balanceLines.join(", ")}: a balance line (opening or closing balance), not a transaction`,
    );
  if (ctx.unmarked.length) {
    flags.push("sign_assumed");
    warnings.push(
      `${ctx.unmarked.length} row(s) have no debit/credit marker (line ${ctx.unmarked.slice(0, 5).join(", ")}): read as money out`,
    );
  }
  if (unsignedAmounts(transactions, columns)) {
    // A headerless export says nothing of what its figures are: unsigned figures there are the
    // charges of a card or the money out of an account. A column the bank named is read as printed.
    const named = (table.header?.[columns.amount!] ?? "").trim() !== "";
    if (!named) for (const t of transactions) t.amountCents = -t.amountCents;
    flags.push("sign_assumed");
    warnings.push(
      named
        ? "every amount is unsigned and nothing marks money out: read as printed (money in); map a sign column in finance.csv_layouts if that is wrong"
        : "every amount is unsigned and nothing marks money in: read as charges (money out), as card exports print them; map a sign column in finance.csv_layouts if that is wrong",
    );
  }
  return {
    flags,
    transactions,
    balances: readBalances(transactions),
    currency: currencyOf(table, columns),
    warnings,
    contradictions: contradictions(transactions, conflicts, table, columns),
  };
}

/**
 * A row with no date and no figure whose only text sits in the description or payee column
 * continues the transaction above it: banks wrap a long description onto a second line
 * ("DEBIT PURCHASE" then "15/04/18 UBER EATS ..." under it).
 */
function continuesText(cells: string[], columns: Columns): boolean {
  const text = new Set([columns.description, columns.payee]);
  const filled = cells.flatMap((cell, i) => (cell.trim() ? [i] : []));
  return (
    filled.length > 0 &&
    filled.every((i) => text.has(i)) &&
    !filled.some((i) => /^[-+(]?\D{0,3}\d[\d.,' ]*\)?-?$/.test(cells[i]!.trim())) &&
    !BALANCE_LINE.test(cells[columns.description]?.trim() ?? "")
  );
}

function appendText(transaction: ParsedTransaction, cells: string[], columns: Columns): void {
  const more = (cells[columns.description] ?? "").replace(/\s+/g, " ").trim();
  if (more) transaction.description = `${transaction.description} ${more}`.trim();
  const payee = columns.payee === null ? "" : (cells[columns.payee] ?? "").trim();
  if (payee && !transaction.payee) transaction.payee = payee;
}

function rowHasAmount(cells: string[], ctx: Ctx): boolean {
  const { amount, debit, credit } = ctx.columns;
  return [amount, debit, credit].some(
    (i) => i !== null && amountCell(cells[i] ?? "", ctx.decimal) !== null,
  );
}

function readRow(cells: string[], ctx: Ctx, where: string, date: string): ParsedTransaction {
  const { columns } = ctx;
  const cell = (i: number | null) => (i === null ? "" : (cells[i] ?? "").trim());
  const money = (i: number | null, name: string): number | null => {
    const raw = cell(i);
    if (raw === "") return null;
    const cents = amountCell(raw, ctx.decimal);
    if (cents === null)
      throw new NightshiftError(`${where}: ${name} "${raw}" is not an amount`, {
        code: "bad_file",
      });
    return cents;
  };
  let amountCents = money(columns.amount, "amount");
  if (amountCents === null) {
    const debit = money(columns.debit, "debit");
    const credit = money(columns.credit, "credit");
    if (debit === null && credit === null)
      throw new NightshiftError(`${where}: no amount`, { code: "bad_file" });
    amountCents = Math.abs(credit ?? 0) - Math.abs(debit ?? 0);
  }
  if (ctx.applyMarker) {
    const side = markerSide(cell(columns.sign));
    if (!side) ctx.unmarked.push(where.replace(/^.* line /, ""));
    // A row whose marker is missing or unknown is read as money out, and the statement flagged.
    amountCents = side === "credit" ? Math.abs(amountCents) : -Math.abs(amountCents);
  }
  const description = cell(columns.description).replace(/\s+/g, " ");
  const payeeCell = cell(columns.payee);
  return {
    date,
    amountCents,
    description: description || payeeCell,
    payee: payeeCell || payeeFromDescription(description),
    bankId: cell(columns.id) || null,
    balanceCents: balanceAfter(money(columns.balance, "balance"), amountCents, columns),
  };
}

/** The balance after the row, which is what the checks hold: ASN prints the one before it. */
function balanceAfter(printed: number | null, amount: number, columns: Columns): number | null {
  return printed !== null && columns.balanceBefore ? printed + amount : printed;
}

// Rows that print a balance, not a movement: "Saldo Anterior", "Opening balance", "Saldo final".
const BALANCE_LINE =
  /^(?:saldo(?: anterior| inicial| final| do dia)?|(?:opening|closing|previous|starting|ending|beginning|new) balance|balance (?:brought|carried) forward|anfangssaldo|endsaldo|solde (?:precedent|initial|final))(?:\s+(?:as (?:of|at)|per|on|at|au|am|vom|del?)\b.*)?$/i;

/** Every row with a marker and a signed amount says the opposite: the signs are inverted. */
function markersAllDisagree(table: CsvTable, columns: Columns, decimal: DecimalMark): boolean {
  if (columns.sign === null || columns.amount === null) return false;
  const amount = (cells: string[]) => amountCell(cells[columns.amount!] ?? "", decimal) ?? 0;
  let marked = 0;
  for (const row of table.body) {
    const side = markerSide(row.cells[columns.sign] ?? "");
    const cents = amount(row.cells);
    if (!side || cents === 0) continue;
    if ((side === "debit") === cents < 0) return false;
    marked++;
  }
  return marked > 0 && table.body.some((row) => amount(row.cells) < 0);
}

/** A marker that says debit beside money in (or credit beside money out). */
function markerConflict(cells: string[], ctx: Ctx, cents: number): string | null {
  if (ctx.columns.sign === null || ctx.applyMarker || cents === 0) return null;
  const marker = (cells[ctx.columns.sign] ?? "").trim();
  const side = markerSide(marker);
  if (!side || (side === "debit") === cents < 0) return null;
  return `marked "${marker}" but the amount is ${formatCents(cents)}`;
}

function contradictions(
  transactions: ParsedTransaction[],
  conflicts: string[],
  table: CsvTable,
  columns: Columns,
): string[] {
  const out: string[] = [];
  if (conflicts.length)
    out.push(
      `the debit/credit column disagrees with the amount's sign on ${conflicts.length} row(s) (${conflicts.slice(0, 3).join("; ")})`,
    );
  const zeros = transactions.filter((t) => t.amountCents === 0).length;
  if (zeros > 0 && zeros * 2 >= transactions.length)
    out.push(
      `${zeros} of ${transactions.length} amounts are zero: the amount column is probably not the amount`,
    );
  const distinct = new Set(transactions.map((t) => t.description)).size;
  if (transactions.length >= 6 && distinct <= 2) {
    const name = table.header?.[columns.description] ?? `column ${columns.description + 1}`;
    out.push(`the description column "${name}" holds only ${distinct} distinct value(s)`);
  }
  return out;
}

/** One unsigned amount column, no marker, no balance to follow: the sign cannot be told. */
function unsignedAmounts(transactions: ParsedTransaction[], columns: Columns): boolean {
  if (columns.amount === null || columns.sign !== null || columns.balance !== null) return false;
  return (
    transactions.some((t) => t.amountCents > 0) && transactions.every((t) => t.amountCents >= 0)
  );
}

function currencyOf(table: CsvTable, columns: Columns): string | null {
  if (columns.currency !== null) {
    const codes = new Set(table.body.map((row) => (row.cells[columns.currency!] ?? "").trim()));
    if (codes.size === 1) return [...codes][0]!;
  }
  const named = table.header?.[columns.amount ?? columns.debit ?? -1] ?? "";
  return /\(([A-Z]{3})\)/.exec(named)?.[1] ?? null;
}

/**
 * A running balance gives the opening and closing balances, whichever way the rows are sorted
 * (newest first is common). Reconciliation then checks them against the amounts.
 */
function readBalances(rows: ParsedTransaction[]): { opening: number; closing: number } | null {
  if (rows.length === 0 || rows.some((row) => row.balanceCents === null)) return null;
  const follows = (list: ParsedTransaction[]) =>
    list.every(
      (row, i) => i === 0 || list[i - 1]!.balanceCents! + row.amountCents === row.balanceCents,
    );
  const newestFirst =
    (rows[0]!.date > rows.at(-1)!.date && !follows(rows)) ||
    (!follows(rows) && follows([...rows].reverse()));
  const list = newestFirst ? [...rows].reverse() : rows;
  const first = list[0]!;
  return { opening: first.balanceCents! - first.amountCents, closing: list.at(-1)!.balanceCents! };
}
