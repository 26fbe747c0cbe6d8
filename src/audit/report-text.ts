import { formatTable } from "../views/table.js";
import type { AuditReport, CalibrationRow } from "./report.js";

/** The report as a person reads it in a terminal; `--json` prints the AuditReport itself. */
export function formatReport(report: AuditReport): string {
  const run = report.run as Record<string, string | number | null>;
  const u = report.usage;
  const lines = [
    `Audit run ${run.id}  ${run.status}${run.error ? ` (${run.error})` : ""}`,
    `  seed ${run.seed} · ${run.mode} · reviewer ${run.reviewer_role} = ${run.reviewer_model} · batch ${run.next_batch}/${run.batches}`,
    `  window ${short(run.window_start)} → ${short(run.window_end)} · started ${short(run.started_at)}${run.finished_at ? ` · took ${seconds(u.elapsed_ms)}` : ""}`,
    `  reviewer: ${u.reviewer_calls} call(s), ${u.tokens_in.toLocaleString("en-US")} tokens in, ${u.tokens_out.toLocaleString("en-US")} out, ${seconds(u.model_ms)} model time`,
    "",
    `Items: ${report.items.total}`,
    indent(counts("REASON", report.items.by_reason)),
    indent(counts("AGENT", report.items.by_agent)),
    "",
    `Verdicts: ${join(report.verdicts)}`,
    `Outcomes: ${join(report.outcomes) || "none"}${report.passed === null ? "" : `; ${report.passed} other action(s) in the window passed`}`,
    "",
    `Corrections: ${report.corrections.total} (${report.corrections.applied} applied, ${report.corrections.waiting} waiting for a handler, ${report.corrections.failed} failed)`,
  ];
  if (report.corrections.list.length > 0) {
    lines.push(
      indent(
        formatTable(report.corrections.list, [
          { header: "ACTION", value: (c) => String(c.action_id).slice(0, 13) },
          { header: "AGENT", value: (c) => String(c.agent) },
          { header: "WAS", value: (c) => JSON.stringify(c.original), max: 30 },
          { header: "NOW", value: (c) => JSON.stringify(c.corrected), max: 30 },
          {
            header: "CONF",
            value: (c) => `${fixed(c.confidence_before)}→${fixed(c.confidence_after)}`,
          },
          {
            header: "APPLIED",
            value: (c) => String(c.apply_error ?? c.apply_note ?? "pending"),
            max: 40,
          },
        ]),
      ),
    );
  }
  lines.push(
    `Patterns written to the knowledge base: ${report.patterns_written.count}${report.patterns_written.keys.length ? ` (${report.patterns_written.keys.join(", ")})` : ""}`,
    `Review items opened: ${report.review_items_opened}${report.review_items_opened ? " (see `nightshift review`)" : ""}`,
    `Cross-agent insights: ${report.insights.length}`,
    ...report.insights.map(
      (i) =>
        `  - ${i.description} (${(i.agents as string[]).join(" + ")}, confidence ${fixed(i.confidence)})`,
    ),
    "",
    "Calibration: how often the audit found the day agents wrong, by their own confidence",
    indent(calibrationTable(report.calibration, report.calibration_all_runs)),
  );
  return lines.join("\n");
}

function calibrationTable(run: CalibrationRow[], all: CalibrationRow[]): string {
  const rows = run.map((r, i) => ({ run: r, all: all[i]! }));
  const rate = (r: CalibrationRow) =>
    r.wrong_rate === null ? "–" : `${Math.round(r.wrong_rate * 100)}% (${r.wrong}/${r.judged})`;
  return formatTable(rows, [
    { header: "CONFIDENCE", value: (r) => r.run.bucket },
    { header: "REVIEWED", value: (r) => String(r.run.reviewed), align: "right" },
    { header: "WRONG (THIS RUN)", value: (r) => rate(r.run), align: "right" },
    { header: "UNSURE", value: (r) => String(r.run.unsure), align: "right" },
    { header: "WRONG (ALL RUNS)", value: (r) => rate(r.all), align: "right" },
  ]);
}

function counts(header: string, values: Record<string, number>): string {
  const rows = Object.entries(values).sort((a, b) => b[1] - a[1]);
  if (rows.length === 0) return `${header}: none`;
  return formatTable(rows, [
    { header, value: (r) => r[0] },
    { header: "ITEMS", value: (r) => String(r[1]), align: "right" },
  ]);
}

function join(values: Record<string, number>): string {
  return Object.entries(values)
    .map(([k, v]) => `${v} ${k.replace("_", " ")}`)
    .join(" · ");
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `  ${line}`)
    .join("\n");
}

function short(iso: string | number | null | undefined): string {
  return typeof iso === "string" ? iso.slice(0, 16).replace("T", " ") : "–";
}

function seconds(ms: number | null): string {
  return ms === null ? "–" : `${(ms / 1000).toFixed(1)} s`;
}

function fixed(value: unknown): string {
  return typeof value === "number" ? value.toFixed(2) : "–";
}
