import { parse } from "csv-parse/sync";
import type { Config } from "../../config.js";
import { NightshiftError } from "../../errors.js";
import { type DecimalMark, detectDecimalMark, parseAmount, signedCents } from "./amounts.js";
import { type DayMonthOrder, inferOrder, parseDate, toIso } from "./dates.js";
import { type ParsedStatement, type ParsedTransaction, payeeFromDescription } from "./statement.js";

export type CsvLayout = Config["finance"]["csv_layouts"][string];

interface Columns {
  date: number;
  description: number;
  payee: number | null;
  amount: number | null;
  debit: number | null;
  credit: number | null;
  balance: number | null;
  id: number | null;
}

// Header names banks use, per role, lower-cased and compared whole.
const SYNONYMS: Record<keyof Columns, RegExp> = {
  date: /^(?:(?:transaction|trans\.?|posting|posted|post|booking|value)\s+)?date$|^datum$|^buchungstag$|^fecha$|^date opération$/,
  description:
    /^(?:description|details|transaction details|memo|narrative|particulars|transaction|verwendungszweck|concepto|libellé|reference description)$/,
  payee: /^(?:payee|merchant|name|counterparty|beneficiary|empfänger)$/,
  amount: /^(?:amount|transaction amount|betrag|importe|montant|value)(?:\s*\(\w+\))?$/,
  debit: /^(?:debit|debits|withdrawal|withdrawals|money out|paid out|outflow|debit amount|soll)$/,
  credit: /^(?:credit|credits|deposit|deposits|money in|paid in|inflow|credit amount|haben)$/,
  balance: /^(?:balance|running balance|saldo|solde)$/,
  id: /^(?:id|transaction id|reference|ref|fitid|bank id)$/,
};

export function parseCsv(
  text: string,
  file: string,
  layouts: Record<string, CsvLayout>,
): ParsedStatement {
  const rows = readRows(text, file);
  const headerIndex = rows.findIndex(
    (row) => row.some((cell) => SYNONYMS.date.test(norm(cell))) || matchLayout(row, layouts),
  );
  if (headerIndex < 0) {
    throw new NightshiftError(
      `${file}: no header row with a Date column; name its columns in finance.csv_layouts in nightshift.yaml`,
      { code: "bad_file" },
    );
  }
  const header = rows[headerIndex]!;
  const configured = matchLayout(header, layouts);
  const columns = configured ? configuredColumns(header, configured) : detectColumns(header, file);
  const data = rows.slice(headerIndex + 1).filter((row) => row.some((cell) => cell.trim() !== ""));
  const decimal: DecimalMark =
    configured?.decimal ?? detectDecimalMark(data.flatMap((row) => numericCells(row, columns)));
  const order = configured?.date_format
    ? orderOf(configured.date_format)
    : inferOrder(
        data.map((row) => row[columns.date] ?? ""),
        decimal === "," ? "DM" : "MD",
      );
  const transactions = data.map((row, i) =>
    readRow(row, columns, { decimal, order, file, line: headerIndex + i + 2 }),
  );
  const balances = readBalances(transactions);
  return {
    format: "csv",
    kind: "bank",
    accountNumber: null,
    currency: null,
    periodStart: transactions.length ? transactions.map((t) => t.date).sort()[0]! : null,
    periodEnd: transactions.length
      ? transactions
          .map((t) => t.date)
          .sort()
          .at(-1)!
      : null,
    openingCents: balances?.opening ?? null,
    closingCents: balances?.closing ?? null,
    printedTotals: [],
    transactions,
    warnings: [],
  };
}

function readRows(text: string, file: string): string[][] {
  const firstLine = text.split(/\r?\n/, 1)[0] ?? "";
  const delimiter = [";", "\t", ","].sort(
    (a, b) => firstLine.split(b).length - firstLine.split(a).length,
  )[0]!;
  try {
    return parse(text.replace(/^\uFEFF/, ""), {
      delimiter,
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
    }) as string[][];
  } catch (error) {
    throw new NightshiftError(`${file}: not a readable CSV file: ${(error as Error).message}`, {
      code: "bad_file",
      cause: error,
    });
  }
}

const norm = (cell: string) => cell.trim().toLowerCase().replace(/\s+/g, " ");

function matchLayout(header: string[], layouts: Record<string, CsvLayout>): CsvLayout | undefined {
  const names = new Set(header.map(norm));
  return Object.values(layouts).find((layout) =>
    [layout.date, layout.description, layout.amount, layout.debit, layout.credit]
      .filter((name): name is string => name !== undefined)
      .every((name) => names.has(norm(name))),
  );
}

function configuredColumns(header: string[], layout: CsvLayout): Columns {
  const at = (name: string | undefined) =>
    name === undefined ? null : header.findIndex((cell) => norm(cell) === norm(name));
  const found = (name: string | undefined) => {
    const index = at(name);
    return index === null || index < 0 ? null : index;
  };
  return {
    date: found(layout.date)!,
    description: found(layout.description)!,
    payee: null,
    amount: found(layout.amount),
    debit: found(layout.debit),
    credit: found(layout.credit),
    balance: found(layout.balance),
    id: found(layout.id),
  };
}

function detectColumns(header: string[], file: string): Columns {
  const find = (role: keyof Columns) => {
    const index = header.findIndex((cell) => SYNONYMS[role].test(norm(cell)));
    return index < 0 ? null : index;
  };
  const columns: Columns = {
    date: find("date")!,
    description: find("description") ?? find("payee") ?? -1,
    payee: find("payee"),
    amount: find("amount"),
    debit: find("debit"),
    credit: find("credit"),
    balance: find("balance"),
    id: find("id"),
  };
  if (
    columns.description < 0 ||
    (columns.amount === null && columns.debit === null && columns.credit === null)
  ) {
    throw new NightshiftError(
      `${file}: the header (${header.join(", ")}) has no description and amount (or debit/credit) columns; map them in finance.csv_layouts`,
      { code: "bad_file" },
    );
  }
  if (columns.payee === columns.description) columns.payee = null;
  return columns;
}

function numericCells(row: string[], columns: Columns): string[] {
  return [columns.amount, columns.debit, columns.credit, columns.balance]
    .filter((i): i is number => i !== null)
    .map((i) => row[i] ?? "");
}

function orderOf(format: string): DayMonthOrder {
  return format.toUpperCase().replace(/[^DM]/g, "").startsWith("M") ? "MD" : "DM";
}

interface RowContext {
  decimal: DecimalMark;
  order: DayMonthOrder;
  file: string;
  line: number;
}

function readRow(row: string[], columns: Columns, ctx: RowContext): ParsedTransaction {
  const where = `${ctx.file} line ${ctx.line}`;
  const rawDate = row[columns.date] ?? "";
  const parts = parseDate(rawDate, ctx.order);
  if (!parts || parts.year === null)
    throw new NightshiftError(`${where}: "${rawDate}" is not a date with a year`, {
      code: "bad_file",
    });
  const cell = (i: number | null) => (i === null ? "" : (row[i] ?? "").trim());
  const money = (i: number | null, name: string): number | null => {
    const raw = cell(i);
    if (raw === "") return null;
    const parsed = parseAmount(raw, ctx.decimal);
    if (!parsed)
      throw new NightshiftError(`${where}: ${name} "${raw}" is not an amount`, {
        code: "bad_file",
      });
    return signedCents(parsed);
  };
  let amountCents: number | null = money(columns.amount, "amount");
  if (amountCents === null) {
    const debit = money(columns.debit, "debit");
    const credit = money(columns.credit, "credit");
    if (debit === null && credit === null)
      throw new NightshiftError(`${where}: no amount`, { code: "bad_file" });
    amountCents = (credit === null ? 0 : Math.abs(credit)) - (debit === null ? 0 : Math.abs(debit));
  }
  const description = cell(columns.description).replace(/\s+/g, " ");
  const payeeCell = cell(columns.payee);
  return {
    date: toIso({ year: parts.year, month: parts.month, day: parts.day }),
    amountCents,
    description: description || payeeCell,
    payee: payeeCell || payeeFromDescription(description),
    bankId: cell(columns.id) || null,
    balanceCents: money(columns.balance, "balance"),
  };
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
    rows[0]!.date > rows.at(-1)!.date ||
    (rows[0]!.date === rows.at(-1)!.date && !follows(rows) && follows([...rows].reverse()));
  const list = newestFirst ? [...rows].reverse() : rows;
  const first = list[0]!;
  return { opening: first.balanceCents! - first.amountCents, closing: list.at(-1)!.balanceCents! };
}
