import { NightshiftError } from "../../errors.js";
import { parseAmount, signedCents } from "./amounts.js";
import { type ParsedStatement, type ParsedTransaction, payeeFromDescription } from "./statement.js";

/**
 * OFX 1.x (SGML: leaf elements are never closed) and OFX 2.x (XML). Aggregates are closed in
 * both, so a statement transaction is always a <STMTTRN>…</STMTTRN> block, and a leaf's value
 * runs to the next "<" or line end in either dialect.
 */
export function parseOfx(text: string, file: string): ParsedStatement {
  if (!/<OFX>/i.test(text)) {
    throw new NightshiftError(`${file}: not an OFX file (no <OFX> element)`, { code: "bad_file" });
  }
  const statements = text.match(/<(?:CC)?STMTRS>/gi)?.length ?? 0;
  if (statements > 1) {
    // Each account has its own balance and transaction ids; mixing them would corrupt both.
    throw new NightshiftError(
      `${file}: holds ${statements} account statements; export one account per file from your bank`,
      { code: "bad_file" },
    );
  }
  const card = /<CCSTMTRS>/i.test(text);
  const list = block(text, "BANKTRANLIST") ?? "";
  const transactions: ParsedTransaction[] = [];
  for (const match of text.matchAll(/<STMTTRN>([\s\S]*?)<\/STMTTRN>/gi)) {
    transactions.push(readTransaction(match[1]!, file, transactions.length + 1));
  }
  const ledgerBal = block(text, "LEDGERBAL");
  const closing = ledgerBal ? leaf(ledgerBal, "BALAMT") : null;
  const closingCents = closing === null ? null : amount(closing, file, "LEDGERBAL/BALAMT");
  return {
    format: "ofx",
    kind: card ? "card" : "bank",
    accountNumber: leaf(text, "ACCTID"),
    currency: leaf(text, "CURDEF"),
    periodStart: ofxDate(leaf(list, "DTSTART")),
    periodEnd: ofxDate(leaf(list, "DTEND")),
    openingCents: null,
    // OFX balances are signed from the holder's side; a card's LEDGERBAL is negative when owed.
    closingCents: closingCents === null ? null : card ? -closingCents : closingCents,
    printedTotals: [],
    transactions,
    warnings: [],
  };
}

function readTransaction(body: string, file: string, n: number): ParsedTransaction {
  const date = ofxDate(leaf(body, "DTPOSTED"));
  if (!date) throw new NightshiftError(`${file}: transaction ${n} has no readable DTPOSTED`);
  const raw = leaf(body, "TRNAMT");
  if (raw === null) throw new NightshiftError(`${file}: transaction ${n} has no TRNAMT`);
  const name = leaf(body, "NAME") ?? leaf(block(body, "PAYEE") ?? "", "NAME");
  const memo = leaf(body, "MEMO");
  const description = [name, memo].filter((s): s is string => !!s && s.length > 0).join(" ");
  return {
    date,
    amountCents: amount(raw, file, `transaction ${n} TRNAMT`),
    description: description || (leaf(body, "TRNTYPE") ?? "transaction"),
    payee: name ? (payeeFromDescription(name) ?? name) : null,
    bankId: leaf(body, "FITID"),
    balanceCents: null,
  };
}

function amount(raw: string, file: string, where: string): number {
  // OFX amounts use a point, but some banks write a comma; never grouping separators.
  const parsed = parseAmount(raw.trim(), raw.includes(",") && !raw.includes(".") ? "," : ".");
  if (!parsed) throw new NightshiftError(`${file}: ${where} "${raw}" is not an amount`);
  return signedCents(parsed);
}

function block(text: string, tag: string): string | null {
  const m = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, "i").exec(text);
  return m ? m[1]! : null;
}

function leaf(text: string, tag: string): string | null {
  const m = new RegExp(`<${tag}>([^<\\r\\n]*)`, "i").exec(text);
  if (!m) return null;
  const value = decodeEntities(m[1]!.trim());
  return value.length > 0 ? value : null;
}

function decodeEntities(s: string): string {
  return s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&");
}

/** "20260105", "20260105120000.000[-5:EST]" → "2026-01-05". */
function ofxDate(value: string | null): string | null {
  const m = value ? /^(\d{4})(\d{2})(\d{2})/.exec(value) : null;
  return m ? `${m[1]}-${m[2]}-${m[3]}` : null;
}
