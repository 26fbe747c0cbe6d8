import { formatCents } from "../finance/import/amounts.js";
import type { ImportPreview } from "../finance/preview.js";
import { formatTable } from "./table.js";

/** `finance import --dry-run`: what would be imported, how it was read, and how it checks. */
export function describePreview(preview: ImportPreview): string {
  const out = [`${preview.file}: would import (dry run; nothing was changed)`];
  for (const s of preview.statements) {
    const period = s.periodStart ? ` for ${s.periodStart} to ${s.periodEnd}` : "";
    out.push(
      `  ${s.transactionCount} transactions into "${s.account}" (${s.format}, ${s.kind}${s.currency ? `, ${s.currency}` : ""})${period}`,
    );
    if (s.layout) {
      const roles = Object.entries(s.layout.columns)
        .map(([role, column]) => `${role}=${column}`)
        .join(", ");
      out.push(
        `  layout (${s.layout.source}): ${roles}; dates ${s.layout.dateFormat}; decimal "${s.layout.decimal}"`,
      );
    }
    out.push(`  check: ${checkLine(s)}`);
    const rows = formatTable(s.firstRows, [
      { header: "DATE", value: (r) => r.date },
      { header: "AMOUNT", value: (r) => formatCents(r.amountCents), align: "right" as const },
      { header: "DESCRIPTION", value: (r) => r.description, max: 50 },
    ]);
    out.push(...rows.split("\n").map((line) => `    ${line}`));
    for (const warning of s.warnings) out.push(`  warning: ${warning}`);
  }
  if (preview.layoutProposedBy)
    out.push(`  the column mapping came from a model (action ${preview.layoutProposedBy})`);
  return out.join("\n");
}

function checkLine(s: ImportPreview["statements"][number]): string {
  const r = s.reconciliation;
  if (r.status === "reconciled") return "reconciled: balances agree";
  if (r.status === "unchecked")
    return `unchecked: ${s.uncheckedReason ?? "nothing to check against"}`;
  return `FLAGGED${r.differenceCents ? ` (difference ${formatCents(r.differenceCents)})` : ""}: ${r.problems.join("; ")}`;
}
