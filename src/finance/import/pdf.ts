import { NightshiftError } from "../../errors.js";
import { reconcileStatement } from "../reconcile.js";
import { type DecimalMark, detectDecimalMark } from "./amounts.js";
import { DATE_IN_TEXT, type DayMonthOrder, inferOrder, isoDate } from "./dates.js";
import { readFigures } from "./pdf-figures.js";
import { headerColumns } from "./pdf-header.js";
import { statementPeriod } from "./pdf-period.js";
import { readTable } from "./pdf-table.js";
import type { Line } from "./pdf-text.js";
import { unreadRows } from "./pdf-unread.js";
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
  const texts = lines.map((l) => l.text);
  const fallback = decimal === "," || DAY_FIRST_MONEY.test(texts.join("\n")) ? "DM" : "MD";
  const doc: Document = {
    lines,
    texts,
    file,
    decimal,
    order: inferOrder(dateSamples, fallback),
    orderProven: inferOrder(dateSamples, "DM") === inferOrder(dateSamples, "MD"),
  };
  // What the statement says of itself above its table; a "CREDIT CARD" bill paid from a bank
  // account, in a row, says nothing about the account.
  const top = lines.findIndex((line) => headerColumns(line) !== null);
  const preamble = (top > 0 ? texts.slice(0, top) : texts).join("\n");
  const guess: AccountKind = CARD_WORDS.test(preamble) ? "card" : "bank";
  const first = readAs(doc, guess);
  if (reconcileStatement(first).status === "reconciled") return first;
  // A card prints charges plain and a bank prints deposits plain: where the words misled, the
  // other reading is kept only if the statement's own balances prove it.
  let other: ParsedStatement;
  try {
    other = readAs(doc, guess === "card" ? "bank" : "card");
  } catch {
    return first;
  }
  if (reconcileStatement(other).status !== "reconciled") return first;
  other.warnings.push(
    `read as a ${other.kind === "card" ? "card" : "bank account"} statement: only that reading reconciles with its printed balances`,
  );
  return other;
}

interface Document {
  lines: Line[];
  texts: string[];
  file: string;
  decimal: DecimalMark;
  order: DayMonthOrder;
  orderProven: boolean;
}

const CARD_WORDS =
  /\bcards?\b|credit card|card statement|card (?:no|number)|mastercard|\bvisa\b|american express|minimum (?:payment|amount)|credit limit|new balance|previous balance/i;

function readAs(doc: Document, kind: AccountKind): ParsedStatement {
  const { lines, texts, file, decimal, order } = doc;
  const table = readTable(lines, { decimal, order, kind, file });
  if (!table.found) {
    throw new NightshiftError(
      `${file}: cannot import: no transaction table found (no header row with Date, Description and Amount or Debit/Credit columns)`,
      { code: "layout_unknown" },
    );
  }
  const warnings = [...table.warnings];
  const flags: string[] = [];
  const unread = unreadRows(lines, table.consumed, order, table.rows.length);
  if (unread.length > 0 && table.rows.length === 0)
    throw new NightshiftError(
      `${file}: cannot import: a transaction table was found but none of its ${unread.length} dated lines with an amount could be read (such as "${unread[0]!.text.slice(0, 80)}")`,
      { code: "layout_unknown" },
    );
  if (unread.length > 0) {
    flags.push("rows_unread");
    warnings.push(
      `${unread.length} more line(s) with a date and an amount than transactions read (such as "${unread[0]!.text.slice(0, 80)}"): check them against the statement`,
    );
  }
  const period = statementPeriod(texts, order, table.rows, flags, warnings);
  const ambiguous = table.rows.some((r) => /^\d{1,2}[-/.]\d{1,2}/.test(r.dateText));
  if (!doc.orderProven && ambiguous) {
    flags.push("date_order_assumed");
    warnings.push(
      `no date in the statement tells day-first from month-first; read as ${order === "DM" ? "day first (DD/MM)" : "month first (MM/DD)"}`,
    );
  }
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
    currency: currencyOf(texts.join(" ")),
    periodStart: period?.start ?? null,
    periodEnd: period?.end ?? null,
    openingCents: figures.opening,
    closingCents: figures.closing,
    printedTotals: [...table.totals, ...figures.totals],
    transactions,
    warnings,
    flags,
  };
}

function currencyOf(text: string): string | null {
  if (/€|\bEUR\b/.test(text)) return "EUR";
  if (/£|\bGBP\b/.test(text)) return "GBP";
  if (/S\$|\bSGD\b/.test(text)) return "SGD";
  return null;
}

// Money of countries that write the day first: without a day above 12, "02/06" is 2 June there.
const DAY_FIRST_MONEY =
  /\b(?:SGD|GBP|EUR|AUD|NZD|INR|MYR|HKD|ZAR|IDR|THB)\b|S\$|A\$|NZ\$|HK\$|£|€|₹|\bRM\s?\d/;

const ACCOUNT =
  /\b(?:account|card|iban|konto|kontonummer|acct)(?:\s+(?:number|no\.?|nr\.?|#|ending in))?\s*[:#]?\s*([A-Z]{2}\d{2}(?:\s?\d{4}){2,}(?:\s?\d{1,4})?|(?:[0-9Xx*•.]{1,6}[ -]?){2,}\d{4})\b/i;

function findAccountNumber(texts: string[]): string | null {
  for (const text of texts) {
    const m = ACCOUNT.exec(text);
    if (m) return m[1]!.replace(/\s+/g, " ").trim();
  }
  return null;
}
