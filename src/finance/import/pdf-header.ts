import { headerRoles, normalizeHeader } from "./header-names.js";
import type { Cell, Line } from "./pdf-text.js";

/** The header row of a PDF statement's transaction table: which column holds what, and where. */

export type Role = "date" | "description" | "debit" | "credit" | "amount" | "balance";
export interface Column {
  role: Role;
  x0: number;
  x1: number;
}

const HEADERS: [Role, RegExp][] = [
  [
    "date",
    /^(?:(?:trans(?:action)?|posting|post|posted|value|booking|txn)\.?\s+)?date$|^datum$|^fecha$|^buchungstag$/i,
  ],
  [
    "description",
    /^(?:description|details|transaction details|transaction|particulars|payee|merchant|narrative|reference|verwendungszweck|buchungstext|concepto|libellé)$/i,
  ],
  ["debit", /^(?:debits?|withdrawals?|money out|paid out|debit amount|soll|lastschrift|cargo)$/i],
  ["credit", /^(?:credits?|deposits?|money in|paid in|credit amount|haben|gutschrift|abono)$/i],
  ["amount", /^(?:amount|amount \(\w+\)|betrag|importe|montant)$/i],
  ["balance", /^(?:balance|saldo|solde)$/i],
];

export function headerColumns(line: Line): Column[] | null {
  const columns = line.cells.flatMap(headerCells);
  const has = (role: Role) => columns.some((c) => c.role === role);
  const money = has("amount") || has("debit") || has("credit");
  return has("date") && has("description") && money ? columns : null;
}

// OCR'd text layers add noise to headings ("AMOUNT (SGD)I", "DESCRlPTION"): the normalized
// name is tried too, then with one commonly confused character read the other way.
function roleOf(text: string, loose: boolean): Role | undefined {
  const exact = HEADERS.find(([, pattern]) => pattern.test(text))?.[0];
  if (exact) return exact;
  for (const name of [normalizeHeader(text), ...ocrReadings(text)]) {
    const role =
      HEADERS.find(([, pattern]) => pattern.test(name))?.[0] ??
      (loose ? looseRole(name) : undefined);
    if (role) return role;
  }
  return undefined;
}

/**
 * The wider vocabulary of CSV headers ("Tran date", "Description of transaction", "Transaction
 * description"), for short headings only: a sentence in a statement's preamble is no heading.
 */
function looseRole(name: string): Role | undefined {
  if (name.split(" ").length > 4 || /\d/.test(name)) return undefined;
  const role = headerRoles(name)[0];
  if (role === "value_date") return "date";
  if (role === "payee") return "description";
  return role === "date" ||
    role === "description" ||
    role === "debit" ||
    role === "credit" ||
    role === "amount" ||
    role === "balance"
    ? role
    : undefined;
}

const CONFUSED: Record<string, string> = {
  l: "i",
  "1": "i",
  "|": "i",
  "0": "o",
  "5": "s",
  "8": "b",
};

/** The heading with one OCR-confused character read as the letter it most often is. */
function ocrReadings(text: string): string[] {
  const lower = text.toLowerCase();
  const readings: string[] = [];
  for (let i = 0; i < lower.length && readings.length < 24; i++) {
    const other = CONFUSED[lower[i]!];
    if (other) readings.push(normalizeHeader(lower.slice(0, i) + other + lower.slice(i + 1)));
  }
  return readings;
}

/**
 * A header cell's columns. Tight headers run together ("Date Description"), so a cell that is
 * not one heading is read as consecutive headings, their positions estimated from the text.
 */
function headerCells(cell: Cell): Column[] {
  // The banks' own short names first, each part of a run-together cell too; the wider
  // vocabulary only where those fail ("Date Description" is two headings, not a date).
  for (const loose of [false, true]) {
    const whole = roleOf(cell.text, loose);
    if (whole) return [{ role: whole, x0: cell.x0, x1: cell.x1 }];
    const parts = consecutiveHeadings(cell, loose);
    if (parts.length > 0) return parts;
  }
  return [];
}

function consecutiveHeadings(cell: Cell, loose: boolean): Column[] {
  const words = cell.text.split(" ");
  if (words.length < 2) return [];
  const perChar = (cell.x1 - cell.x0) / cell.text.length;
  const columns: Column[] = [];
  let at = 0;
  let offset = 0;
  while (at < words.length) {
    const n = [3, 2, 1].find(
      (k) => at + k <= words.length && roleOf(words.slice(at, at + k).join(" "), loose),
    );
    if (!n) return [];
    const text = words.slice(at, at + n).join(" ");
    columns.push({
      role: roleOf(text, loose)!,
      x0: cell.x0 + offset * perChar,
      x1: cell.x0 + (offset + text.length) * perChar,
    });
    offset += text.length + 1;
    at += n;
  }
  return columns;
}
