import type { Command } from "commander";
import { NightshiftError } from "../errors.js";
import type { VacuumMode } from "../ledger/stores/index.js";
import { samplePruning } from "../retention/job.js";
import { type PruneProgress, type PruneReport, pruneLedger } from "../retention/prune.js";
import type { CliContext } from "./context.js";
import { printJson } from "./output.js";

interface PruneFlags {
  dryRun?: boolean;
  json?: boolean;
  vacuum: string;
}

export function registerPrune(program: Command, context: CliContext): void {
  program
    .command("prune")
    .description(
      "move audited actions past their retention to the compressed and aggregated tiers, roll up old resource samples, and reclaim space",
    )
    .option("--dry-run", "count what would move; change nothing")
    .option("--json", "print the report as JSON")
    .option(
      "--vacuum <mode>",
      "auto (SQLite: incremental, or a full VACUUM once a quarter of the file is free; PostgreSQL: VACUUM (ANALYZE) of the pruned tables), full (SQLite only), or never",
      "auto",
    )
    .action(async (flags: PruneFlags) => {
      const vacuum = parseVacuum(flags.vacuum);
      const { config } = context.loaded();
      const stores = await context.actionLedger();
      const now = context.clock().now();
      const warn = (message: string) => process.stderr.write(`nightshift: warning: ${message}\n`);
      // The monitor's samples are in the SQLite file until the monitor is on the seam too.
      const samples = samplePruning(stores.monitor, config, now);
      const report = await pruneLedger(stores.retention, {
        retention: config.retention,
        now,
        clock: context.clock(),
        dryRun: flags.dryRun ?? false,
        trigger: "cli",
        vacuum,
        ...(samples ? { samples } : {}),
        onProgress: progressPrinter(),
        onWarning: warn,
      });
      if (flags.json) return printJson(report);
      process.stdout.write(`${formatReport(report, config.retention.hard_cap_days)}\n`);
    });
}

function parseVacuum(value: string): VacuumMode {
  if (value === "auto" || value === "full" || value === "never") return value;
  throw new NightshiftError(`--vacuum ${value}: expected auto, full or never`);
}

/** Progress on stderr: one rewritten line on a terminal, a line per 10 % otherwise. */
function progressPrinter(): (progress: PruneProgress) => void {
  const tty = process.stderr.isTTY === true;
  let last = "";
  return (progress) => {
    const step = Math.floor(progress.fraction * (tty ? 100 : 10));
    const key = `${progress.phase}:${step}`;
    if (key === last) return;
    last = key;
    const moves = progress.phase === "aggregate" || progress.phase === "compress";
    const line = `${progress.phase}: ${Math.round(progress.fraction * 100)}%${moves ? ` (${count(progress.moved)} rows)` : ""}`;
    if (tty) process.stderr.write(`\r\x1b[2K${line}${progress.fraction >= 1 ? "\n" : ""}`);
    else process.stderr.write(`${line}\n`);
  };
}

export function formatReport(report: PruneReport, hardCapDays: number | undefined): string {
  const verb = report.dry_run ? "would move" : "moved";
  const lines = [
    report.dry_run
      ? "dry run: nothing was changed"
      : `prune run ${report.run_id} ${report.status} in ${(report.duration_ms / 1000).toFixed(1)} s (${count(report.rows_per_s)} rows/s)`,
    `  cutoffs: compress before ${report.cutoffs.compress_before}, aggregate before ${report.cutoffs.aggregate_before}`,
    `  detailed → compressed   ${verb} ${count(report.compressed)}`,
    `  → aggregated            ${verb} ${count(report.aggregated)} (${count(report.aggregated_deleted)} rows replaced by their aggregates, ${count(report.aggregated_kept)} kept compressed: a correction or review refers to them)`,
    `  kept detailed           ${count(report.kept.unaudited)} not yet audited, ${count(report.kept.flagged)} flagged and unresolved, ${count(report.kept.in_review)} in review`,
  ];
  const hard = report.hard_capped;
  lines.push(
    hardCapDays === undefined
      ? "  hard cap                off (retention.hard_cap_days not set)"
      : `  hard-capped             ${count(hard.compressed + hard.aggregated)} moves of rows older than ${hardCapDays} days that no audit cleared: ${count(hard.unaudited)} unaudited, ${count(hard.flagged)} flagged, ${count(hard.in_review)} in review`,
  );
  lines.push(`  resource samples        ${describeSamples(report)}`);
  if (report.body_files) {
    const files = report.body_files;
    lines.push(
      `  body files              ${count(files.deleted)} deleted (${bytes(files.bytes)}) that no action refers to any more${files.recent ? `, ${count(files.recent)} left for now (written or reused within the hour)` : ""}`,
    );
  }
  lines.push(
    report.size.after === null
      ? `  database                ${bytes(report.size.before)}`
      : `  database                ${bytes(report.size.before)} → ${bytes(report.size.after)}${report.vacuum ? ` (${report.vacuum.mode === "none" ? "no vacuum" : `${report.vacuum.mode} vacuum`}: ${report.vacuum.reason})` : ""}`,
  );
  return lines.join("\n");
}

function describeSamples(report: PruneReport): string {
  const samples = report.samples;
  if (samples.status === "skipped") return "not pruned";
  if (samples.status === "dry_run")
    return `raw samples before ${samples.older_than} would be rolled up`;
  const result = samples.result as { hours_rolled_up?: number; samples_deleted?: number };
  return `${count(result.hours_rolled_up ?? 0)} hours rolled up, ${count(result.samples_deleted ?? 0)} raw samples deleted`;
}

function count(n: number): string {
  return n.toLocaleString("en-US");
}

export function bytes(n: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = n;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
