/**
 * Column header names as banks print them, in many languages, matched tolerantly: case,
 * accents, punctuation, a currency in brackets and OCR noise ("AMOUNT (SGD)I") do not matter.
 * A header only suggests a role; the column's content must agree (see csv-columns.ts).
 */

export type HeaderRole =
  | "date"
  | "value_date"
  | "description"
  | "payee"
  | "amount"
  | "debit"
  | "credit"
  | "balance"
  | "sign"
  | "id"
  | "currency";

/** "Betrag (EUR)I" → "betrag"; "Naam / Omschrijving" → "naam omschrijving". */
export function normalizeHeader(cell: string): string {
  const words = cell
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/\([^)]*\)\s*\S?$/, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/[^a-z0-9]+/g, " ")
    .trim()
    .split(" ")
    .filter(Boolean);
  // A currency code or a stray OCR letter after the name says nothing about the role.
  while (words.length > 1 && words.at(-2)!.length > 2 && CODES.has(words.at(-1)!)) words.pop();
  return words.join(" ");
}

const CODES = new Set([
  ..."abcdefghijklmnopqrstuvwxyz",
  ..."eur usd gbp chf sgd sek nok dkk cad aud jpy pln czk huf inr brl mxn".split(" "),
]);

// Whole-word stems, tried on the normalized header. Order inside a role does not matter; the
// roles are tried most specific first (a "Debit amount" is a debit, not an amount).
const WORDS: [HeaderRole, RegExp][] = [
  [
    "value_date",
    /\b(?:value date|valuta\w*|wertstellung|date de valeur|fecha valor|data valuta|rentedatum)\b/,
  ],
  [
    "balance",
    /\b(?:balance|running ?balance|saldo|solde|kontostand|saldo na mutatie|saldo despues|saldo disponible|disponible|balans|egyenleg)\b|saldo/,
  ],
  [
    "sign",
    /^(?:af bij|bij af|d c|c d|cr dr|dr cr|debit credit|credit debit|s h|soll haben|transaction type|type|debit credit indicator|cdtdbtind|credit debit indicator|dc|indicator|sign|richting|direction)$/,
  ],
  [
    "debit",
    /\b(?:debits?|debet|withdrawals?|money out|paid out|outflows?|soll|ausgang|ausgabe|lastschrift|cargos?|uitgaven?|afschrijving|addebit[oi]|uttag|udbetaling|belastning|debito|sortie|depenses?)\b/,
  ],
  [
    "credit",
    /\b(?:credits?|deposits?|money in|paid in|inflows?|haben|eingang|einnahme|gutschrift|abonos?|ingresos?|inkomsten|bijschrijving|accredit[oi]|insattning|indbetaling|innskudd|credito|entree|recettes?)\b/,
  ],
  [
    "amount",
    /\b(?:amount|amt|montant|importe|importo|belopp|beloeb|belob|belop|valor|valeur|summe?|value|transaction amount|net amount|gross|net|kwota|castka|suma|osszeg\w*)\b|betrag|bedrag|umsatz/,
  ],
  [
    "date",
    /(?:date|datum|dato|fecha|data|datetime|buchungstag|buchung|booked|posted|posting|created|journaldate|\bdag\b|pvm|paivamaara|\bday\b|when|time)/,
  ],
  ["currency", /^(?:currency|ccy|wahrung|waehrung|valuta|munt|devise|moneda|divisa|valuta code)$/],
  [
    "payee",
    /\b(?:payee|merchant|counterparty|beneficiary|empfanger|empfaenger|begunstigter|auftraggeber|partner name|partner|naam|name|nom|beneficiario|tegenpartij|tegenrekening naam|motpart|mottagare|handelaar|haendler|handler|commercant|comercio|esercente|zahlungspflichtiger)\b|beguenstigter|begunstigter/,
  ],
  [
    "description",
    /\b(?:desc|description|descripcion|descrizione|details|memo|narrative|particulars|omschrijving|mededelingen|buchungstext|verwendungszweck|libelle|concepto|causale|text|tekst|beskrivning|beskrivelse|reference|referentie|purpose|transaction|remarks|notes?|info|wording|label|kozlemeny|reszletek|popis|opis)\b|beschreibung|omschrijving/,
  ],
  ["id", /^(?:id|transaction id|fitid|bank id|ref|reference number|transaktions id|check number)$/],
];

/** The roles a header cell suggests, most specific first. */
export function headerRoles(cell: string): HeaderRole[] {
  const name = normalizeHeader(cell);
  if (name.length === 0) return [];
  const roles = WORDS.filter(([, pattern]) => pattern.test(name)).map(([role]) => role);
  // "Buchungstag" and "Transactiedatum" are dates even though the word also says "transaction".
  if (roles.includes("date") && roles.includes("description") && /dat|tag|date/.test(name))
    return roles.filter((role) => role !== "description");
  return roles;
}

/** How many cells of a row look like header names: a header row has several. */
export function headerScore(row: string[]): number {
  const roles = new Set(row.flatMap((cell) => headerRoles(cell).slice(0, 1)));
  return roles.size;
}
