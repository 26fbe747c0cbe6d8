import type { AuditStatus } from "../actions.js";
import type { Ledger } from "../ledger.js";
import type {
  AggregateOutcome,
  AggregateRow,
  AggregateSourceRow,
  BatchData,
  BatchRequest,
  CompressedFields,
  PruneRunRow,
  PruneRunStatus,
  PruneSession,
  PruneSessionOptions,
  RangeCounts,
  ReclaimReport,
  RetentionStore,
  TierScan,
} from "../stores/retention.js";
import { collectBodyFiles } from "./body-collect.js";
import { type Checkpointer, startCheckpointer } from "./checkpointer.js";
import { PruneRuns } from "./prune-runs.js";
import { applyAggregate, applyCompress } from "./retention-batches.js";
import { type BatchReader, openReader } from "./retention-reader.js";
import { RetentionStatements } from "./retention-statements.js";
import { reclaimSpace, truncateWal } from "./space.js";

/**
 * Retention on the SQLite ledger: the synchronous statements (retention-statements.ts) behind the
 * async seam. One writer at a time is SQLite's own rule, so two prunes on one file interleave
 * batch by batch, each re-checking under the write lock what its read saw: nothing is counted
 * twice. A session reads on a second thread and checkpoints the write-ahead log on a third.
 */
export class SqliteRetentionStore implements RetentionStore {
  private prepared: RetentionStatements | undefined;
  private pruneRuns: PruneRuns | undefined;

  constructor(private readonly ledger: Ledger) {}

  /** Prepared on first use: most commands that open the ledger never prune. */
  private get s(): RetentionStatements {
    this.prepared ??= new RetentionStatements(this.ledger.db);
    return this.prepared;
  }

  private get r(): PruneRuns {
    this.pruneRuns ??= new PruneRuns(this.ledger.db);
    return this.pruneRuns;
  }

  async openSession(options: PruneSessionOptions): Promise<PruneSession> {
    return new SqlitePruneSession(this.ledger, this.s, options);
  }

  async countBefore(status: AuditStatus | null, before: number, from?: number): Promise<number> {
    return this.s.countBefore(status, before, from);
  }

  async counts(status: AuditStatus | null, from: number, to: number): Promise<RangeCounts> {
    return this.s.counts(status, from, to);
  }

  async countFlaggedUnaudited(from: number, to: number): Promise<number> {
    return this.s.countFlaggedUnaudited(from, to);
  }

  async aggregates(filter?: { agent?: string; from?: string; to?: string }) {
    return this.s.aggregates(filter) as AggregateRow[];
  }

  async sizeBytes(): Promise<number> {
    return this.ledger.sizeBytes();
  }

  async startRun(id: string, trigger: string, startedAt: number, sizeBefore: number) {
    this.r.startRun(id, trigger, startedAt, sizeBefore);
  }

  async finishRun(run: {
    id: string;
    status: PruneRunStatus;
    finishedAt: number;
    sizeAfter: number | null;
    report: unknown;
    error: string | null;
  }): Promise<void> {
    this.r.finish(run);
  }

  async run(id: string): Promise<PruneRunRow | undefined> {
    return this.r.run(id);
  }

  async runs(limit?: number): Promise<PruneRunRow[]> {
    return this.r.runs(limit);
  }

  async markInterrupted(at: number): Promise<number> {
    return this.r.markInterrupted(at);
  }
}

/**
 * One prune's connection to the file. Its helper threads (the batch reader and the checkpointer)
 * start with the first full batch: a prune that moves less than one batch, the common case
 * between two weekly runs, writes too little to the log to need them and finishes before a thread
 * would have started.
 */
class SqlitePruneSession implements PruneSession {
  private readonly reader: BatchReader;
  private checkpointer: Checkpointer | null = null;
  private readerOpen = true;
  private checkpointing = true;

  constructor(
    private readonly ledger: Ledger,
    private readonly s: RetentionStatements,
    private readonly options: PruneSessionOptions,
  ) {
    this.reader = openReader(
      s,
      ledger.path,
      (reason) =>
        options.onWarning?.(`reading batches on the main thread (no reader thread: ${reason})`),
      () => {
        if (this.checkpointing) this.checkpointer = startCheckpointer(ledger.db, ledger.path);
      },
    );
  }

  read(request: BatchRequest): Promise<BatchData> {
    return this.reader.read(request);
  }

  async aggregate(
    scan: TierScan,
    rows: AggregateSourceRow[],
    now: number,
  ): Promise<AggregateOutcome> {
    return this.s.transaction(() => applyAggregate(this.s, scan, rows, now));
  }

  async compress(
    scan: TierScan,
    rows: ReadonlyArray<{ flagged: number; fields: CompressedFields }>,
  ): Promise<number[]> {
    return this.s.transaction(() => applyCompress(this.s, scan, rows));
  }

  async keepUp(): Promise<void> {
    await this.checkpointer?.keepUp();
  }

  /**
   * Body files first (they need no lock), then free pages back to the file system with the log
   * checkpointed on the other thread meanwhile; the log is truncated once that thread stopped.
   */
  async reclaim(_moved: number, onProgress?: (fraction: number) => void): Promise<ReclaimReport> {
    await this.closeReader();
    const bodies = this.ledger.actions.bodies;
    const body_files = bodies ? await collectBodyFiles(this.ledger.db, bodies.dir) : null;
    const space = await reclaimSpace(
      this.ledger.db,
      this.ledger.path,
      this.options.vacuum,
      onProgress,
    );
    await this.stopCheckpointer();
    const walBusy = !(await truncateWal(this.ledger.db));
    if (space.mode !== "none") onProgress?.(1);
    return { vacuum: { ...space, wal_busy: walBusy }, body_files };
  }

  async close(): Promise<void> {
    await this.closeReader();
    await this.stopCheckpointer();
  }

  private async closeReader(): Promise<void> {
    if (!this.readerOpen) return;
    this.readerOpen = false;
    await this.reader.close();
  }

  private async stopCheckpointer(): Promise<void> {
    if (!this.checkpointing) return;
    this.checkpointing = false;
    await this.checkpointer?.stop();
  }
}
