import { type DateParts, type DayMonthOrder, parseDate } from "./dates.js";

/**
 * One date cell of an export, in any form banks write: ISO, "20200213", "13.02.2020",
 * "02/13/2020", "13 Feb 2020", with or without a time after it.
 */

/** How a layout's `date_format` ("YYYYMMDD", "DD.MM.YYYY", "MM/DD/YY") orders its parts. */
export interface DateStyle {
  order: DayMonthOrder;
  /** For eight digits with no separator: year first ("YYYYMMDD") or last ("DDMMYYYY"). */
  compactYearFirst: boolean;
}

export function dateStyleOf(format: string): DateStyle {
  const letters = format.toUpperCase().replace(/[^DMY]/g, "");
  const order: DayMonthOrder = letters.replace(/Y/g, "").startsWith("M") ? "MD" : "DM";
  return { order, compactYearFirst: letters.startsWith("Y") };
}

const TIME =
  /(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s?[AP]M)?(?:\s?(?:Z|UTC|GMT|[+-]\d{2}:?\d{2}))?)$/i;

export function readDateCell(text: string, style: DateStyle): DateParts | null {
  // "2019.04.19." (Hungarian) ends with a dot; a time after the date says nothing about the day.
  const s = text
    .trim()
    .replace(/\[[^\]]*\]$/, "")
    .replace(TIME, "")
    .trim()
    .replace(/(\d)\.$/, "$1");
  // "20091221120000" (OFX style): the day is the first eight digits.
  const compact = /^(\d{8})(?:\d{6}(?:\.\d+)?)?$/.exec(s);
  if (compact) return readCompact(compact[1]!, style);
  return parseDate(s, style.order);
}

function readCompact(digits: string, style: DateStyle): DateParts | null {
  const ymd = {
    year: Number(digits.slice(0, 4)),
    month: Number(digits.slice(4, 6)),
    day: Number(digits.slice(6, 8)),
  };
  const tail = { year: Number(digits.slice(4, 8)) };
  const [a, b] = [Number(digits.slice(0, 2)), Number(digits.slice(2, 4))];
  const yearLast =
    style.order === "MD"
      ? { year: tail.year, month: a, day: b }
      : { year: tail.year, month: b, day: a };
  const plausible = (parts: DateParts) =>
    parts.year !== null && parts.year >= 1950 && parts.year <= 2100 && validDay(parts);
  if (style.compactYearFirst || plausible(ymd)) return plausible(ymd) ? ymd : null;
  return plausible(yearLast) ? yearLast : null;
}

function validDay(parts: DateParts): boolean {
  if (parts.month < 1 || parts.month > 12 || parts.day < 1) return false;
  return parts.day <= new Date(Date.UTC(parts.year ?? 2000, parts.month, 0)).getUTCDate();
}
