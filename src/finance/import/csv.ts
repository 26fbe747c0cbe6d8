import { parse } from "csv-parse/sync";
import type { Config } from "../../config.js";
import { NightshiftError } from "../../errors.js";
import type { ReadProgress } from "../import-progress.js";
import { type DecimalMark, detectDecimalMark } from "./amounts.js";
import { isDateCell, profileColumns } from "./column-profile.js";
import { findHeader, firstDataRow, unnamedHeader } from "./csv-header.js";
import { type Columns, guessLayout } from "./csv-layout.js";
import { type RowsRead, readCsvRows } from "./csv-rows.js";
import { dateStyleOf } from "./date-cells.js";
import { findDateOrder, type OrderFound } from "./date-order.js";
import { normalizeHeader } from "./header-names.js";
import type { ParsedStatement, ReadLayout } from "./statement.js";

export type CsvLayout = Config["finance"]["csv_layouts"][string];

/** A layout from outside the parser: the user's config, the knowledge base, or a model. */
export interface KnownLayout {
  source: "configured" | "knowledge" | "model";
  layout: CsvLayout;
  /** The header signature it was learned for; configured layouts match by column names. */
  signature?: string | undefined;
}

export interface CsvTable {
  file: string;
  header: string[] | null;
  /** Line number (1-based) of the header, or of the first data row without one. */
  headerLine: number;
  body: { cells: string[]; line: number }[];
  signature: string;
}

/** Splits the file into its header (if any) and body rows; no interpretation yet. */
export function readCsvTable(
  text: string,
  file: string,
  layouts: CsvLayout[] = [],
  progress?: ReadProgress,
): CsvTable {
  const rows = readRows(text, file, progress);
  const named = findHeader(rows, (row) => layouts.some((layout) => layoutFits(row, layout)));
  const headerAt = named >= 0 ? named : unnamedHeader(rows);
  const header = headerAt >= 0 ? rows[headerAt]! : null;
  const start = headerAt >= 0 ? headerAt + 1 : firstDataRow(rows);
  // The header repeated inside the body (a page break in the export). Normalized once, and a
  // row stops at its first differing cell: a million data rows are not each normalized whole.
  const names = header?.map(normalizeHeader);
  const same = (cells: string[]) =>
    names !== undefined &&
    cells.length === names.length &&
    cells.every((cell, i) => normalizeHeader(cell) === names[i]);
  const body = rows
    .map((cells, i) => ({ cells, line: i + 1 }))
    .slice(start)
    .filter(({ cells }) => cells.some((cell) => cell.trim() !== "") && !same(cells));
  return { file, header, headerLine: start, body, signature: headerSignature(header, body) };
}

/** The statement in a CSV export: a known layout if one fits, else one found from the content. */
export function parseCsv(
  text: string,
  file: string,
  layouts: Record<string, CsvLayout>,
  known: KnownLayout[] = [],
  progress?: ReadProgress,
): ParsedStatement {
  const candidates: KnownLayout[] = [
    ...Object.values(layouts).map((layout) => ({ source: "configured" as const, layout })),
    ...known,
  ];
  const table = readCsvTable(
    text,
    file,
    candidates.map((c) => c.layout),
    progress,
  );
  const fitting = table.header
    ? candidates.find((c) => layoutFits(table.header!, c.layout))
    : undefined;
  if (fitting) return readWithLayout(table, fitting, progress);
  if (table.body.length === 0) return emptyStatement();
  const guess = detectLayout(table, progress);
  if (!guess.columns) {
    throw new NightshiftError(
      `${file}: cannot tell the columns apart (${guess.missing.join("; ")}); header: ${table.header?.join(", ") ?? "none"}. Map them in finance.csv_layouts in nightshift.yaml`,
      { code: "layout_unknown" },
    );
  }
  return buildStatement(
    table,
    guess.columns,
    guess.decimal,
    styleFor(table, guess.columns.date, guess.decimal),
    "detected",
    guess.assumed,
    progress,
  );
}

function emptyStatement(): ParsedStatement {
  return {
    format: "csv",
    kind: "bank",
    accountNumber: null,
    currency: null,
    periodStart: null,
    periodEnd: null,
    openingCents: null,
    closingCents: null,
    printedTotals: [],
    transactions: [],
    warnings: [],
  };
}

const FIGURE = /^[-+(]?\s?(?:[$€£¥]|[A-Z]{3})?\s?\d[\d.,' \u00a0]*\)?-?\s?(?:[A-Z]{3})?$/;

interface Detected {
  columns: Columns | null;
  missing: string[];
  assumed: string[];
  decimal: DecimalMark;
}

export function detectLayout(table: CsvTable, progress?: ReadProgress): Detected {
  const rows = table.body.map((row) => row.cells);
  const decimal = decimalOf(rows);
  const profiles = profileColumns(table.header, rows, decimal, (done, total) =>
    progress?.("columns", done, total),
  );
  return { ...guessLayout(profiles, rows, decimal), decimal };
}

function decimalOf(rows: string[][]): DecimalMark {
  // Only lone figures vote: descriptions hold times and dates ("18.09. 17:20") that would mislead.
  const figures = rows.flatMap((row) =>
    row.filter((cell) => FIGURE.test(cell.trim()) && !isDateCell(cell)),
  );
  return detectDecimalMark(figures);
}

function styleFor(table: CsvTable, date: number, decimal: DecimalMark): OrderFound {
  const cells = table.body.map((row) => row.cells[date] ?? "");
  return findDateOrder(cells, table.file, decimal === "," ? "DM" : "MD");
}

function readWithLayout(
  table: CsvTable,
  known: KnownLayout,
  progress?: ReadProgress,
): ParsedStatement {
  const header = table.header ?? [];
  // A headerless export's columns are named by position: "column 3".
  const at = (name: string | undefined) => {
    if (name === undefined) return null;
    const position = /^column (\d+)$/i.exec(name.trim());
    if (position) return Number(position[1]) - 1;
    const index = header.findIndex((cell) => normalizeHeader(cell) === normalizeHeader(name));
    return index < 0 ? null : index;
  };
  const { layout } = known;
  if (at(layout.date) === null || at(layout.description) === null)
    throw new NightshiftError(
      `${table.file}: the ${known.source} layout names columns the file does not have (${layout.date}, ${layout.description})`,
      { code: "layout_unknown" },
    );
  const columns: Columns = {
    date: at(layout.date)!,
    description: at(layout.description)!,
    payee: null,
    amount: at(layout.amount),
    debit: at(layout.debit),
    credit: at(layout.credit),
    balance: at(layout.balance),
    sign: at(layout.sign),
    id: at(layout.id),
    currency: null,
  };
  // The layout names the columns: only the decimal mark may still need finding.
  const decimal = layout.decimal ?? decimalOf(table.body.map((row) => row.cells));
  if (columns.amount === null && columns.debit === null && columns.credit === null)
    throw new NightshiftError(
      `${table.file}: the ${known.source} layout names no amount column the file has`,
      { code: "layout_unknown" },
    );
  const style = layout.date_format
    ? { style: dateStyleOf(layout.date_format), proven: true }
    : styleFor(table, columns.date, decimal);
  return buildStatement(table, columns, decimal, style, known.source, [], progress);
}

function layoutFits(header: string[], layout: CsvLayout): boolean {
  const names = new Set(header.map(normalizeHeader));
  return [layout.date, layout.description, layout.amount, layout.debit, layout.credit, layout.sign]
    .filter((name): name is string => name !== undefined)
    .every((name) => names.has(normalizeHeader(name)));
}

function buildStatement(
  table: CsvTable,
  columns: Columns,
  decimal: DecimalMark,
  order: OrderFound,
  source: ReadLayout["source"],
  assumed: string[] = [],
  progress?: ReadProgress,
): ParsedStatement {
  const { style } = order;
  const read: RowsRead = readCsvRows(table, columns, decimal, style, (done, total) =>
    progress?.("rows", done, total),
  );
  read.flags.push(...assumed);
  if (!order.proven) {
    read.flags.push("date_order_assumed");
    read.warnings.push(
      `no date in the file tells day-first from month-first; read as ${style.order === "DM" ? "day first (DD/MM)" : "month first (MM/DD)"}: set date_format in finance.csv_layouts if that is wrong`,
    );
  }
  return {
    format: "csv",
    kind: "bank",
    accountNumber: null,
    currency: read.currency,
    periodStart: read.transactions.map((t) => t.date).sort()[0] ?? null,
    periodEnd:
      read.transactions
        .map((t) => t.date)
        .sort()
        .at(-1) ?? null,
    openingCents: read.balances?.opening ?? null,
    closingCents: read.balances?.closing ?? null,
    printedTotals: [],
    transactions: read.transactions,
    warnings: read.warnings,
    contradictions: read.contradictions,
    flags: [...new Set(read.flags)],
    layout: {
      source,
      columns: describeColumns(table.header, columns),
      dateFormat: style.order === "DM" ? "day first" : "month first",
      decimal,
      signature: table.signature,
    },
  };
}

function describeColumns(header: string[] | null, columns: Columns): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [role, index] of Object.entries(columns)) {
    if (typeof index !== "number") continue;
    out[role] = header?.[index]?.trim() || `column ${index + 1}`;
  }
  if (columns.balanceBefore && out.balance) out.balance += " (before each row)";
  return out;
}

function readRows(text: string, file: string, progress?: ReadProgress): string[][] {
  const input = text.replace(/^\uFEFF/, "");
  const sample = input.split(/\r?\n/, 20).filter((line) => line.trim());
  // The separator that splits the most lines into the same number of cells.
  const score = (d: string) => {
    const counts = sample.map((line) => line.split(d).length);
    const common = counts.filter((c) => c === counts.at(-1)).length;
    return (counts.at(-1)! > 1 ? common * 100 : 0) + (counts.at(-1) ?? 0);
  };
  const delimiter = [",", ";", "\t", "|"].sort((a, b) => score(b) - score(a))[0]!;
  // The parser counts bytes of the UTF-8 text it is given: its position, for the percentage.
  const total = progress ? Buffer.byteLength(input) : 0;
  try {
    const rows = parse(input, {
      delimiter,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      trim: true,
      ...(progress && {
        on_record: (record: string[], info: { bytes: number }) => {
          progress("split", Math.min(info.bytes, total), total);
          return record;
        },
      }),
    }) as string[][];
    progress?.("split", total, total);
    return rows;
  } catch (error) {
    throw new NightshiftError(`${file}: not a readable CSV file: ${(error as Error).message}`, {
      code: "bad_file",
      cause: error,
    });
  }
}

/** Names of the header's cells, or the shape of the rows without one: a bank's export format. */
export function headerSignature(header: string[] | null, body: { cells: string[] }[]): string {
  if (header) return header.map(normalizeHeader).join("|");
  const width = Math.max(0, ...body.slice(0, 20).map((row) => row.cells.length));
  return `headerless:${width}`;
}
