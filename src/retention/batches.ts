import type {
  AggregateSourceRow,
  CompressedFields,
  RetentionStore,
  ScanCursor,
} from "../ledger/retention-store.js";
import { emptyTotals, heldKind, type PruneTotals, type Sweep } from "./plan.js";
import { aggregateRows, compressRow } from "./tiers.js";

/**
 * One batch of a sweep, in two steps. `readBatch` (no lock: WAL readers never block the gateway's
 * writer) selects the candidates and does the costly work — parsing, summarizing, hashing — and
 * returns plain data, so it can run on another thread with its own connection (see reader.ts).
 * `applyBatch`, run inside one write transaction, writes the result with statements that re-check
 * what the read saw, so a row whose status changed in between is left for the next run and the
 * write lock is held only for the B-tree work itself.
 */
export type BatchPhase = "aggregate" | "compress";

export interface BatchRequest {
  phase: BatchPhase;
  sweep: Sweep;
  cursor: ScanCursor;
  limit: number;
  now: number;
}

export type BatchData =
  | { phase: "aggregate"; rows: AggregateSourceRow[]; next: ScanCursor | null }
  | {
      phase: "compress";
      rows: Array<{ flagged: number; fields: CompressedFields }>;
      next: ScanCursor | null;
    };

function lastOf(rows: ReadonlyArray<{ started_at: number; rowid: number }>): ScanCursor | null {
  const last = rows[rows.length - 1];
  return last ? { startedAt: last.started_at, rowid: last.rowid } : null;
}

export function readBatch(store: RetentionStore, request: BatchRequest): BatchData {
  const { sweep, cursor, limit } = request;
  if (request.phase === "aggregate") {
    const rows = store.aggregateCandidates(sweep.status, sweep.before, cursor, limit);
    return { phase: "aggregate", rows, next: lastOf(rows) };
  }
  const rows = store.compressCandidates(sweep.status, sweep.before, cursor, limit);
  return {
    phase: "compress",
    rows: rows.map((row) => ({ flagged: row.flagged, fields: compressRow(row, request.now) })),
    next: lastOf(rows),
  };
}

/** Writes a batch; returns what it moved. Call inside a write transaction. */
export function applyBatch(
  store: RetentionStore,
  sweep: Sweep,
  batch: BatchData,
  now: number,
): PruneTotals {
  return batch.phase === "aggregate"
    ? applyAggregate(store, sweep, batch.rows, now)
    : applyCompress(store, sweep, batch.rows);
}

function applyAggregate(
  store: RetentionStore,
  sweep: Sweep,
  rows: AggregateSourceRow[],
  now: number,
): PruneTotals {
  const keep = rows.filter((row) => row.referenced).map((row) => row.rowid);
  const drop = rows.filter((row) => !row.referenced).map((row) => row.rowid);
  const gone = new Map(
    store.deleteForAggregate(sweep.status, sweep.before, drop).map((g) => [g.rowid, g]),
  );
  const kept = new Set(store.markAggregated(sweep.status, sweep.before, keep, now));
  const counted: AggregateSourceRow[] = [];
  for (const row of rows) {
    const deleted = gone.get(row.rowid);
    if (deleted) counted.push({ ...row, flagged: deleted.flagged });
    else if (kept.has(row.rowid)) counted.push(row);
  }
  for (const aggregate of aggregateRows(counted, now)) store.mergeAggregate(aggregate);
  const moved = emptyTotals();
  moved.aggregated = counted.length;
  moved.aggregated_deleted = gone.size;
  moved.aggregated_kept = kept.size;
  if (sweep.hardCapped) {
    moved.hard_capped.aggregated = counted.length;
    for (const row of counted) moved.hard_capped[heldKind(row.audit_status, row.flagged === 1)]++;
  }
  return moved;
}

function applyCompress(
  store: RetentionStore,
  sweep: Sweep,
  rows: Array<{ flagged: number; fields: CompressedFields }>,
): PruneTotals {
  const moved = emptyTotals();
  for (const row of rows) {
    if (!store.compress(row.fields, sweep.status)) continue;
    moved.compressed++;
    if (!sweep.hardCapped) continue;
    moved.hard_capped.compressed++;
    moved.hard_capped[heldKind(sweep.status, row.flagged === 1)]++;
  }
  return moved;
}
