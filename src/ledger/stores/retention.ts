import type { AuditStatus } from "../actions.js";

/**
 * Retention as the ledger offers it, whatever the engine: the rows of each tier, read in keyset
 * batches and moved one transaction per batch (so a kill at any moment leaves a consistent
 * ledger and the gateway keeps writing meanwhile), the day aggregates that replace old rows, a
 * record of each prune run, and the reclaiming of space afterwards. Which rows move when is the
 * capability's decision (src/retention/plan.ts); how a row is compressed or counted into its
 * aggregate is the ledger's (src/ledger/tiers.ts).
 */

/** Where a keyset scan stopped: the last row seen, in (started_at, key) order. */
export interface ScanCursor {
  startedAt: number;
  /** The engine's row key (SQLite's rowid, PostgreSQL's id); opaque to capabilities. */
  key: number | string;
}

export const SCAN_START: ScanCursor = { startedAt: Number.MIN_SAFE_INTEGER, key: -1 };

/** The rows of one audit status that started before `before`. */
export interface TierScan {
  status: AuditStatus | null;
  before: number;
}

/** What aggregation reads of an action: no bodies. */
export interface AggregateSourceRow {
  key: number | string;
  id: string;
  agent: string;
  action_type: string;
  started_at: number;
  status: "ok" | "error";
  confidence: number | null;
  tokens_in: number | null;
  tokens_out: number | null;
  latency_ms: number | null;
  audit_status: AuditStatus | null;
  flagged: number;
  corrected: number;
  /** 1 when a correction, a ruling or a review item refers to the row, so it must stay. */
  referenced: number;
}

/** What compression reads of an action: the bodies it drops and the meta it trims. */
export interface CompressSourceRow {
  key: number | string;
  started_at: number;
  request: string | null;
  response: string | null;
  reasoning: string | null;
  meta: string | null;
  flagged: number;
}

/** A row's compressed form: what replaces its bodies (see tiers.ts). */
export interface CompressedFields {
  key: number | string;
  startedAt: number;
  requestSummary: string | null;
  responseSummary: string | null;
  requestSha256: string | null;
  responseSha256: string | null;
  reasoningSha256: string | null;
  meta: string | null;
  compressedAt: number;
}

/** One day x agent x action_type aggregate, as stored (all fields merge by sum, min or max). */
export interface AggregateRow {
  day: string;
  agent: string;
  action_type: string;
  count: number;
  error_count: number;
  corrected_count: number;
  flagged_count: number;
  unaudited_count: number;
  confidence_count: number;
  confidence_min: number | null;
  confidence_max: number | null;
  confidence_sum: number;
  confidence_sum_sq: number;
  tokens_in: number;
  tokens_out: number;
  latency_count: number;
  latency_min: number | null;
  latency_max: number | null;
  latency_sum: number;
  latency_sum_sq: number;
  first_started_at: number;
  last_started_at: number;
  updated_at: number;
}

/** Counts over one audit status and a started_at range, for plans and "kept" figures. */
export interface RangeCounts {
  rows: number;
  flagged: number;
  detailed: number;
  detailedFlagged: number;
  unaggregated: number;
  unaggregatedFlagged: number;
  /** Not yet aggregated and referenced by nothing: aggregation deletes these. */
  deletable: number;
  detailedDeletable: number;
  detailedDeletableFlagged: number;
}

export type PruneRunStatus = "running" | "done" | "paused" | "failed" | "interrupted";

export interface PruneRunRow {
  id: string;
  trigger: string;
  status: PruneRunStatus;
  pid: number;
  started_at: number;
  finished_at: number | null;
  size_before: number;
  size_after: number | null;
  report: string | null;
  error: string | null;
}

export type BatchPhase = "aggregate" | "compress";

export interface BatchRequest {
  phase: BatchPhase;
  scan: TierScan;
  cursor: ScanCursor;
  limit: number;
  now: number;
}

/** A batch as read: candidates (compress ones already in compressed form) and where to go on. */
export type BatchData =
  | { phase: "aggregate"; rows: AggregateSourceRow[]; next: ScanCursor | null }
  | {
      phase: "compress";
      rows: Array<{ flagged: number; fields: CompressedFields }>;
      next: ScanCursor | null;
    };

/** What one aggregation transaction moved. */
export interface AggregateOutcome {
  /** Every row counted into an aggregate (deleted or kept), flagged as it was when it moved. */
  counted: Array<{ audit_status: AuditStatus | null; flagged: number }>;
  /** Of those, rows deleted (their aggregate replaces them). */
  deleted: number;
  /** Of those, rows kept as compressed rows because something refers to them. */
  kept: number;
}

/** auto: what suits the engine; full: SQLite's whole-file VACUUM; never: no vacuum. */
export type VacuumMode = "auto" | "full" | "never";

export interface VacuumReport {
  /** incremental/full: SQLite; plain: PostgreSQL's VACUUM (ANALYZE); none: no vacuum ran. */
  mode: "incremental" | "full" | "plain" | "none";
  reason: string;
  /** Free space before reclaiming, as a fraction (SQLite: free pages; PostgreSQL: dead rows). */
  free_fraction: number;
  /** True when a reader kept the checkpoint from truncating SQLite's write-ahead log. */
  wal_busy: boolean;
  /** PostgreSQL: each vacuumed table's pg_total_relation_size before and after. */
  tables?: Array<{ name: string; before: number; after: number }>;
}

/** Large bodies kept as files beside the ledger (SQLite) that no remaining action refers to. */
export interface BodyFilesReport {
  deleted: number;
  bytes: number;
  /** Unreferenced files left because they were written or reused too recently to be sure. */
  recent: number;
}

export interface ReclaimReport {
  vacuum: VacuumReport | null;
  body_files: BodyFilesReport | null;
}

export interface PruneSessionOptions {
  vacuum: VacuumMode;
  /** Told of anything that slows the run without failing it (no reader thread). */
  onWarning?(message: string): void;
  /** Told once when another prune (another daemon, another host) holds the ledger: this one waits. */
  onWaiting?(holder: string): void;
  /** Checked while waiting for another prune; true gives up (openSession resolves null). */
  shouldStop?(): boolean;
}

/**
 * One prune's access to the ledger, from its first batch to its vacuum. At most one session is
 * open per ledger at a time where several machines share it (a second one waits); each
 * `aggregate` and `compress` is one short transaction whose writes re-check what the read saw,
 * so a row changed in between is left for the next run and no row is ever counted twice.
 */
export interface PruneSession {
  /** Reads a batch; an engine may read the next batch ahead (another thread) meanwhile. */
  read(request: BatchRequest): Promise<BatchData>;
  /**
   * Counts rows into their day aggregates in one transaction: rows referenced by nothing are
   * deleted, referenced ones are kept (compressed later) and marked as counted.
   */
  aggregate(scan: TierScan, rows: AggregateSourceRow[], now: number): Promise<AggregateOutcome>;
  /** Replaces the bodies of rows still detailed by their compressed form; returns their flags. */
  compress(
    scan: TierScan,
    rows: ReadonlyArray<{ flagged: number; fields: CompressedFields }>,
  ): Promise<number[]>;
  /** Between two transactions: lets the engine's upkeep catch up (SQLite's write-ahead log). */
  keepUp(): Promise<void>;
  /**
   * After a finished run: deletes what no remaining action refers to and gives space back.
   * `moved` is how many rows the run moved (nothing moved: no vacuum in auto mode).
   */
  reclaim(moved: number, onProgress?: (fraction: number) => void): Promise<ReclaimReport>;
  close(): Promise<void>;
}

export interface RetentionStore {
  /** Starts a prune; null when `shouldStop` turned true while another prune held the ledger. */
  openSession(options: PruneSessionOptions): Promise<PruneSession | null>;
  /** Rows of one audit status started in [from, before): cheap enough to size a progress bar. */
  countBefore(status: AuditStatus | null, before: number, from?: number): Promise<number>;
  counts(status: AuditStatus | null, from: number, to: number): Promise<RangeCounts>;
  /** Unaudited rows that carry a flag, started in [from, to). */
  countFlaggedUnaudited(from: number, to: number): Promise<number>;
  aggregates(filter?: { agent?: string; from?: string; to?: string }): Promise<AggregateRow[]>;
  /** What the ledger takes on disk: the file and its log (SQLite), the pruned tables (PostgreSQL). */
  sizeBytes(): Promise<number>;
  /** Records a run as running; a resumed run (same id) keeps its first start and size. */
  startRun(id: string, trigger: string, startedAt: number, sizeBefore: number): Promise<void>;
  finishRun(run: {
    id: string;
    status: PruneRunStatus;
    finishedAt: number;
    sizeAfter: number | null;
    report: unknown;
    error: string | null;
  }): Promise<void>;
  run(id: string): Promise<PruneRunRow | undefined>;
  runs(limit?: number): Promise<PruneRunRow[]>;
  /** Runs left 'running' by a prune that is gone (killed) become 'interrupted'; how many. */
  markInterrupted(at: number): Promise<number>;
}
