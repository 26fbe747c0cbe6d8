import { NightshiftError } from "../../errors.js";
import { detectDecimalMark } from "./amounts.js";
import {
  DATE_IN_TEXT,
  type DayMonthOrder,
  findPeriod,
  inferOrder,
  isoDate,
  type Period,
  parseDate,
  toIso,
} from "./dates.js";
import { readFigures } from "./pdf-figures.js";
import { type Row, readTable } from "./pdf-table.js";
import type { Line } from "./pdf-text.js";
import { readPdfLinesIsolated } from "./pdf-worker.js";
import type { AccountKind, ParsedStatement } from "./statement.js";

/** A PDF statement → transactions and its printed figures. */
export async function parsePdf(bytes: Uint8Array, file: string): Promise<ParsedStatement> {
  const lines = await readPdfLinesIsolated(bytes, file);
  if (lines.length === 0) {
    throw new NightshiftError(
      `${file}: cannot import: the PDF has no text layer (a scanned image?); export a CSV or OFX from your bank, or run the PDF through OCR first`,
      { code: "no_text" },
    );
  }
  return parsePdfLines(lines, file);
}

export function parsePdfLines(lines: Line[], file: string): ParsedStatement {
  const allCells = lines.flatMap((line) => line.cells.map((c) => c.text));
  const decimal = detectDecimalMark(allCells);
  // "12.30" is an amount where the decimal mark is a point, not evidence of month-first dates.
  const dateSamples = [
    ...allCells.filter((cell) => decimal !== "." || !/^\d{1,2}\.\d{2}$/.test(cell.trim())),
    ...lines.flatMap((l) => [...l.text.matchAll(DATE_IN_TEXT)].map((m) => m[0])),
  ];
  const order = inferOrder(dateSamples, decimal === "," ? "DM" : "MD");
  const texts = lines.map((l) => l.text);
  const kind: AccountKind =
    /credit card|card statement|card number|new balance|minimum payment|previous balance/i.test(
      texts.join("\n"),
    )
      ? "card"
      : "bank";
  const table = readTable(lines, { decimal, order, kind, file });
  if (!table.found) {
    throw new NightshiftError(
      `${file}: cannot import: no transaction table found (no header row with Date, Description and Amount or Debit/Credit columns)`,
      { code: "layout_unknown" },
    );
  }
  const period =
    findPeriod(texts, order) ??
    periodFromDates(table.rows) ??
    periodFromStatementDate(texts, order);
  const transactions = table.rows.map((row) => {
    const date = isoDate(row.date, period);
    if (!date) {
      throw new NightshiftError(
        `${file}: cannot tell the year of "${row.dateText}": no statement period found`,
        { code: "bad_file" },
      );
    }
    return { ...row.transaction, date };
  });
  const figures = readFigures(
    lines.filter((_, i) => !table.consumed.has(i)).map((l) => l.text),
    decimal,
    kind === "card",
  );
  return {
    format: "pdf",
    kind,
    accountNumber: findAccountNumber(texts),
    currency: /€|\bEUR\b/.test(texts.join(" "))
      ? "EUR"
      : /£|\bGBP\b/.test(texts.join(" "))
        ? "GBP"
        : null,
    periodStart: period?.start ?? null,
    periodEnd: period?.end ?? null,
    openingCents: figures.opening,
    closingCents: figures.closing,
    printedTotals: [...table.totals, ...figures.totals],
    transactions,
    warnings: table.warnings,
  };
}

// "STATEMENT DATE 01-07-2023", "Closing date: 31 Jan 2026", "as of 01/31/2026".
const STATEMENT_DATE =
  /\b(?:statement|closing|billing|print(?:ed)?|issue|cut-?off)\s+date\b|\bas\s+(?:of|at)\b|\bstatement\s+as\s+of\b/i;

/**
 * Without a printed period, a printed statement or closing date ends it: dates without a year
 * take the year that puts them in the weeks before it (a December row on a January statement
 * is last year's).
 */
function periodFromStatementDate(texts: string[], order: DayMonthOrder): Period | null {
  for (const text of texts) {
    if (!STATEMENT_DATE.test(text)) continue;
    for (const match of text.matchAll(DATE_IN_TEXT)) {
      const parts = parseDate(match[0], order);
      if (!parts?.year) continue;
      const end = toIso({ ...parts, year: parts.year });
      const start = new Date(Date.parse(end) - 62 * 86_400_000).toISOString().slice(0, 10);
      return { start, end };
    }
  }
  return null;
}

function periodFromDates(rows: Row[]): Period | null {
  const dated = rows.map((r) => r.date).filter((d) => d.year !== null);
  if (dated.length === 0) return null;
  const iso = dated
    .map((d) => `${d.year}-${String(d.month).padStart(2, "0")}-${String(d.day).padStart(2, "0")}`)
    .sort();
  return { start: iso[0]!, end: iso.at(-1)! };
}

const ACCOUNT =
  /\b(?:account|card|iban|konto|kontonummer|acct)(?:\s+(?:number|no\.?|nr\.?|#|ending in))?\s*[:#]?\s*([A-Z]{2}\d{2}(?:\s?\d{4}){2,}(?:\s?\d{1,4})?|(?:[0-9Xx*•.]{1,6}[ -]?){2,}\d{4})\b/i;

function findAccountNumber(texts: string[]): string | null {
  for (const text of texts) {
    const m = ACCOUNT.exec(text);
    if (m) return m[1]!.replace(/\s+/g, " ").trim();
  }
  return null;
}
