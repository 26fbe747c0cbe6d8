import { randomUUID } from "node:crypto";
import { setImmediate } from "node:timers/promises";
import { type Clock, systemClock } from "../clock.js";
import type {
  PruneSession,
  RetentionStore,
  ScanCursor,
  VacuumMode,
} from "../ledger/stores/index.js";
import { SCAN_START } from "../ledger/stores/index.js";
import { Pacer, type PacingOptions } from "./pacing.js";
import { baseReport, dryRunReport, type PruneReport, pausedWhileWaiting, rate } from "./report.js";

export type { PruneReport } from "./report.js";

import {
  addTotals,
  type Cutoffs,
  cutoffsFor,
  emptyTotals,
  heldKind,
  keptCounts,
  type PruneTotals,
  type RetentionConfig,
  type Sweep,
  sweepsFor,
} from "./plan.js";

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
  /** When the run finishes, for its record; the system clock by default. */
  clock?: Clock;
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
  /** Told of anything that slows the run without failing it (no reader thread, a wait). */
  onWarning?(message: string): void;
  /** Checked between transactions; true stops the run with status "paused". */
  shouldStop?(): boolean;
}

class Stopped extends Error {}

/**
 * Moves the ledger's old rows down the retention tiers, on either engine. Each transaction is
 * self-contained (an aggregate merge together with the deletion of the rows it counts; a row's
 * compression and hashing in one UPDATE), so a kill at any moment leaves a consistent ledger and
 * a re-run picks up what is left; a row already moved no longer matches any sweep, so a second
 * run changes nothing.
 */
export async function pruneLedger(
  store: RetentionStore,
  options: PruneOptions,
): Promise<PruneReport> {
  const started = performance.now();
  const cutoffs = cutoffsFor(options.retention, options.now);
  const sizeBefore = await store.sizeBytes();
  if (options.dryRun) return dryRunReport(store, cutoffs, options, sizeBefore, started);
  const session = await store.openSession({
    vacuum: options.vacuum ?? "auto",
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
    onWaiting: (holder) => options.onWarning?.(`waiting for another prune to finish (${holder})`),
    ...(options.shouldStop ? { shouldStop: options.shouldStop } : {}),
  });
  if (!session) return pausedWhileWaiting(store, cutoffs, options, sizeBefore, started);
  try {
    return await runSession(store, session, cutoffs, options, sizeBefore, started);
  } finally {
    await session.close();
  }
}

async function runSession(
  store: RetentionStore,
  session: PruneSession,
  cutoffs: Cutoffs,
  options: PruneOptions,
  sizeBefore: number,
  started: number,
): Promise<PruneReport> {
  const clock = options.clock ?? systemClock;
  await store.markInterrupted(clock.now());
  const runId = options.runId ?? randomUUID();
  await store.startRun(runId, options.trigger ?? "cli", options.now, sizeBefore);
  const run = new PruneRun(session, store, cutoffs, options, runId);
  try {
    const status = await run.execute();
    const space =
      status === "done"
        ? await session.reclaim(run.moved, (fraction) =>
            options.onProgress?.({ phase: "vacuum", moved: 0, fraction }),
          )
        : null;
    const sizeAfter = await store.sizeBytes();
    const kept = await keptCounts(store, cutoffs);
    const report: PruneReport = {
      ...baseReport(runId, false, status, cutoffs, run.totals, kept),
      samples: run.samples,
      size: { before: sizeBefore, after: sizeAfter, freed: sizeBefore - sizeAfter },
      vacuum: space?.vacuum ?? null,
      body_files: space?.body_files ?? null,
      ...rate(run.totals, options.previous, started),
    };
    await store.finishRun({
      id: runId,
      status,
      finishedAt: clock.now(),
      sizeAfter,
      report,
      error: null,
    });
    return report;
  } catch (error) {
    await recordFailure(store, runId, clock, run.totals, error);
    throw error;
  }
}

/**
 * Marks the run failed. If even that write fails (the disk that failed the prune is full), the
 * prune's own error is the one worth reporting: the run then shows as interrupted next time.
 */
async function recordFailure(
  store: RetentionStore,
  runId: string,
  clock: Clock,
  totals: PruneTotals,
  error: unknown,
): Promise<void> {
  try {
    await store.finishRun({
      id: runId,
      status: "failed",
      finishedAt: clock.now(),
      sizeAfter: await store.sizeBytes(),
      report: totals,
      error: error instanceof Error ? error.message : String(error),
    });
  } catch (recordError) {
    if (error instanceof Error)
      error.message += ` (and recording the failure failed: ${String(recordError)})`;
  }
}

class PruneRun {
  totals: PruneTotals;
  samples: PruneReport["samples"] = { status: "skipped", older_than: null };
  private readonly pacer: Pacer;
  private readonly start: PruneTotals;

  constructor(
    private readonly session: PruneSession,
    private readonly store: RetentionStore,
    private readonly cutoffs: Cutoffs,
    private readonly options: PruneOptions,
    private readonly runId: string,
  ) {
    this.totals = options.previous ? addTotals(emptyTotals(), options.previous) : emptyTotals();
    this.start = this.totals;
    this.pacer = new Pacer(options);
  }

  /** Rows this attempt moved (into an aggregate, or to compressed). */
  get moved(): number {
    const t = this.totals;
    return t.aggregated + t.compressed - (this.start.aggregated + this.start.compressed);
  }

  async execute(): Promise<"done" | "paused"> {
    try {
      // Aggregation first: rows about to be deleted are not worth compressing.
      await this.phase("aggregate", sweepsFor(this.cutoffs.aggregateBefore, this.cutoffs));
      await this.phase("compress", sweepsFor(this.cutoffs.compressBefore, this.cutoffs));
    } catch (error) {
      if (error instanceof Stopped) return "paused";
      throw error;
    }
    await this.rollUpSamples();
    return "done";
  }

  private async phase(phase: "aggregate" | "compress", sweeps: Sweep[]): Promise<void> {
    const key = phase === "aggregate" ? "aggregated" : "compressed";
    const start = this.totals[key];
    const sizes: number[] = [];
    for (const s of sweeps) sizes.push(await this.store.countBefore(s.status, s.before));
    const total = sizes.reduce((sum, n) => sum + n, 0);
    let scannedBefore = 0;
    for (const [i, sweep] of sweeps.entries()) {
      await this.sweep(phase, sweep, (scanned) => {
        const moved = this.totals[key] - start;
        const fraction = total ? Math.min(1, (scannedBefore + scanned) / total) : 1;
        this.options.onProgress?.({ phase, moved, fraction });
      });
      scannedBefore += sizes[i]!;
    }
  }

  /**
   * Walks one sweep in paced batches until no candidate is left, reading each batch ahead while
   * the one before it is written.
   */
  private async sweep(
    phase: "aggregate" | "compress",
    sweep: Sweep,
    progress: (scanned: number) => void,
  ): Promise<void> {
    const request = (cursor: ScanCursor) =>
      this.session.read({
        phase,
        scan: sweep,
        cursor,
        limit: this.pacer.batchSize,
        now: this.options.now,
      });
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
      const moved =
        batch.phase === "aggregate"
          ? await this.aggregate(sweep, batch.rows)
          : await this.compress(sweep, batch.rows);
      const doneAt = performance.now();
      this.totals = addTotals(this.totals, moved);
      scanned += batch.rows.length;
      this.options.onCheckpoint?.(this.runId, this.totals);
      progress(scanned);
      await this.pacer.after(writeAt - readAt, doneAt - writeAt, batch.rows.length);
      await this.session.keepUp();
      if (this.options.shouldStop?.()) {
        // The batch read ahead is dropped; nothing of it was written.
        next.catch(() => {});
        throw new Stopped();
      }
    }
  }

  private async aggregate(
    sweep: Sweep,
    rows: Parameters<PruneSession["aggregate"]>[1],
  ): Promise<PruneTotals> {
    const outcome = await this.session.aggregate(sweep, rows, this.options.now);
    const moved = emptyTotals();
    moved.aggregated = outcome.counted.length;
    moved.aggregated_deleted = outcome.deleted;
    moved.aggregated_kept = outcome.kept;
    if (sweep.hardCapped) {
      moved.hard_capped.aggregated = outcome.counted.length;
      for (const row of outcome.counted) {
        moved.hard_capped[heldKind(row.audit_status, Number(row.flagged) === 1)]++;
      }
    }
    return moved;
  }

  private async compress(
    sweep: Sweep,
    rows: Parameters<PruneSession["compress"]>[1],
  ): Promise<PruneTotals> {
    const flags = await this.session.compress(sweep, rows);
    const moved = emptyTotals();
    moved.compressed = flags.length;
    if (sweep.hardCapped) {
      moved.hard_capped.compressed = flags.length;
      for (const flagged of flags) moved.hard_capped[heldKind(sweep.status, flagged === 1)]++;
    }
    return moved;
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
