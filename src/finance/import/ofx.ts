import { NightshiftError } from "../../errors.js";
import { maskAccountIn } from "../mask.js";
import { parseAmount, signedCents } from "./amounts.js";
import { type ParsedStatement, type ParsedTransaction, payeeFromDescription } from "./statement.js";

/**
 * OFX 1.x (SGML: leaf elements are never closed) and OFX 2.x (XML). Aggregates are closed in
 * both, so a statement transaction is always a <STMTTRN>…</STMTTRN> block, and a leaf's value
 * runs to the next "<" or line end in either dialect.
 */
export function parseOfx(text: string, file: string): ParsedStatement[] {
  if (!/<OFX>/i.test(text)) {
    throw new NightshiftError(`${file}: not an OFX file (no <OFX> element)`, { code: "bad_file" });
  }
  refuseWhatIsNotABankStatement(text, file);
  // One file may hold several accounts' statements (a bank's "all accounts" download); each
  // keeps its own account, balance and transaction ids.
  const blocks = [...text.matchAll(/<(CC)?STMTRS>([\s\S]*?)<\/(?:CC)?STMTRS>/gi)];
  if (blocks.length === 0) return [readStatement(text, file, /<CCSTMTRS>/i.test(text))];
  return blocks.map((m) => readStatement(m[2]!, file, m[1] !== undefined));
}

function readStatement(text: string, file: string, card: boolean): ParsedStatement {
  const currency = leaf(text, "CURDEF");
  const rounded: number[] = [];
  const list = block(text, "BANKTRANLIST") ?? "";
  const transactions: ParsedTransaction[] = [];
  for (const body of transactionBlocks(text)) {
    transactions.push(readTransaction(body, file, transactions.length + 1, { rounded, currency }));
  }
  const account = leaf(text, "ACCTID");
  for (const t of transactions) if (t.bankId) t.bankId = maskAccountIn(t.bankId, account);
  const ledgerBal = block(text, "LEDGERBAL");
  const closing = ledgerBal ? leaf(ledgerBal, "BALAMT") : null;
  const closingCents = closing === null ? null : balanceAmount(closing, currency);
  return {
    format: "ofx",
    kind: card ? "card" : "bank",
    accountNumber: account,
    currency,
    periodStart: ofxDate(leaf(list, "DTSTART")),
    periodEnd: ofxDate(leaf(list, "DTEND")),
    openingCents: null,
    // OFX balances are signed from the holder's side; a card's LEDGERBAL is negative when owed.
    closingCents: closingCents === null ? null : card ? -closingCents : closingCents,
    printedTotals: [],
    transactions,
    warnings: (closing !== null && closingCents === null
      ? [`the closing balance "${closing}" is not an amount; the statement stays unchecked`]
      : []
    ).concat(
      rounded.length
        ? [`${rounded.length} amount(s) printed with more decimals than the currency has, rounded`]
        : [],
    ),
  };
}

/**
 * An OFX file can carry an investment statement or a server's error instead of a bank or card
 * statement; each is refused with what it is, never read as an empty account.
 */
/**
 * Each <STMTTRN>'s content. The aggregate is closed by the spec, but some servers leave it open:
 * then it runs to the next <STMTTRN> or the end of the list, never silently swallowing the rest.
 */
function transactionBlocks(text: string): string[] {
  const blocks: string[] = [];
  const open = /<STMTTRN>/gi;
  for (let m = open.exec(text); m; m = open.exec(text)) {
    const rest = text.slice(m.index + m[0].length);
    const end = /<\/STMTTRN>|<STMTTRN>|<\/BANKTRANLIST>|<\/(?:CC)?STMTRS>/i.exec(rest);
    blocks.push(end ? rest.slice(0, end.index) : rest);
  }
  return blocks;
}

function refuseWhatIsNotABankStatement(text: string, file: string): void {
  if (/<(?:CC)?STMTRS>/i.test(text)) return;
  if (/<INVSTMTRS>|<INVSTMTMSGSRSV1>/i.test(text)) {
    throw new NightshiftError(
      `${file}: investment statement: not supported (only bank and card statements are imported)`,
      { code: "unsupported_statement" },
    );
  }
  refuseServerError(text, file);
  if (/<ACCTINFORS>/i.test(text)) {
    throw new NightshiftError(
      `${file}: an account list (ACCTINFORS) from the bank's server, not a statement: it holds no transactions; download the statement itself`,
      { code: "unsupported_statement" },
    );
  }
}

function refuseServerError(text: string, file: string): void {
  for (const status of text.matchAll(/<STATUS>([\s\S]*?)<\/STATUS>/gi)) {
    const code = leaf(status[1]!, "CODE");
    if (code !== null && code !== "0") {
      const message = leaf(status[1]!, "MESSAGE");
      throw new NightshiftError(
        `${file}: the bank's server answered with an error instead of a statement: OFX status ${code}${message ? ` (${message})` : ""}; download the statement again`,
        { code: "bad_file" },
      );
    }
  }
}

function readTransaction(
  body: string,
  file: string,
  n: number,
  money: { rounded: number[]; currency: string | null },
): ParsedTransaction {
  const date = ofxDate(leaf(body, "DTPOSTED"));
  if (!date) throw new NightshiftError(`${file}: transaction ${n} has no readable DTPOSTED`);
  const raw = leaf(body, "TRNAMT");
  if (raw === null) throw new NightshiftError(`${file}: transaction ${n} has no TRNAMT`);
  const name = leaf(body, "NAME") ?? leaf(block(body, "PAYEE") ?? "", "NAME");
  const memo = leaf(body, "MEMO");
  const description = [name, memo].filter((s): s is string => !!s && s.length > 0).join(" ");
  return {
    date,
    amountCents: amount(raw, file, `transaction ${n} TRNAMT`, money.rounded, money.currency),
    description: description || (leaf(body, "TRNTYPE") ?? "transaction"),
    payee: name ? (payeeFromDescription(name) ?? name) : null,
    bankId: leaf(body, "FITID"),
    balanceCents: null,
  };
}

// ISO 4217 currencies without a minor unit: their amounts round to the whole unit.
const NO_CENTS = new Set(
  "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(" "),
);

function amount(
  raw: string,
  file: string,
  where: string,
  rounded: number[],
  currency: string | null = null,
): number {
  // OFX amounts use a point, but some banks write a comma; never grouping separators. Any
  // number of decimals is allowed: beyond the currency's minor unit they are rounded, half
  // away from zero.
  const m = /^([-+]?)(\d*)[.,]?(\d*)$/.exec(ungroup(raw.trim().replace(/\s/g, "")));
  if (!m || (m[2] === "" && m[3] === "")) {
    throw new NightshiftError(`${file}: ${where} "${raw}" is not an amount`, { code: "bad_file" });
  }
  const places = currency !== null && NO_CENTS.has(currency.toUpperCase()) ? 0 : 2;
  const fraction = m[3]!;
  let units = Number(`${m[2] || "0"}${fraction.slice(0, places).padEnd(places, "0")}`);
  if (/[1-9]/.test(fraction.slice(places))) {
    rounded.push(units);
    if (Number(fraction[places]) >= 5) units += 1;
  }
  const cents = places === 0 ? units * 100 : units;
  if (!Number.isSafeInteger(cents))
    throw new NightshiftError(`${file}: ${where} "${raw}" is out of range`, { code: "bad_file" });
  return m[1] === "-" ? -cents : cents;
}

/** "1,234.56" and "1.234,56": grouping in threes before a different decimal mark is dropped. */
function ungroup(raw: string): string {
  if (/^[-+]?\d{1,3}(?:,\d{3})+\.\d+$/.test(raw)) return raw.replace(/,/g, "");
  if (/^[-+]?\d{1,3}(?:\.\d{3})+,\d*$/.test(raw)) return raw.replace(/\./g, "");
  return raw;
}

/**
 * A balance is only a check: one a server prints in local form ("R$ 5.326,43") is read as such,
 * and one that cannot be read leaves the statement unchecked rather than refusing it.
 */
function balanceAmount(raw: string, currency: string | null): number | null {
  try {
    return amount(raw, "", "", [], currency);
  } catch (error) {
    if (!(error instanceof NightshiftError)) throw error;
    const parsed = parseAmount(raw.replace(/^[A-Z]{0,3}\$/, "").trim());
    return parsed ? signedCents(parsed) : null;
  }
}

function block(text: string, tag: string): string | null {
  const m = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, "i").exec(text);
  return m ? m[1]! : null;
}

function leaf(text: string, tag: string): string | null {
  // Some servers wrap text in CDATA, which may hold "<" and line breaks.
  const m = new RegExp(`<${tag}>\\s*(?:<!\\[CDATA\\[([\\s\\S]*?)\\]\\]>|([^<\\r\\n]*))`, "i").exec(
    text,
  );
  if (!m) return null;
  const value =
    m[1] !== undefined ? m[1].replace(/\s+/g, " ").trim() : decodeEntities(m[2]!.trim());
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
