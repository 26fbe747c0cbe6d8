import { randomUUID } from "node:crypto";
import { setImmediate } from "node:timers/promises";
import type { Ledger } from "../ledger/ledger.js";
import { RetentionStore, SCAN_START, type ScanCursor } from "../ledger/retention-store.js";
import { applyBatch, type BatchPhase } from "./batches.js";
import { type Checkpointer, startCheckpointer } from "./checkpointer.js";
import { Pacer, type PacingOptions } from "./pacing.js";
import {
  addTotals,
  type Cutoffs,
  cutoffsFor,
  emptyTotals,
  type KeptCounts,
  keptCounts,
  type PruneTotals,
  planTotals,
  type RetentionConfig,
  type Sweep,
  sweepsFor,
} from "./plan.js";
import { type BatchReader, openReader } from "./reader.js";
import { reclaimSpace, truncateWal, type VacuumMode, type VacuumReport } from "./space.js";

export type PrunePhase = "aggregate" | "compress" | "samples" | "vacuum";

export interface PruneProgress {
  phase: PrunePhase;
  /** Rows moved so far in this phase. */
  moved: number;
  /** How far through the phase's time range the scan is, 0..1. */
  fraction: number;
}

/** Rolls raw resource samples older than `olderThan` into hourly rollups; see src/monitor. */
export type SamplePruner = (olderThan: number) => unknown;

export interface PruneOptions extends PacingOptions {
  retention: RetentionConfig;
  now: number;
  dryRun?: boolean;
  trigger?: "cli" | "job";
  vacuum?: VacuumMode;
  /** Resumes this run (a paused job) instead of starting a new one. */
  runId?: string;
  /** What earlier attempts of the same run already moved. */
  previous?: PruneTotals;
  samples?: { olderThan: number; prune: SamplePruner };
  onProgress?(progress: PruneProgress): void;
  /** Called after every committed transaction with the run's totals so far. */
  onCheckpoint?(runId: string, totals: PruneTotals): void;
  /** Told of anything that slows the run without failing it (no reader thread). */
  onWarning?(message: string): void;
  /** Checked between transactions; true stops the run with status "paused". */
  shouldStop?(): boolean;
}

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
  duration_ms: number;
  rows_per_s: number;
}

class Stopped extends Error {}

/**
 * Moves the ledger's old rows down the retention tiers. Each transaction is self-contained
 * (an aggregate merge together with the deletion of the rows it counts; a row's compression and
 * hashing in one UPDATE), so a kill at any moment leaves a consistent ledger and a re-run picks
 * up what is left; a row already moved no longer matches any sweep, so a second run changes
 * nothing.
 */
export async function pruneLedger(ledger: Ledger, options: PruneOptions): Promise<PruneReport> {
  const started = performance.now();
  const store = new RetentionStore(ledger.db);
  const cutoffs = cutoffsFor(options.retention, options.now);
  const sizeBefore = ledger.sizeBytes();
  if (options.dryRun) return dryRunReport(store, cutoffs, options, sizeBefore, started);

  store.markInterrupted(isAlive, options.now);
  const runId = options.runId ?? randomUUID();
  store.startRun(runId, options.trigger ?? "cli", options.now, sizeBefore);
  const run = new PruneRun(store, cutoffs, options, runId);
  try {
    const { status, vacuum } = await moveAndReclaim(ledger, store, run, options);
    const sizeAfter = ledger.sizeBytes();
    const report: PruneReport = {
      ...baseReport(runId, false, status, cutoffs, run.totals, keptCounts(store, cutoffs)),
      samples: run.samples,
      size: { before: sizeBefore, after: sizeAfter, freed: sizeBefore - sizeAfter },
      vacuum,
      ...rate(run.totals, options.previous, started),
    };
    store.finish({
      id: runId,
      status,
      finishedAt: Date.now(),
      sizeAfter,
      report,
      error: null,
    });
    return report;
  } catch (error) {
    recordFailure(store, runId, ledger.sizeBytes(), run.totals, error);
    throw error;
  }
}

/**
 * Moves rows down the tiers, then (unless paused) reclaims the space, with the write-ahead log
 * checkpointed on another thread all along; the log is truncated once that thread has stopped.
 */
async function moveAndReclaim(
  ledger: Ledger,
  store: RetentionStore,
  run: PruneRun,
  options: PruneOptions,
): Promise<{ status: "done" | "paused"; vacuum: VacuumReport | null }> {
  const checkpointer = startCheckpointer(ledger.db, ledger.path);
  const reader = openReader(store, ledger.path, (reason) =>
    options.onWarning?.(`reading batches on the main thread (no reader thread: ${reason})`),
  );
  let status: "done" | "paused";
  let space: Omit<VacuumReport, "wal_busy"> | null = null;
  try {
    try {
      status = await run.execute({ reader, log: checkpointer });
    } finally {
      await reader.close();
    }
    if (status === "done") {
      // Vacuum progress comes from reclaimSpace only when it does vacuum, so a run that decides
      // against it shows no "vacuum: 0%…100%" before reporting "no vacuum".
      space = await reclaimSpace(store, ledger.path, options.vacuum ?? "auto", (fraction) =>
        options.onProgress?.({ phase: "vacuum", moved: 0, fraction }),
      );
    }
  } finally {
    await checkpointer.stop();
  }
  if (!space) return { status, vacuum: null };
  const walBusy = !(await truncateWal(store));
  if (space.mode !== "none") options.onProgress?.({ phase: "vacuum", moved: 0, fraction: 1 });
  return { status, vacuum: { ...space, wal_busy: walBusy } };
}

/**
 * Marks the run failed. If even that write fails (the disk that failed the prune is full), the
 * prune's own error is the one worth reporting: the run then shows as interrupted next time.
 */
function recordFailure(
  store: RetentionStore,
  runId: string,
  size: number,
  totals: PruneTotals,
  error: unknown,
): void {
  try {
    store.finish({
      id: runId,
      status: "failed",
      finishedAt: Date.now(),
      sizeAfter: size,
      report: totals,
      error: error instanceof Error ? error.message : String(error),
    });
  } catch (recordError) {
    if (error instanceof Error)
      error.message += ` (and recording the failure failed: ${String(recordError)})`;
  }
}

/** Where a run reads its batches, and what keeps the write-ahead log short meanwhile. */
interface RunIo {
  reader: BatchReader;
  log: Checkpointer;
}

class PruneRun {
  totals: PruneTotals;
  samples: PruneReport["samples"] = { status: "skipped", older_than: null };
  private readonly pacer: Pacer;

  constructor(
    private readonly store: RetentionStore,
    private readonly cutoffs: Cutoffs,
    private readonly options: PruneOptions,
    private readonly runId: string,
  ) {
    this.totals = options.previous ? addTotals(emptyTotals(), options.previous) : emptyTotals();
    this.pacer = new Pacer(options);
  }

  async execute(io: RunIo): Promise<"done" | "paused"> {
    try {
      // Aggregation first: rows about to be deleted are not worth compressing.
      await this.phase(io, "aggregate", sweepsFor(this.cutoffs.aggregateBefore, this.cutoffs));
      await this.phase(io, "compress", sweepsFor(this.cutoffs.compressBefore, this.cutoffs));
    } catch (error) {
      if (error instanceof Stopped) return "paused";
      throw error;
    }
    await this.rollUpSamples();
    return "done";
  }

  private async phase(io: RunIo, phase: BatchPhase, sweeps: Sweep[]): Promise<void> {
    const start = this.totals[phase === "aggregate" ? "aggregated" : "compressed"];
    const total = sweeps.reduce((sum, s) => sum + this.store.countBefore(s.status, s.before), 0);
    let scannedBefore = 0;
    for (const sweep of sweeps) {
      const inSweep = this.store.countBefore(sweep.status, sweep.before);
      await this.sweep(io, phase, sweep, (scanned) => {
        const moved = this.totals[phase === "aggregate" ? "aggregated" : "compressed"] - start;
        const fraction = total ? Math.min(1, (scannedBefore + scanned) / total) : 1;
        this.options.onProgress?.({ phase, moved, fraction });
      });
      scannedBefore += inSweep;
    }
  }

  /**
   * Walks one sweep in paced batches until no candidate is left, reading each batch ahead while
   * the one before it is written.
   */
  private async sweep(
    { reader, log }: RunIo,
    phase: BatchPhase,
    sweep: Sweep,
    progress: (scanned: number) => void,
  ): Promise<void> {
    const request = (cursor: ScanCursor) =>
      reader.read({ phase, sweep, cursor, limit: this.pacer.batchSize, now: this.options.now });
    let next = request(SCAN_START);
    let scanned = 0;
    for (;;) {
      const readAt = performance.now();
      const batch = await next;
      if (batch.rows.length === 0 || !batch.next) return;
      next = request(batch.next);
      // Let the gateway (in this process, under the daemon) run between the read and the write.
      await setImmediate();
      const writeAt = performance.now();
      const moved = this.store.transaction(() =>
        applyBatch(this.store, sweep, batch, this.options.now),
      );
      const doneAt = performance.now();
      this.totals = addTotals(this.totals, moved);
      scanned += batch.rows.length;
      this.options.onCheckpoint?.(this.runId, this.totals);
      progress(scanned);
      await this.pacer.after(writeAt - readAt, doneAt - writeAt, batch.rows.length);
      await log.keepUp();
      if (this.options.shouldStop?.()) {
        // The batch read ahead is dropped; nothing of it was written.
        next.catch(() => {});
        throw new Stopped();
      }
    }
  }

  private async rollUpSamples(): Promise<void> {
    const samples = this.options.samples;
    if (!samples) return;
    this.options.onProgress?.({ phase: "samples", moved: 0, fraction: 0 });
    const result = await samples.prune(samples.olderThan);
    this.samples = {
      status: "rolled_up",
      older_than: new Date(samples.olderThan).toISOString(),
      result,
    };
    this.options.onProgress?.({ phase: "samples", moved: 0, fraction: 1 });
  }
}

function dryRunReport(
  store: RetentionStore,
  cutoffs: Cutoffs,
  options: PruneOptions,
  sizeBefore: number,
  started: number,
): PruneReport {
  const totals = planTotals(store, cutoffs);
  return {
    ...baseReport(null, true, "done", cutoffs, totals, keptCounts(store, cutoffs)),
    samples: {
      status: options.samples ? "dry_run" : "skipped",
      older_than: options.samples ? new Date(options.samples.olderThan).toISOString() : null,
    },
    size: { before: sizeBefore, after: null, freed: null },
    vacuum: null,
    duration_ms: Math.round(performance.now() - started),
    rows_per_s: 0,
  };
}

function baseReport(
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
function rate(totals: PruneTotals, previous: PruneTotals | undefined, started: number) {
  const ms = performance.now() - started;
  const moves = (t: PruneTotals | undefined) => (t ? t.aggregated + t.compressed : 0);
  const rows = moves(totals) - moves(previous);
  return { duration_ms: Math.round(ms), rows_per_s: ms > 0 ? Math.round((rows * 1000) / ms) : 0 };
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
