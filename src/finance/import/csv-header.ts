import { isDateCell } from "./column-profile.js";
import { headerScore } from "./header-names.js";

/** Where a CSV export's header row is: after any preamble, or none for a headerless file. */

/** The header: a row of names (several roles, no dates) among the first lines, or none. */
export function findHeader(rows: string[][], fits: (row: string[]) => boolean): number {
  const limit = Math.min(rows.length, 40);
  for (let i = 0; i < limit; i++) {
    const row = rows[i]!;
    if (fits(row)) return i;
  }
  // A summary block can have its own names row ("Description,,Summary Amt."): the header is the
  // names row that transactions follow, else the first one.
  let firstNames = -1;
  for (let i = 0; i < limit; i++) {
    const row = rows[i]!;
    if (looksLikeData(row))
      return firstNames >= 0 ? firstNames : headerAfterPreamble(rows, i, limit);
    if (!namesColumns(row)) continue;
    if (rows[i + 1] && looksLikeData(rows[i + 1]!)) return i;
    if (firstNames < 0) firstNames = i;
  }
  return firstNames;
}

// A header names columns: no figures in it (a headerless file's "DEBIT,...,-12.23" is data).
const namesColumns = (row: string[]) =>
  !row.some((c) => /\d[.,]\d{2}\)?$/.test(c.trim())) &&
  headerScore(row) >= 2 &&
  row.filter((c) => c.trim()).length >= 2;

/**
 * An account summary above the table ("0234500012345678;21/11/2015;…;1234,37 EUR") holds dates
 * and figures too. It is a preamble, not the first transaction, when a header row follows that
 * is as wide as the rows under it but not as wide as any data-like row above it.
 */
function headerAfterPreamble(rows: string[][], firstData: number, limit: number): number {
  const widths = new Set<number>();
  for (let j = firstData; j < limit - 1; j++) {
    const row = rows[j]!;
    if (looksLikeData(row)) {
      widths.add(row.length);
      continue;
    }
    const next = rows[j + 1]!;
    if (namesColumns(row) && !widths.has(row.length) && next.length === row.length)
      return looksLikeData(next) ? j : -1;
  }
  return -1;
}

const looksLikeData = (row: string[]) =>
  row.some(isDateCell) &&
  row.some((cell) => /^[-+(]?\D{0,3}\d[\d.,' ]*\)?-?$/.test(cell.trim()) && !isDateCell(cell));

/**
 * Names the parser does not know still make a header: the row just above the first data row,
 * as wide as it, every cell filled with words and none of them a date or a figure.
 */
export function unnamedHeader(rows: string[][]): number {
  const first = firstDataRow(rows);
  const above = rows[first - 1];
  if (!above || above.length !== rows[first]!.length) return -1;
  const names = above.every(
    (cell) => /\p{L}/u.test(cell) && !isDateCell(cell) && !/\d[.,]\d{2}\)?$/.test(cell.trim()),
  );
  return names ? first - 1 : -1;
}

export function firstDataRow(rows: string[][]): number {
  const i = rows.findIndex(looksLikeData);
  return Math.max(i, 0);
}
