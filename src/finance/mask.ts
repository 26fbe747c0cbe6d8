/**
 * Account and card numbers never reach the ledger, a model or the screen in full: "…1234".
 * Amounts are never masked: they carry a decimal mark, which a card or account number does not.
 */

/** "4111 1111 1111 1234", "XXXX-1234", "****1234" → "…1234". */
export function maskNumber(number: string): string {
  const digits = number.replace(/\D/g, "");
  return digits.length >= 4 ? `…${digits.slice(-4)}` : "…";
}

// Eight or more digits, possibly grouped by spaces or dashes, or a masked number already
// printed with X or * before the last four; IBANs too.
const LONG_NUMBER =
  /(?<![\d.,])(?:[A-Z]{2}\d{2}[ ]?)?(?:[\dXx*•]{2,6}[ -]?){2,}\d{4}(?![\d]|[.,]\d)/g;

/** Masks every account-like number inside free text (descriptions, memos). */
export function maskText(text: string): string {
  return text.replace(LONG_NUMBER, (match) => {
    const digits = match.replace(/\D/g, "");
    // Short all-digit runs are references and dates; only long or already-masked ones are numbers.
    if (digits.length < 8 && !/[Xx*•]/.test(match)) return match;
    return maskNumber(match);
  });
}
