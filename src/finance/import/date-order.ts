import { basename } from "node:path";
import { type DateStyle, readDateCell } from "./date-cells.js";
import { type DayMonthOrder, numericPair, toIso } from "./dates.js";

export interface OrderFound {
  style: DateStyle;
  /** False when nothing in the file told day-first from month-first: the reading is a guess. */
  proven: boolean;
}

/**
 * Day-first or month-first, from the evidence in this order: a number above 12 in either
 * place; the order that keeps the rows sorted by date (statements are); the order that puts no
 * date after the one in the file's name (an export date); then the number format's custom.
 */
export function findDateOrder(cells: string[], file: string, fallback: DayMonthOrder): OrderFound {
  let dm = 0;
  let md = 0;
  let ambiguous = 0;
  for (const cell of cells) {
    const pair = numericPair(cell.trim().replace(/(\d)\.$/, "$1"));
    if (!pair) continue;
    if (pair[0] > 12 && pair[1] <= 12) dm++;
    else if (pair[1] > 12 && pair[0] <= 12) md++;
    else if (pair[0] !== pair[1]) ambiguous++;
  }
  const style = (order: DayMonthOrder): DateStyle => ({ order, compactYearFirst: false });
  if (dm !== md) return { style: style(dm > md ? "DM" : "MD"), proven: true };
  if (ambiguous === 0) return { style: style(fallback), proven: true };
  const fits = (["DM", "MD"] as const).filter(
    (order) => sorted(cells, order) && notAfter(cells, order, fileDate(file)),
  );
  if (fits.length === 1) return { style: style(fits[0]!), proven: true };
  return { style: style(fallback), proven: false };
}

function isoDates(cells: string[], order: DayMonthOrder): string[] {
  return cells.flatMap((cell) => {
    const parts = readDateCell(cell, { order, compactYearFirst: false });
    return parts?.year ? [toIso({ ...parts, year: parts.year })] : [];
  });
}

function sorted(cells: string[], order: DayMonthOrder): boolean {
  const dates = isoDates(cells, order);
  const up = dates.every((d, i) => i === 0 || dates[i - 1]! <= d);
  const down = dates.every((d, i) => i === 0 || dates[i - 1]! >= d);
  return up || down;
}

function notAfter(cells: string[], order: DayMonthOrder, limit: string | null): boolean {
  return limit === null || isoDates(cells, order).every((d) => d <= limit);
}

/** "20180226_12345678.csv", "export_2018-03-04.csv" → the date the export was made. */
function fileDate(file: string): string | null {
  const m = /(?<!\d)(20\d{2})[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])(?!\d)/.exec(
    basename(file),
  );
  return m ? `${m[1]}-${m[2]}-${m[3]}` : null;
}
