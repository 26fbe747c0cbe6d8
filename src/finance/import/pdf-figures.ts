import { AMOUNT_IN_TEXT, type DecimalMark, parseAmount, signedCents } from "./amounts.js";
import type { PrintedTotal } from "./statement.js";

/**
 * The figures a statement prints about itself: opening and closing balances and totals, read
 * from the lines outside the transaction table (a summary box, a totals row). One line may hold
 * several ("Opening balance 1,000.00  Total deposits 250.00"): each label takes the first amount
 * after it and before the next label.
 */
export interface StatementFigures {
  opening: number | null;
  closing: number | null;
  totals: PrintedTotal[];
}

const LABELS: { kind: "opening" | "closing" | PrintedTotal["side"]; pattern: string }[] = [
  {
    kind: "opening",
    pattern:
      "(?:opening|beginning|starting|previous|prior|old|last month['’]?s?) balance|previous statement balance|balance (?:from |of )?(?:the )?(?:previous|last) statement|balance (?:brought|b/f|carried from)|balance forward|anfangssaldo|saldo anterior|alter saldo",
  },
  {
    kind: "closing",
    pattern:
      "(?:total )?balance due|total (?:amount )?due|total (?:outstanding )?balance|total outstanding|grand total|(?:closing|ending|new|current|statement) balance|balance (?:carried forward|c/f)|endsaldo|neuer saldo|saldo final",
  },
  {
    kind: "out",
    pattern:
      "(?:total )?(?:withdrawals|debits|purchases|charges|money out|paid out|payments out|fees charged|interest charged|spending|lastschriften|belastungen)(?: and other (?:debits|charges))?",
  },
  {
    kind: "in",
    pattern:
      "(?:total )?(?:deposits|credits|payments(?: and (?:other )?credits)?|money in|paid in|refunds|gutschriften)(?: and other (?:credits|additions))?",
  },
  { kind: "any", pattern: "totals?|summe" },
];

const LABEL = new RegExp(LABELS.map((l, i) => `(?<l${i}>\\b(?:${l.pattern})\\b)`).join("|"), "gi");

export function readFigures(
  lines: string[],
  decimal: DecimalMark,
  card: boolean,
): StatementFigures {
  const figures: StatementFigures = { opening: null, closing: null, totals: [] };
  for (const line of lines) {
    const labels = [...line.matchAll(LABEL)];
    labels.forEach((match, i) => {
      const end = labels[i + 1]?.index ?? line.length;
      const segment = line.slice(match.index + match[0].length, end);
      const amount = firstAmount(segment, decimal, card);
      if (amount === null) return;
      const kind =
        LABELS[
          Number(
            Object.entries(match.groups ?? {})
              .find(([, v]) => v)![0]
              .slice(1),
          )
        ]!.kind;
      if (kind === "opening") figures.opening ??= amount;
      else if (kind === "closing") figures.closing = amount;
      else figures.totals.push({ label: match[0], side: kind, cents: Math.abs(amount) });
    });
  }
  return figures;
}

/** A balance's sign: "CR" on a bank statement is in credit; on a card it is money owed to you. */
function firstAmount(segment: string, decimal: DecimalMark, card: boolean): number | null {
  for (const m of segment.matchAll(AMOUNT_IN_TEXT)) {
    const parsed = parseAmount(m[0], decimal);
    if (!parsed) continue;
    if (card && parsed.marker === "CR") return -parsed.cents;
    return signedCents(parsed);
  }
  return null;
}
