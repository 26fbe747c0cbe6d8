/** What every importer produces, whatever the file format. Amounts are signed integer cents. */

export type StatementFormat = "pdf" | "csv" | "ofx";
/** A card statement prints what is owed: charges raise the balance. */
export type AccountKind = "bank" | "card";

export interface ParsedTransaction {
  /** ISO date, YYYY-MM-DD. */
  date: string;
  /** Positive: money in (deposit, card payment or refund). Negative: money out. */
  amountCents: number;
  description: string;
  payee: string | null;
  /** The bank's own id for the transaction (OFX FITID, a CSV reference column). */
  bankId: string | null;
  /** Running balance printed beside the transaction, if any. */
  balanceCents: number | null;
}

export interface ParsedStatement {
  format: StatementFormat;
  kind: AccountKind;
  /** As printed; masked before anything is stored or shown. */
  accountNumber: string | null;
  currency: string | null;
  periodStart: string | null;
  periodEnd: string | null;
  /** Printed balances, in the statement's own convention (a card's balance is what is owed). */
  openingCents: number | null;
  closingCents: number | null;
  /** Printed totals, each labelled with the side it sums, as absolute cents. */
  printedTotals: PrintedTotal[];
  transactions: ParsedTransaction[];
  /** Things the parser noticed that a person should know (a row it could not read, ...). */
  warnings: string[];
  /** How the columns were read (CSV): role → header, and who chose it; for --dry-run. */
  layout?: ReadLayout | undefined;
  /**
   * Checks that need no balance and failed: the file says something the reading contradicts
   * (a debit marker on a positive amount, every amount of one sign). The statement is flagged.
   */
  contradictions?: string[] | undefined;
  /** Flags for the stored statement: what the reading assumed ("date_order_assumed", ...). */
  flags?: string[] | undefined;
}

export interface ReadLayout {
  source: "detected" | "configured" | "knowledge" | "model";
  /** Role ("date", "amount", "sign", ...) → the column's header, or "column N" without one. */
  columns: Record<string, string>;
  dateFormat: string;
  decimal: "." | ",";
  /** The header signature the layout is remembered under (see layout-memory.ts). */
  signature: string;
}

export interface PrintedTotal {
  label: string;
  /** "out": withdrawals, purchases; "in": deposits, payments; "any": a bare "Total". */
  side: "in" | "out" | "any";
  cents: number;
}

/** The payee from a bank's description: its leading words before reference numbers and codes. */
export function payeeFromDescription(description: string): string | null {
  const cleaned = description
    .replace(/^(?:POS|DEBIT CARD|CARD|VISA|PURCHASE|ACH|DIRECT DEBIT|DD|SO|TFR|CHECKCARD)\s+/i, "")
    .replace(/\s+(?:#|REF|ID:|TRACE)\s*\S*.*$/i, "")
    .replace(/\s+\d{2}\/\d{2}.*$/, "")
    .replace(/\s+[A-Z]{2}\s*$/, "")
    .replace(/[*#]\S*/g, " ")
    .replace(/\s+\d[\d-]{3,}.*$/, "")
    .replace(/\s+/g, " ")
    .trim();
  return cleaned.length >= 2 ? cleaned : null;
}
