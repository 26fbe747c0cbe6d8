/**
 * Statement dates → ISO "YYYY-MM-DD". Statements print dates in many forms, often without the
 * year; the day/month order is inferred from the whole document and the year from its period.
 */

export type DayMonthOrder = "MD" | "DM";

export interface DateParts {
  year: number | null;
  month: number;
  day: number;
}

export interface Period {
  start: string;
  end: string;
}

const MONTHS: Record<string, number> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  sept: 9,
  oct: 10,
  nov: 11,
  dec: 12,
  janv: 1,
  fev: 2,
  mär: 3,
  mrz: 3,
  abr: 4,
  mai: 5,
  ago: 8,
  okt: 10,
  dez: 12,
  dic: 12,
  ene: 1,
  gen: 1,
  juin: 6,
  juil: 7,
  aout: 8,
  déc: 12,
};

const MONTH_NAME = "([A-Za-zéèäû]{3,9})\\.?";
const ISO = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/;
const NUMERIC = /^(\d{1,2})[-/.](\d{1,2})(?:[-/.](\d{2}|\d{4}))?$/;
// "10-Nov-9": some exports drop the year's leading zero, written only between hyphens (a lone
// digit after a spaced date is more likely the next word's).
// "02JUN" and "02JUN2023": card statements run the day into the month.
const DAY_NAME = new RegExp(
  `^(\\d{1,2})(?:st|nd|rd|th)?[\\s-]*${MONTH_NAME}(?:[\\s,-]+(\\d{2}|\\d{4})|-(\\d)|(\\d{4}))?$`,
);
const NAME_DAY = new RegExp(`^${MONTH_NAME}\\s+(\\d{1,2})(?:st|nd|rd|th)?(?:,?\\s+(\\d{4}))?$`);

function monthNumber(name: string): number | null {
  const key = name.toLowerCase();
  return MONTHS[key] ?? MONTHS[key.slice(0, 3)] ?? null;
}

function fullYear(text: string | undefined): number | null {
  if (!text) return null;
  const n = Number(text);
  return text.length <= 2 ? 2000 + n : n;
}

/** The first and second numbers of a numeric date, before the order is known. */
export function numericPair(text: string): [number, number] | null {
  const m = NUMERIC.exec(text.trim());
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/** Reads one date; null when the text is not a date in a form we know. */
export function parseDate(text: string, order: DayMonthOrder): DateParts | null {
  const s = text.trim();
  let m = ISO.exec(s);
  if (m) return valid({ year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) });
  m = NUMERIC.exec(s);
  if (m) {
    const [a, b] = [Number(m[1]), Number(m[2])];
    const [month, day] = order === "MD" ? [a, b] : [b, a];
    return valid({ year: fullYear(m[3]), month, day });
  }
  m = DAY_NAME.exec(s);
  if (m) {
    const month = monthNumber(m[2]!);
    return month ? valid({ year: fullYear(m[3] ?? m[4] ?? m[5]), month, day: Number(m[1]) }) : null;
  }
  m = NAME_DAY.exec(s);
  if (m) {
    const month = monthNumber(m[1]!);
    return month ? valid({ year: fullYear(m[3]), month, day: Number(m[2]) }) : null;
  }
  return null;
}

function valid(parts: DateParts): DateParts | null {
  if (parts.month < 1 || parts.month > 12 || parts.day < 1) return null;
  const year = parts.year ?? 2000; // a leap year, so 29 Feb without a year is accepted
  const days = new Date(Date.UTC(year, parts.month, 0)).getUTCDate();
  return parts.day <= days ? parts : null;
}

/**
 * Day/month order from every numeric date in the document: a first number above 12 proves
 * day-first, a second above 12 proves month-first. With no proof, the number format decides
 * (a decimal comma goes with day-first), and month-first otherwise.
 */
export function inferOrder(samples: Iterable<string>, fallback: DayMonthOrder): DayMonthOrder {
  let dm = 0;
  let md = 0;
  for (const sample of samples) {
    const pair = numericPair(sample);
    if (!pair) continue;
    if (pair[0] > 12 && pair[1] <= 12) dm++;
    if (pair[1] > 12 && pair[0] <= 12) md++;
  }
  if (dm === md) return fallback;
  return dm > md ? "DM" : "MD";
}

export function toIso(parts: { year: number; month: number; day: number }): string {
  return `${parts.year}-${String(parts.month).padStart(2, "0")}-${String(parts.day).padStart(2, "0")}`;
}

/**
 * The year of a date printed without one: the year that puts it inside the statement period
 * (so a December date on a Dec–Jan statement gets the earlier year), else the closest year to
 * the period's end.
 */
export function resolveYear(parts: DateParts, period: Period | null): number | null {
  if (parts.year !== null) return parts.year;
  if (!period) return null;
  const startYear = Number(period.start.slice(0, 4));
  const endYear = Number(period.end.slice(0, 4));
  const candidates = [startYear - 1, startYear, endYear, endYear + 1];
  const end = Date.parse(period.end);
  const start = Date.parse(period.start);
  let best: number | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const year of candidates) {
    const at = Date.parse(toIso({ year, month: parts.month, day: parts.day }));
    const distance = at < start ? start - at : at > end ? at - end : 0;
    if (distance < bestDistance) {
      bestDistance = distance;
      best = year;
    }
  }
  return best;
}

/** ISO date of the parts, or null when the year cannot be told. */
export function isoDate(parts: DateParts, period: Period | null): string | null {
  const year = resolveYear(parts, period);
  return year === null ? null : toIso({ year, month: parts.month, day: parts.day });
}

/** A date token inside free text: used to find the statement period in a line. */
export const DATE_IN_TEXT = new RegExp(
  [
    "\\d{4}[-/.]\\d{1,2}[-/.]\\d{1,2}",
    "\\d{1,2}[-/.]\\d{1,2}[-/.](?:\\d{4}|\\d{2})",
    "\\d{1,2}(?:st|nd|rd|th)?[\\s-]+[A-Za-z]{3,9}\\.?[\\s,-]+\\d{4}",
    "[A-Za-z]{3,9}\\.?\\s+\\d{1,2}(?:st|nd|rd|th)?,?\\s+\\d{4}",
  ].join("|"),
  "g",
);

/**
 * The statement period from a line like "Statement period: 12/15/2025 to 01/14/2026" or
 * "1 January 2026 - 31 January 2026": two full dates joined by a dash or "to".
 */
export function findPeriod(lines: string[], order: DayMonthOrder): Period | null {
  for (const line of lines) {
    const dates = [...line.matchAll(DATE_IN_TEXT)];
    for (let i = 0; i + 1 < dates.length; i++) {
      const first = dates[i]!;
      const second = dates[i + 1]!;
      const between = line.slice(first.index + first[0].length, second.index);
      if (!/^\s*(?:-|–|—|to|through|thru|until|bis|au|al)\s*$/i.test(between)) continue;
      const a = parseDate(first[0], order);
      const b = parseDate(second[0], order);
      if (a?.year && b?.year) {
        const start = toIso({ year: a.year, month: a.month, day: a.day });
        const end = toIso({ year: b.year, month: b.month, day: b.day });
        if (start <= end) return { start, end };
      }
    }
  }
  return null;
}
