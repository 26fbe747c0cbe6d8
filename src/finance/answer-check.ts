import type { SpendFacts } from "./spend.js";

/**
 * Every number in a model's answer must be one the facts contain: money amounts (exact, or
 * rounded to whole units as people say "$847"), percentages, counts. Anything else is a figure
 * the model made up, and the answer is not shown.
 */
export function checkAnswerFigures(text: string, facts: SpendFacts, question: string): string[] {
  const money = moneyFacts(facts);
  const counts = new Set<number>([
    facts.count,
    facts.previousMonths.length,
    ...facts.topMerchants.map((m) => m.visits),
    facts.pendingDuplicates.count,
    facts.uncategorizedCount,
    // Years of the months in the facts; month numbers are not written in prose.
    ...[facts.month, ...facts.previousMonths.map((m) => m.month)].map((m) => Number(m.slice(0, 4))),
    ...numbersIn(question),
  ]);
  const mismatches: string[] = [];
  // Names carry digits that are not figures ("CHIPOTLE 1234", "TRADER JOE'S #552").
  const names = [...facts.topMerchants.map((m) => m.merchant), facts.merchant, facts.category]
    .filter((n): n is string => !!n)
    .sort((a, b) => b.length - a.length);
  let rest = names.reduce((t, name) => t.replace(new RegExp(escapeRegExp(name), "gi"), " "), text);
  for (const m of rest.matchAll(
    /[$€£]\s?(\d[\d,]*(?:\.\d{1,2})?)|(\d[\d,]*(?:\.\d{1,2})?)\s?(?:USD|EUR|GBP|dollars|euros)/gi,
  )) {
    const cents = Math.round(Number((m[1] ?? m[2])!.replace(/,/g, "")) * 100);
    if (
      !money.some(
        (fact) => fact === cents || (cents % 100 === 0 && Math.round(fact / 100) * 100 === cents),
      )
    ) {
      mismatches.push(`${m[0].trim()} is not among the computed amounts`);
    }
    rest = rest.replace(m[0], " ");
  }
  for (const m of rest.matchAll(/(-?\d+(?:\.\d+)?)\s?(?:%|percent)/gi)) {
    const value = Math.abs(Number(m[1]));
    if (facts.changePct === null || value !== Math.abs(facts.changePct))
      mismatches.push(`${m[0]} is not the computed change`);
    rest = rest.replace(m[0], " ");
  }
  for (const m of rest.matchAll(/(?<![\w.])\d[\d,]*(?:\.\d+)?(?![\w.]*\d)/g)) {
    const value = Number(m[0].replace(/,/g, ""));
    const asMoney = Math.round(value * 100);
    if (!counts.has(value) && !money.includes(asMoney)) {
      mismatches.push(`${m[0]} is not among the computed figures`);
    }
  }
  return mismatches;
}

function moneyFacts(facts: SpendFacts): number[] {
  return [
    facts.totalCents,
    facts.averagePreviousCents,
    facts.averageTransactionCents,
    facts.pendingDuplicates.totalCents,
    Math.abs(facts.totalCents - (facts.averagePreviousCents ?? facts.totalCents)),
    ...facts.previousMonths.map((m) => m.totalCents),
    ...facts.topMerchants.map((m) => m.totalCents),
  ].filter((v): v is number => v !== null);
}

function numbersIn(text: string): number[] {
  return [...text.matchAll(/\d+/g)].map((m) => Number(m[0]));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
