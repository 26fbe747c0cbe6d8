import { AMOUNT_IN_TEXT } from "./amounts.js";
import { type DayMonthOrder, parseDate } from "./dates.js";
import type { Line } from "./pdf-text.js";

/**
 * Lines below the table's first header that begin with a date and carry an amount, when there
 * are more of them than rows read: the layout was misread somewhere, so the statement must not
 * pass as whole (every row begins with at most one such line).
 */
export function unreadRows(
  lines: Line[],
  consumed: Set<number>,
  order: DayMonthOrder,
  rows: number,
): Line[] {
  const first = Math.min(...consumed);
  if (!Number.isFinite(first)) return [];
  const dated = lines.filter(
    (line, i) =>
      i > first &&
      startsWithDate(line.cells[0]?.text ?? "", order) &&
      new RegExp(AMOUNT_IN_TEXT.source).test(line.text.slice(line.cells[0]!.text.length)),
  );
  return dated.length > rows ? dated.filter((_, i) => i >= rows) : [];
}

function startsWithDate(text: string, order: DayMonthOrder): boolean {
  const words = text.trim().split(/\s+/);
  for (let n = Math.min(3, words.length); n >= 1; n--)
    if (parseDate(words.slice(0, n).join(" "), order)) return true;
  return false;
}
