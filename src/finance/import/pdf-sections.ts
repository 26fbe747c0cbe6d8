import type { Row } from "./pdf-table.js";

/**
 * Statements sometimes print a table twice (a reprinted page, a duplicate appended by the
 * producer). A section — the rows under one header row — whose rows repeat, in order, a run of
 * earlier rows, balances included, is a reprint: counting it would import every row twice.
 * A balance must be among the repeated figures, because two real transactions can share a date
 * and an amount, but a running balance cannot come back to the same figures row after row.
 */
export function dropReprintedSections(
  sections: Row[][],
  file: string,
): { rows: Row[]; warnings: string[] } {
  const rows: Row[] = [];
  const warnings: string[] = [];
  for (const section of sections) {
    if (section.length > 0 && isReprint(section, rows)) {
      warnings.push(
        `${file}: ${section.length} rows under a repeated header reprint earlier rows (dates, amounts and balances); read once`,
      );
      continue;
    }
    rows.push(...section);
  }
  return { rows, warnings };
}

const same = (a: Row, b: Row) =>
  a.date.day === b.date.day &&
  a.date.month === b.date.month &&
  a.date.year === b.date.year &&
  a.transaction.amountCents === b.transaction.amountCents &&
  a.transaction.balanceCents === b.transaction.balanceCents;

function isReprint(section: Row[], earlier: Row[]): boolean {
  if (!section.some((r) => r.transaction.balanceCents !== null)) return false;
  for (let start = 0; start + section.length <= earlier.length; start++) {
    if (section.every((row, i) => same(row, earlier[start + i]!))) return true;
  }
  return false;
}
