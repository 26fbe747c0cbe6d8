import { type DecimalMark, parseAmount, signedCents } from "./amounts.js";
import { type DateStyle, readDateCell } from "./date-cells.js";
import { type HeaderRole, headerRoles } from "./header-names.js";

/**
 * What a column holds, told from its cells: dates, amounts, debit/credit markers or free text.
 * The header only breaks ties; a column named "Amount" full of words is not an amount.
 */
export interface ColumnProfile {
  index: number;
  header: string;
  roles: HeaderRole[];
  filled: number;
  distinct: number;
  dates: number;
  amounts: number;
  /** Cells with a decimal mark: integer-only columns are often ids or check numbers. */
  decimals: number;
  negatives: number;
  /** Cells that are a figure other than zero. */
  nonzero: number;
  /** Nearly every filled cell is a debit/credit marker ("DEBIT", "Af", "CRDT", "S"). */
  marker: boolean;
  currencyCode: string | null;
  texts: number;
  /** Cells that are an account number (an IBAN, or digits in groups): the counterparty's account. */
  accounts: number;
  /** Average length of the filled cells: descriptions are longer than codes. */
  length: number;
  /** Cells that are a status or a kind of transaction ("Completed", "Card payment"). */
  kinds: number;
}

const DEBIT_WORDS = new Set([
  "debit",
  "debet",
  "dbit",
  "dr",
  "d",
  "af",
  "s",
  "soll",
  "withdrawal",
  "cargo",
  "addebito",
  "belastung",
  "o",
  "out",
  "outflow",
  "-",
]);
const CREDIT_WORDS = new Set([
  "credit",
  "crdt",
  "cr",
  "c",
  "bij",
  "h",
  "haben",
  "deposit",
  "abono",
  "accredito",
  "gutschrift",
  "i",
  "in",
  "inflow",
  "+",
]);

/** "Af" → "debit", "CRDT" → "credit"; null for anything else. */
export function markerSide(cell: string): "debit" | "credit" | null {
  const word = cell
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .trim()
    .toLowerCase()
    .replace(/\.$/, "");
  if (DEBIT_WORDS.has(word)) return "debit";
  if (CREDIT_WORDS.has(word)) return "credit";
  return null;
}

const STYLES: DateStyle[] = [
  { order: "DM", compactYearFirst: false },
  { order: "MD", compactYearFirst: false },
];

export function isDateCell(cell: string): boolean {
  return STYLES.some((style) => {
    const parts = readDateCell(cell, style);
    return parts !== null && parts.year !== null;
  });
}

export function amountCell(cell: string, decimal: DecimalMark): number | null {
  const parsed = parseAmount(cell, decimal);
  return parsed ? signedCents(parsed) : null;
}

export function profileColumns(
  header: string[] | null,
  rows: string[][],
  decimal: DecimalMark,
  /** Told after each column (each is a pass over every row). */
  onColumn?: (done: number, total: number) => void,
): ColumnProfile[] {
  // A loop, not Math.max(...rows): a spread of a million rows overflows the call stack.
  const width = rows.reduce((widest, row) => Math.max(widest, row.length), header?.length ?? 0);
  onColumn?.(0, width);
  return Array.from({ length: width }, (_, index) => {
    const cells = rows.map((row) => (row[index] ?? "").trim());
    const profile = profileColumn(index, header?.[index] ?? "", cells, decimal);
    onColumn?.(index + 1, width);
    return profile;
  });
}

function profileColumn(
  index: number,
  header: string,
  cells: string[],
  decimal: DecimalMark,
): ColumnProfile {
  const values = cells.filter((cell) => cell !== "");
  const count = (test: (cell: string) => boolean) => values.filter(test).length;
  const codes = new Set(values.filter((v) => /^[A-Z]{3}$/.test(v)));
  return {
    index,
    header,
    roles: headerRoles(header),
    filled: values.length,
    distinct: new Set(values).size,
    dates: count(isDateCell),
    amounts: count((cell) => amountCell(cell, decimal) !== null),
    decimals: count((cell) => /\d[.,]\d{1,4}\)?-?\s*(?:[A-Za-z]{2,3})?$/.test(cell)),
    negatives: count((cell) => (amountCell(cell, decimal) ?? 0) < 0),
    nonzero: count((cell) => (amountCell(cell, decimal) ?? 0) !== 0),
    marker: mostlyOf(values, (cell) => markerSide(cell) !== null),
    currencyCode:
      codes.size === 1 && count((v) => codes.has(v)) === values.length ? [...codes][0]! : null,
    texts: count((cell) => /\p{L}{2,}/u.test(cell)),
    accounts: count((cell) => ACCOUNT_NUMBER.test(cell)),
    length: values.reduce((n, v) => n + v.length, 0) / Math.max(1, values.length),
    kinds: count((cell) => STATUS.test(cell) || KIND.test(cell)),
  };
}

// What payment apps and banks print in their status and type columns (Venmo, PayPal, Revolut,
// N26, Monzo): words that say how a transaction went or what sort it is, never with whom.
const STATUS =
  /^(?:complete[d]?|pending|posted|cleared|uncleared|booked|settled|authori[sz]ed|declined|failed|reversed|cancell?ed|processed|success(?:ful)?|rejected|returned|reconciled)$/i;
const KIND =
  /^(?:(?:card|merchant|standard|instant|general|mobile|online|bank|wire|direct|atm|pos|p2p|peer)[ _-])?(?:transactions?|payments?|transfers?|charges?|purchases?|withdrawals?|deposits?|debit|credit|refunds?|top[ _-]?up|exchange|fees?)$/i;

const ACCOUNT_NUMBER =
  /^(?:[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,3})?|\d{2,6}(?:[\s-]\d{2,8}){2,})$/;

function mostlyOf(values: string[], test: (cell: string) => boolean): boolean {
  const n = values.filter(test).length;
  return values.length > 0 && n >= Math.max(1, Math.ceil(values.length * 0.9));
}

/** Most of its filled cells (and at least one) are of the kind. */
export function mostly(profile: ColumnProfile, n: number): boolean {
  return profile.filled > 0 && n >= Math.max(1, Math.ceil(profile.filled * 0.9));
}

/** Dates; a column named as one may hold a few words too ("Pending" rows of a card export). */
export const isDateColumn = (p: ColumnProfile) =>
  mostly(p, p.dates) || (p.roles[0] === "date" && p.dates >= Math.max(1, p.filled / 2));

/** Amount-like: figures, with a decimal mark somewhere or a header that names money. */
export function isAmountColumn(p: ColumnProfile): boolean {
  if (isDateColumn(p) || !mostly(p, p.amounts)) return false;
  const money = p.roles.some((r) => ["amount", "debit", "credit", "balance"].includes(r));
  return p.decimals > 0 || money;
}

/** Words in most cells: a column of check numbers is not text. */
export const isTextColumn = (p: ColumnProfile) =>
  p.filled > 0 &&
  p.texts >= p.filled / 2 &&
  !isDateColumn(p) &&
  !isAmountColumn(p) &&
  !p.marker &&
  p.currencyCode === null;
