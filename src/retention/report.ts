import type { BodyFilesReport, RetentionStore, VacuumReport } from "../ledger/stores/index.js";
import {
  type Cutoffs,
  emptyTotals,
  type KeptCounts,
  keptCounts,
  type PruneTotals,
  planTotals,
} from "./plan.js";
import type { PruneOptions } from "./prune.js";

/** The report of a run, in the snake_case shape `--json` prints. */
export interface PruneReport extends PruneTotals {
  run_id: string | null;
  dry_run: boolean;
  status: "done" | "paused";
  cutoffs: { compress_before: string; aggregate_before: string; hard_cap_before: string | null };
  kept: KeptCounts;
  samples: {
    status: "rolled_up" | "skipped" | "dry_run";
    older_than: string | null;
    result?: unknown;
  };
  size: { before: number; after: number | null; freed: number | null };
  vacuum: VacuumReport | null;
  /** Large-body files deleted because no remaining action refers to them (SQLite). */
  body_files: BodyFilesReport | null;
  duration_ms: number;
  rows_per_s: number;
}

export async function dryRunReport(
  store: RetentionStore,
  cutoffs: Cutoffs,
  options: PruneOptions,
  sizeBefore: number,
  started: number,
): Promise<PruneReport> {
  const totals = await planTotals(store, cutoffs);
  const kept = await keptCounts(store, cutoffs);
  return {
    ...baseReport(null, true, "done", cutoffs, totals, kept),
    samples: {
      status: options.samples ? "dry_run" : "skipped",
      older_than: options.samples ? new Date(options.samples.olderThan).toISOString() : null,
    },
    size: { before: sizeBefore, after: null, freed: null },
    vacuum: null,
    body_files: null,
    duration_ms: Math.round(performance.now() - started),
    rows_per_s: 0,
  };
}

/** Asked to stop while another prune held the ledger: nothing started, nothing changed. */
export async function pausedWhileWaiting(
  store: RetentionStore,
  cutoffs: Cutoffs,
  options: PruneOptions,
  sizeBefore: number,
  started: number,
): Promise<PruneReport> {
  const totals = options.previous ?? emptyTotals();
  return {
    ...baseReport(options.runId ?? null, false, "paused", cutoffs, totals, {
      ...(await keptCounts(store, cutoffs)),
    }),
    samples: { status: "skipped", older_than: null },
    size: { before: sizeBefore, after: null, freed: null },
    vacuum: null,
    body_files: null,
    duration_ms: Math.round(performance.now() - started),
    rows_per_s: 0,
  };
}

export function baseReport(
  runId: string | null,
  dryRun: boolean,
  status: "done" | "paused",
  cutoffs: Cutoffs,
  totals: PruneTotals,
  kept: KeptCounts,
) {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    run_id: runId,
    dry_run: dryRun,
    status,
    cutoffs: {
      compress_before: iso(cutoffs.compressBefore),
      aggregate_before: iso(cutoffs.aggregateBefore),
      hard_cap_before: cutoffs.hardCapBefore === null ? null : iso(cutoffs.hardCapBefore),
    },
    ...totals,
    kept,
  };
}

/** Row moves (into an aggregate, or to compressed) per second of this attempt. */
export function rate(totals: PruneTotals, previous: PruneTotals | undefined, started: number) {
  const ms = performance.now() - started;
  const moves = (t: PruneTotals | undefined) => (t ? t.aggregated + t.compressed : 0);
  const rows = moves(totals) - moves(previous);
  return { duration_ms: Math.round(ms), rows_per_s: ms > 0 ? Math.round((rows * 1000) / ms) : 0 };
}
