import { NightshiftError } from "../../errors.js";
import { detectDecimalMark } from "./amounts.js";
import { DATE_IN_TEXT, findPeriod, inferOrder, isoDate, type Period } from "./dates.js";
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
  const dateSamples = [
    ...allCells,
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
  const period = findPeriod(texts, order) ?? periodFromDates(table.rows);
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
