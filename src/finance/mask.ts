/**
 * Account and card numbers never reach the ledger, a model or the screen in full: "…1234".
 * Amounts are never masked: they carry a decimal mark, which a card or account number does not.
 */

/** "4111 1111 1111 1234", "XXXX-1234", "****1234" → "…1234". */
export function maskNumber(number: string): string {
  const digits = number.replace(/\D/g, "");
  return digits.length >= 4 ? `…${digits.slice(-4)}` : "…";
}

// An account-like number: eight or more digits in one run, or groups of four (cards, IBANs;
// Amex prints 4-6-5) joined by single spaces or dashes, or a number already masked with X or *.
// Separate numbers ("12345678 87654321") stay separate: only groups of four are joined.
const CHAR = "[\\dXx*•]";
const LONG_NUMBER = new RegExp(
  [
    "(?<![\\d.,])\\d{4}[ -]\\d{6}[ -]\\d{5}(?![\\d]|[.,]\\d)",
    `(?<![\\d.,A-Za-z])(?:[A-Z]{2}\\d{2}[ ]?)?(?:${CHAR}{4}[ -]){2,7}${CHAR}{0,4}\\d{4}(?![\\d]|[.,]\\d)`,
    `(?<![\\d.,A-Za-z])(?:[A-Z]{2}\\d{2}[A-Z]{0,4})?${CHAR}{4,}\\d{4}(?![\\d]|[.,]\\d)`,
  ].join("|"),
  "g",
);

/** Masks every account-like number inside free text (descriptions, memos). */
export function maskText(text: string): string {
  return text.replace(LONG_NUMBER, (match) => {
    const digits = match.replace(/\D/g, "");
    // Short all-digit runs are references and dates; only long or already-masked ones are numbers.
    if (digits.length < 8 && !/[Xx*•]|^[A-Z]{2}\d{2}/.test(match)) return match;
    // An IBAN keeps its country and bank letters ("AT••…2109"): they name a country and a bank,
    // not the account, and tell the reader which kind of number was masked.
    const iban = /^([A-Z]{2})\d{2}([A-Z]{0,4})/.exec(match);
    if (iban) return `${iban[1]}••${iban[2]}${maskNumber(match.slice(iban[0].length))}`;
    return maskNumber(match);
  });
}

/**
 * A bank's own transaction id (an OFX FITID) sometimes embeds the account number; that part is
 * masked and the rest kept, so the id still tells transactions apart.
 */
export function maskAccountIn(id: string, accountNumber: string | null): string {
  const digits = accountNumber?.replace(/\D/g, "") ?? "";
  if (digits.length < 6) return id;
  const at = id.indexOf(digits);
  return at < 0 ? id : `${id.slice(0, at)}${maskNumber(digits)}${id.slice(at + digits.length)}`;
}
