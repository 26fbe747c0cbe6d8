import {
  DATE_IN_TEXT,
  type DayMonthOrder,
  findPeriod,
  type Period,
  parseDate,
  toIso,
} from "./dates.js";
import type { Row } from "./pdf-table.js";

/**
 * The period a PDF statement covers, which gives dates printed without a year ("02 JUN",
 * "02/07") their year: a printed period, else the rows' own full dates, else a statement or
 * closing date (beside its label or under it), else — flagged — the latest full date printed.
 */
export function statementPeriod(
  texts: string[],
  order: DayMonthOrder,
  rows: Row[],
  flags: string[],
  warnings: string[],
): Period | null {
  const period =
    findPeriod(texts, order) ?? periodFromDates(rows) ?? periodFromStatementDate(texts, order);
  if (period || !rows.some((r) => r.date.year === null)) return period;
  const latest = periodFromLatestDate(texts, order);
  if (latest) {
    flags.push("year_assumed");
    warnings.push(
      `no statement period or statement date printed: the year of dates like "${rows[0]!.dateText}" is taken from the latest full date in the statement (${latest.end})`,
    );
  }
  return latest;
}

const weeksBefore = (end: string): Period => ({
  start: new Date(Date.parse(end) - 62 * 86_400_000).toISOString().slice(0, 10),
  end,
});

/** The latest full date printed anywhere (a due date, a print date): the end of the period. */
function periodFromLatestDate(texts: string[], order: DayMonthOrder): Period | null {
  let end: string | null = null;
  for (const text of texts)
    for (const match of text.matchAll(DATE_IN_TEXT)) {
      const parts = parseDate(match[0], order);
      if (!parts?.year) continue;
      const iso = toIso({ ...parts, year: parts.year });
      if (end === null || iso > end) end = iso;
    }
  return end === null ? null : weeksBefore(end);
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
  for (const [i, text] of texts.entries()) {
    if (!STATEMENT_DATE.test(text)) continue;
    // The date follows its label, or sits under it on the next line (a summary box).
    const after = text.slice(STATEMENT_DATE.exec(text)!.index);
    for (const match of [after, texts[i + 1] ?? ""].flatMap((t) => [...t.matchAll(DATE_IN_TEXT)])) {
      const parts = parseDate(match[0], order);
      if (!parts?.year) continue;
      return weeksBefore(toIso({ ...parts, year: parts.year }));
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
