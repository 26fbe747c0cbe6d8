import { type DecimalMark, type ParsedAmount, parseAmount } from "./amounts.js";
import { type DayMonthOrder, parseDate } from "./dates.js";
import { normalizeHeader } from "./header-names.js";
import type { Cell, Line } from "./pdf-text.js";
import {
  type AccountKind,
  type ParsedTransaction,
  type PrintedTotal,
  payeeFromDescription,
} from "./statement.js";

/**
 * The transaction table of a PDF statement, from its rebuilt lines: columns from the header
 * row, rows from the lines below it.
 */

type Role = "date" | "description" | "debit" | "credit" | "amount" | "balance";
interface Column {
  role: Role;
  x0: number;
  x1: number;
}

const HEADERS: [Role, RegExp][] = [
  [
    "date",
    /^(?:(?:trans(?:action)?|posting|post|posted|value|booking|txn)\.?\s+)?date$|^datum$|^fecha$|^buchungstag$/i,
  ],
  [
    "description",
    /^(?:description|details|transaction details|transaction|particulars|payee|merchant|narrative|reference|verwendungszweck|buchungstext|concepto|libellé)$/i,
  ],
  ["debit", /^(?:debits?|withdrawals?|money out|paid out|debit amount|soll|lastschrift|cargo)$/i],
  ["credit", /^(?:credits?|deposits?|money in|paid in|credit amount|haben|gutschrift|abono)$/i],
  ["amount", /^(?:amount|amount \(\w+\)|betrag|importe|montant)$/i],
  ["balance", /^(?:balance|saldo|solde)$/i],
];

const SUMMARY_ROW =
  /^(?:(?:opening|closing|beginning|ending|starting|previous|new)\s+balance|balance (?:brought|carried) forward|balance forward|totals?\b|subtotal|summe|anfangssaldo|endsaldo)/i;
const FOOTER = /^(?:page \d+|seite \d+|continued|\d+ of \d+)/i;

export interface TableContext {
  decimal: DecimalMark;
  order: DayMonthOrder;
  kind: AccountKind;
  file: string;
}

export interface Row {
  date: ReturnType<typeof parseDate> & object;
  dateText: string;
  transaction: Omit<ParsedTransaction, "date">;
}

interface Table {
  found: boolean;
  rows: Row[];
  /** Lines read as transactions, kept out of the figures scan ("PAYMENT THANK YOU" is no total). */
  consumed: Set<number>;
  /** Totals rows inside the table, each figure's side told by its column. */
  totals: PrintedTotal[];
  warnings: string[];
}

/**
 * Walks the lines page by page: a header row sets the columns (repeated on each page); below it,
 * a line with a date and an amount starts a transaction, a line with only text inside the
 * description column continues the one before, and a totals row or the page's end closes it.
 */
export function readTable(lines: Line[], ctx: TableContext): Table {
  const table: Table = { found: false, rows: [], consumed: new Set(), totals: [], warnings: [] };
  let columns: Column[] | null = null;
  let page = 0;
  let last: { row: Row; line: Line } | null = null;
  let pendingDate: { date: Row["date"]; text: string; description: string } | null = null;
  lines.forEach((line, index) => {
    if (line.page !== page) {
      page = line.page;
      columns = null;
      last = null;
    }
    const header = headerColumns(line);
    if (header) {
      columns = header;
      table.found = true;
      table.consumed.add(index);
      return;
    }
    if (!columns) return;
    const read = readCells(line.cells, columns, ctx);
    if (SUMMARY_ROW.test(read.description)) {
      if (/^(?:totals?|subtotal|summe)\b/i.test(read.description) && read.amount) {
        for (const { role, value } of read.amount) {
          const side =
            role === "debit" ? "out" : role === "credit" ? "in" : role === "amount" ? "any" : null;
          if (side) table.totals.push({ label: read.description, side, cents: value.cents });
        }
        table.consumed.add(index);
      }
      last = null;
      pendingDate = null;
      return;
    }
    const hasAmount = read.amount !== null;
    if (read.date && hasAmount) {
      last = { row: makeRow(read.date, read.dateText, read.description, read, ctx), line };
      table.rows.push(last.row);
      table.consumed.add(index);
      pendingDate = null;
    } else if (read.date && !hasAmount && read.description) {
      pendingDate = { date: read.date, text: read.dateText, description: read.description };
      table.consumed.add(index);
    } else if (!read.date && hasAmount && (pendingDate || last)) {
      const date = pendingDate ?? {
        date: last!.row.date,
        text: last!.row.dateText,
        description: "",
      };
      const description = [date.description, read.description].filter(Boolean).join(" ");
      last = { row: makeRow(date.date, date.text, description, read, ctx), line };
      table.rows.push(last.row);
      table.consumed.add(index);
      pendingDate = null;
    } else if (
      !read.date &&
      !hasAmount &&
      read.description &&
      last &&
      continues(line, last.line, columns)
    ) {
      last.row.transaction.description = `${last.row.transaction.description} ${read.description}`;
      last.line = line;
      table.consumed.add(index);
    }
  });
  for (const row of table.rows)
    row.transaction.payee = payeeFromDescription(row.transaction.description);
  return table;
}

function headerColumns(line: Line): Column[] | null {
  const columns = line.cells.flatMap(headerCells);
  const has = (role: Role) => columns.some((c) => c.role === role);
  const money = has("amount") || has("debit") || has("credit");
  return has("date") && has("description") && money ? columns : null;
}

// OCR'd text layers add noise to headings ("AMOUNT (SGD)I"): the normalized name is tried too.
const roleOf = (text: string) =>
  HEADERS.find(([, pattern]) => pattern.test(text))?.[0] ??
  HEADERS.find(([, pattern]) => pattern.test(normalizeHeader(text)))?.[0];

/**
 * A header cell's columns. Tight headers run together ("Date Description"), so a cell that is
 * not one heading is read as consecutive headings, their positions estimated from the text.
 */
function headerCells(cell: Cell): Column[] {
  const whole = roleOf(cell.text);
  if (whole) return [{ role: whole, x0: cell.x0, x1: cell.x1 }];
  const words = cell.text.split(" ");
  const perChar = (cell.x1 - cell.x0) / cell.text.length;
  const columns: Column[] = [];
  let at = 0;
  let offset = 0;
  while (at < words.length) {
    const n = [3, 2, 1].find(
      (k) => at + k <= words.length && roleOf(words.slice(at, at + k).join(" ")),
    );
    if (!n) return [];
    const text = words.slice(at, at + n).join(" ");
    columns.push({
      role: roleOf(text)!,
      x0: cell.x0 + offset * perChar,
      x1: cell.x0 + (offset + text.length) * perChar,
    });
    offset += text.length + 1;
    at += n;
  }
  return columns;
}

interface ReadCells {
  date: Row["date"] | null;
  dateText: string;
  description: string;
  amount: { role: Role; value: ParsedAmount }[] | null;
}

function readCells(cells: Cell[], columns: Column[], ctx: TableContext): ReadCells {
  const numeric = columns.filter((c) => c.role !== "date" && c.role !== "description");
  const moneyStart = Math.min(...numeric.map((c) => c.x0)) - 2;
  const description = columns.find((c) => c.role === "description")!;
  const result: ReadCells = { date: null, dateText: "", description: "", amount: null };
  const words: string[] = [];
  const amounts: { role: Role; value: ParsedAmount }[] = [];
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i]!;
    const next = cells[i + 1];
    if (result.date === null && words.length === 0 && cell.x0 < description.x0 - 1) {
      const split = leadingDate(cell.text, ctx.order);
      if (split) {
        result.date = split.date;
        result.dateText = split.text;
        if (split.rest) words.push(split.rest);
        continue;
      }
    }
    if (
      result.date !== null &&
      words.length === 0 &&
      cell.x0 < description.x0 - 1 &&
      parseDate(cell.text, ctx.order)
    )
      continue;
    if (cell.x1 > moneyStart) {
      const marker = next && /^(?:CR|DR)$/i.test(next.text) ? ` ${next.text.toUpperCase()}` : "";
      const value = parseAmount(`${cell.text}${marker}`, ctx.decimal);
      if (value) {
        amounts.push({ role: nearestColumn(cell, numeric).role, value });
        if (marker) i++;
        continue;
      }
    }
    words.push(cell.text);
  }
  result.description = words.join(" ").trim();
  const money = amounts.filter((a) => a.role !== "balance");
  result.amount = money.length > 0 ? amounts : null;
  return result;
}

/**
 * A date at the start of a cell, with what follows: a tight layout runs the date column into the
 * description ("2026-03-02 GROCER"), and a date can be one to three words ("5 Jan 2026").
 */
function leadingDate(
  text: string,
  order: DayMonthOrder,
): { date: Row["date"]; text: string; rest: string } | null {
  const words = text.split(" ");
  for (let n = Math.min(3, words.length); n >= 1; n--) {
    const head = words.slice(0, n).join(" ");
    const date = parseDate(head, order);
    if (date) return { date, text: head, rest: words.slice(n).join(" ") };
  }
  return null;
}

/** Figures are right-aligned in their columns, so the right edge says which column. */
function nearestColumn(cell: Cell, columns: Column[]): Column {
  return columns.reduce((best, c) =>
    Math.abs(c.x1 - cell.x1) < Math.abs(best.x1 - cell.x1) ? c : best,
  );
}

function makeRow(
  date: Row["date"],
  dateText: string,
  description: string,
  read: ReadCells,
  ctx: TableContext,
): Row {
  let amountCents = 0;
  let balanceCents: number | null = null;
  for (const { role, value } of read.amount ?? []) {
    const negative = value.negative || value.marker === "DR";
    if (role === "debit") amountCents -= value.cents;
    else if (role === "credit") amountCents += value.cents;
    else if (role === "balance")
      balanceCents = negative && !(ctx.kind === "card") ? -value.cents : value.cents;
    // A card's single column prints charges plain and payments with CR or a minus.
    else if (ctx.kind === "card")
      amountCents += negative || value.marker === "CR" ? value.cents : -value.cents;
    else amountCents += negative ? -value.cents : value.cents;
  }
  return {
    date,
    dateText,
    transaction: { amountCents, description, payee: null, bankId: null, balanceCents },
  };
}

/** A wrapped description sits in the description column, a line or so below. */
function continues(line: Line, previous: Line, columns: Column[]): boolean {
  const description = columns.find((c) => c.role === "description")!;
  const first = line.cells[0]!;
  if (FOOTER.test(line.text)) return false;
  if (first.x0 < description.x0 - 3) return false;
  return previous.page === line.page && previous.y - line.y < line.size * 2.2;
}
