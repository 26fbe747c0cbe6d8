import { normalizeHeader } from "./header-names.js";
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

// OCR'd text layers add noise to headings ("AMOUNT (SGD)I"): the normalized name is tried too.
const roleOf = (text: string) =>
  HEADERS.find(([, pattern]) => pattern.test(text))?.[0] ??
  HEADERS.find(([, pattern]) => pattern.test(normalizeHeader(text)))?.[0];

/**
 * A header cell's columns. Tight headers run together ("Date Description"), so a cell that is
 * not one heading is read as consecutive headings, their positions estimated from the text.
 */
function headerCells(cell: Cell): Column[] {
  const whole = roleOf(cell.text);
  if (whole) return [{ role: whole, x0: cell.x0, x1: cell.x1 }];
  const words = cell.text.split(" ");
  const perChar = (cell.x1 - cell.x0) / cell.text.length;
  const columns: Column[] = [];
  let at = 0;
  let offset = 0;
  while (at < words.length) {
    const n = [3, 2, 1].find(
      (k) => at + k <= words.length && roleOf(words.slice(at, at + k).join(" ")),
    );
    if (!n) return [];
    const text = words.slice(at, at + n).join(" ");
    columns.push({
      role: roleOf(text)!,
      x0: cell.x0 + offset * perChar,
      x1: cell.x0 + (offset + text.length) * perChar,
    });
    offset += text.length + 1;
    at += n;
  }
  return columns;
}
