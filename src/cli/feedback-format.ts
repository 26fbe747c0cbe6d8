import type { Feedback } from "../ledger/stores/index.js";

/** Feedback rows under `actions show`, one line each; "" when there is none. */
export function formatFeedback(list: Feedback[]): string {
  if (list.length === 0) return "";
  const lines = ["feedback:"];
  for (const f of list) {
    const parts = [new Date(f.createdAt).toISOString(), `by ${f.givenBy}`];
    if (f.confidence !== null) parts.push(`confidence ${f.confidence}`);
    if (f.flags.length) parts.push(`flags ${f.flags.join(",")}`);
    const scores = Object.entries(f.scores).map(([k, v]) => `${k}=${v}`);
    if (scores.length) parts.push(`scores ${scores.join(" ")}`);
    lines.push(`  ${parts.join("  ")}`);
    if (f.reasoning) lines.push(`    ${f.reasoning.replace(/\n/g, "\n    ")}`);
  }
  return `${lines.join("\n")}\n`;
}
