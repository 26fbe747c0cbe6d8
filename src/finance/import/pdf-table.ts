import { type DecimalMark, type ParsedAmount, parseAmount } from "./amounts.js";
import { type DayMonthOrder, parseDate } from "./dates.js";
import { type Column, headerColumns, type Role } from "./pdf-header.js";
import { dropReprintedSections } from "./pdf-sections.js";
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

const SUMMARY_ROW =
  /^(?:(?:opening|closing|beginning|ending|starting|previous|new|last month['’]?s?)\s+balance|balance (?:brought|carried) forward|balance forward|balance [bc]\/f\b|balance (?:from |of )?(?:the )?(?:previous|last) statement|previous statement balance|totals?\b|sub[- ]?totals?\b|grand total|summe|anfangssaldo|endsaldo)/i;
// Rows that print the balance the statement ends with: left to the figures scan as the closing.
const CLOSING_ROW =
  /^(?:new balance|closing balance|ending balance|total (?:amount )?due|total (?:outstanding )?balance|total outstanding|grand total|balance due|balance c\/f|balance carried forward)/i;
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
 * Walks the lines page by page: a header row sets the columns (repeated on each page, or carried
 * onto a page without one when the page before held rows); below it, a line with a date and an
 * amount starts a transaction, a line with only text inside the description column continues the
 * one before (or, when the next figures come without a date, begins the next one), and a totals
 * row closes it.
 */
export function readTable(lines: Line[], ctx: TableContext): Table {
  const table: Table = { found: false, rows: [], consumed: new Set(), totals: [], warnings: [] };
  const sections: Row[][] = [];
  let columns: Column[] | null = null;
  let page = 0;
  let skip = -1;
  let pageRows = 0;
  let last: { row: Row; line: Line } | null = null;
  let pendingDate: { date: Row["date"]; text: string; description: string } | null = null;
  const push = (row: Row, line: Line, index: number) => {
    last = { row, line };
    sections.at(-1)!.push(row);
    table.consumed.add(index);
    pendingDate = null;
    pageRows++;
  };
  lines.forEach((line, index) => {
    if (line.page !== page) {
      page = line.page;
      // A table runs on over pages that do not repeat its header; a page of no rows ends it.
      if (pageRows === 0) columns = null;
      pageRows = 0;
      last = null;
    }
    if (skip === index) return;
    // A heading line with words under it is read with them ("Transaction" over "Date").
    const two = twoLineHeader(lines, index);
    const header = two ?? headerColumns(line);
    if (header) {
      columns = header;
      table.found = true;
      table.consumed.add(index);
      if (two) {
        skip = index + 1;
        table.consumed.add(index + 1);
      }
      sections.push([]);
      return;
    }
    if (!columns) return;
    const read = readCells(line.cells, columns, ctx);
    if (SUMMARY_ROW.test(read.description)) {
      if (CLOSING_ROW.test(read.description)) {
        // not consumed: the figures scan reads it as the closing balance
      } else if (/^(?:totals?|sub[- ]?totals?|summe)\b/i.test(read.description) && read.amount) {
        // A card's single amount column totals charges net of credits, or the balance with the
        // previous one: no side can be told, so the balances check it instead.
        const single = read.amount.every(({ role }) => role === "amount" || role === "balance");
        for (const { role, value } of ctx.kind === "card" && single ? [] : read.amount) {
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
      push(makeRow(read.date, read.dateText, read.description, read, ctx), line, index);
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
      push(makeRow(date.date, date.text, description, read, ctx), line, index);
    } else if (!read.date && !hasAmount && read.description) {
      const next = textLine(lines, index, columns, ctx);
      if (pendingDate && next.inColumn) {
        pendingDate.description = `${pendingDate.description} ${read.description}`;
        table.consumed.add(index);
      } else if (last && next.inColumn && next.beginsUndated) {
        pendingDate = {
          date: last.row.date,
          text: last.row.dateText,
          description: read.description,
        };
        table.consumed.add(index);
      } else if (last && continues(line, last.line, columns)) {
        last.row.transaction.description = `${last.row.transaction.description} ${read.description}`;
        last.line = line;
        table.consumed.add(index);
      }
    }
  });
  const kept = dropReprintedSections(sections, ctx.file);
  table.rows = kept.rows;
  table.warnings.push(...kept.warnings);
  for (const row of table.rows)
    row.transaction.payee = payeeFromDescription(row.transaction.description);
  return table;
}

const headerWords = (text: string) => /^[\p{L}\s().$/&-]{1,30}$/u.test(text);

/**
 * Headings printed on two lines ("Transaction" over "Date", "Value" over "Date"): the line below
 * holds only words, each under a heading above, and the two read together make the header.
 */
function twoLineHeader(lines: Line[], index: number): Column[] | null {
  const [line, next] = [lines[index]!, lines[index + 1]];
  if (!next || next.page !== line.page || line.y - next.y > line.size * 2.2) return null;
  if ([...line.cells, ...next.cells].some((c) => /\d/.test(c.text))) return null;
  if (next.cells.some((c) => !headerWords(c.text))) return null;
  // A title over a header row ("Transaction Details") is no heading: that row reads alone.
  if (line.cells.length < 2 || headerColumns(next)) return null;
  const used = new Set<number>();
  const cells = line.cells.map((cell) => {
    const under = next.cells.filter((n, i) => {
      const overlaps = n.x0 < cell.x1 + 2 && n.x1 > cell.x0 - 2;
      if (overlaps) used.add(i);
      return overlaps;
    });
    if (under.length === 0) return cell;
    return {
      text: [cell.text, ...under.map((u) => u.text)].join(" "),
      x0: Math.min(cell.x0, ...under.map((u) => u.x0)),
      x1: Math.max(cell.x1, ...under.map((u) => u.x1)),
    };
  });
  if (used.size === 0) return null;
  const all = [...cells, ...next.cells.filter((_, i) => !used.has(i))].sort((a, b) => a.x0 - b.x0);
  return headerColumns({ ...line, cells: all, text: all.map((c) => c.text).join(" ") });
}

/**
 * A text-only line: whether it sits in the description column, and whether the text lines from
 * it lead to figures without a date — then it is the first line of that undated row ("Transaction
 * 10" above "more text   600.35"), not the tail of the row before.
 */
function textLine(
  lines: Line[],
  index: number,
  columns: Column[],
  ctx: TableContext,
): { inColumn: boolean; beginsUndated: boolean } {
  const description = columns.find((c) => c.role === "description")!;
  const line = lines[index]!;
  const inColumn = !FOOTER.test(line.text) && line.cells[0]!.x0 >= description.x0 - 3;
  for (let i = index + 1; i < Math.min(lines.length, index + 4); i++) {
    const next = lines[i]!;
    if (next.page !== line.page || headerColumns(next)) break;
    const read = readCells(next.cells, columns, ctx);
    if (SUMMARY_ROW.test(read.description) || read.date) break;
    if (read.amount) return { inColumn, beginsUndated: true };
    if (!read.description || next.cells[0]!.x0 < description.x0 - 3) break;
  }
  return { inColumn, beginsUndated: false };
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
