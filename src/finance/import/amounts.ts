/**
 * Money as printed on statements → integer cents. Floats never touch an amount: the digits are
 * read as text, so 0.1 + 0.2 problems cannot reach a total.
 */

export type DecimalMark = "." | ",";

export interface ParsedAmount {
  /** Absolute value in cents. */
  cents: number;
  /** Printed as negative: a minus sign, a trailing minus, or parentheses. */
  negative: boolean;
  /** A CR or DR mark printed beside the figure. */
  marker: "CR" | "DR" | null;
}

// "S$", "HK$", "RM": a currency printed against the figure says nothing about its value.
const CURRENCY =
  /\b(?:S|A|C|NZ|HK|US|NT|R)\$|[$€£¥₹]|\b(?:USD|EUR|GBP|CHF|CAD|AUD|SGD|NZD|HKD|MYR|RM|JPY|INR|SEK|NOK|DKK|PLN|CZK|ZAR)\b/gi;

/** The whole text must be one amount; anything else (a date, a word) answers null. */
export function parseAmount(text: string, decimal?: DecimalMark): ParsedAmount | null {
  let s = text
    .replace(CURRENCY, "")
    .replace(/\u2212/g, "-")
    .trim();
  let marker: ParsedAmount["marker"] = null;
  const mark = /\s*\b(CR|DR|Cr|Dr)\.?$/.exec(s);
  if (mark) {
    marker = mark[1]!.toUpperCase() as "CR" | "DR";
    s = s.slice(0, mark.index).trim();
  }
  let negative = false;
  if (/^\(.*\)$/.test(s)) {
    negative = true;
    s = s.slice(1, -1).trim();
  }
  if (/^[-+]/.test(s)) {
    negative = s.startsWith("-");
    s = s.slice(1).trim();
  } else if (/-$/.test(s)) {
    negative = true;
    s = s.slice(0, -1).trim();
  }
  // "$.23": a figure may start at its decimal mark.
  s = s
    .replace(CURRENCY, "")
    .trim()
    .replace(/^([.,]\d{1,2})$/, "0$1");
  const cents = parseUnsigned(s, decimal);
  if (cents === null) return null;
  return { cents, negative, marker };
}

/** Signed cents: negative when printed negative or marked DR. */
export function signedCents(amount: ParsedAmount): number {
  return amount.negative || amount.marker === "DR" ? -amount.cents : amount.cents;
}

function parseUnsigned(s: string, decimal?: DecimalMark): number | null {
  if (!/^\d[\d.,' \u00a0\u202f]*$/.test(s)) return null;
  const mark = decimal ?? guessDecimalMark(s);
  const group = mark === "." ? /[,' \u00a0\u202f]/g : /[.' \u00a0\u202f]/g;
  // Grouping must be in threes, so "1,23" under a "." mark is not silently read as 123.
  const grouped =
    mark === "."
      ? /^\d{1,3}([,' \u00a0\u202f]\d{3})*(\.\d+)?$/
      : /^\d{1,3}([.' \u00a0\u202f]\d{3})*(,\d+)?$/;
  const plain = mark === "." ? /^\d+(\.\d+)?$/ : /^\d+(,\d+)?$/;
  if (!grouped.test(s) && !plain.test(s)) return null;
  const [whole = "0", fraction = ""] = s.replace(group, "").split(mark);
  if (fraction.length > 2) return null;
  const cents = Number(whole) * 100 + Number(fraction.padEnd(2, "0"));
  return Number.isSafeInteger(cents) ? cents : null;
}

/** For one figure alone: the last separator followed by exactly two digits is the decimal mark. */
function guessDecimalMark(s: string): DecimalMark {
  if (/,\d{2}$/.test(s) && !/\.\d{1,2}$/.test(s)) return ",";
  if (/,\d{1,2}$/.test(s) && !s.includes(".")) return ",";
  return ".";
}

/**
 * The document's decimal mark, from all its figures: "1.234,56" and "12,50" vote for a comma,
 * "1,234.56" and "12.50" for a point. A statement uses one convention throughout.
 */
export function detectDecimalMark(samples: Iterable<string>): DecimalMark {
  let comma = 0;
  let point = 0;
  for (const sample of samples) {
    if (/\d,\d{2}(?!\d)/.test(sample) && !/\d\.\d{2}(?!\d)/.test(sample)) comma++;
    if (/\d\.\d{2}(?!\d)/.test(sample) && !/\d,\d{2}(?!\d)/.test(sample)) point++;
    if (/\d\.\d{3},\d{2}/.test(sample)) comma += 2;
    if (/\d,\d{3}\.\d{2}/.test(sample)) point += 2;
  }
  return comma > point ? "," : ".";
}

/**
 * Statement figures inside free text ("Closing balance 1,234.56 CR"): two decimals required, so
 * dates, card numbers and page numbers are never read as money.
 */
export const AMOUNT_IN_TEXT =
  /(?<![\d.,/-])(?:\(\s*)?[-+\u2212]?\s?(?:[$€£]\s?)?\d{1,3}(?:[.,'\u00a0 ]\d{3})*[.,]\d{2}(?:\s*\))?(?:-|\s?(?:CR|DR)\b)?(?![\d/]|[.,]\d)/g;

export function amountsInText(text: string, decimal: DecimalMark): number[] {
  const found: number[] = [];
  for (const match of text.matchAll(AMOUNT_IN_TEXT)) {
    const parsed = parseAmount(match[0], decimal);
    if (parsed) found.push(signedCents(parsed));
  }
  return found;
}

/** 123456 → "1,234.56"; sign kept. */
export function formatCents(cents: number): string {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(cents);
  const whole = Math.floor(abs / 100).toLocaleString("en-US");
  return `${sign}${whole}.${String(abs % 100).padStart(2, "0")}`;
}

/** 84700, "USD" → "$847.00"; other currencies keep their code. */
export function formatMoney(cents: number, currency: string): string {
  const symbol = { USD: "$", EUR: "€", GBP: "£" }[currency];
  const body = formatCents(Math.abs(cents));
  const sign = cents < 0 ? "-" : "";
  return symbol ? `${sign}${symbol}${body}` : `${sign}${body} ${currency}`;
}
