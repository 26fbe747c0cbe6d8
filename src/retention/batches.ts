import type { AggregateSourceRow, RetentionStore, ScanCursor } from "../ledger/retention-store.js";
import { emptyTotals, heldKind, type PruneTotals, type Sweep } from "./plan.js";
import { aggregateRows, compressRow } from "./tiers.js";

/**
 * One batch of a sweep, in two steps. `read` (no lock: WAL readers never block the gateway's
 * writer) selects the candidates and does the costly work — parsing, summarizing, hashing.
 * `apply`, run inside one write transaction, writes the result with statements that re-check
 * what the read saw, so a row whose status changed in between is left for the next run and the
 * write lock is held only for the B-tree work itself.
 */
export interface PreparedBatch {
  /** Rows read; 0 ends the sweep. */
  count: number;
  /** Where the next batch starts. */
  next: ScanCursor | null;
  /** Writes the batch; returns what it moved. Call inside a write transaction. */
  apply(): PruneTotals;
}

function lastOf(rows: ReadonlyArray<{ started_at: number; rowid: number }>): ScanCursor | null {
  const last = rows[rows.length - 1];
  return last ? { startedAt: last.started_at, rowid: last.rowid } : null;
}

export function prepareAggregateBatch(
  store: RetentionStore,
  sweep: Sweep,
  cursor: ScanCursor,
  limit: number,
  now: number,
): PreparedBatch {
  const rows = store.aggregateCandidates(sweep.status, sweep.before, cursor, limit);
  return {
    count: rows.length,
    next: lastOf(rows),
    apply: () => {
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
        for (const row of counted)
          moved.hard_capped[heldKind(row.audit_status, row.flagged === 1)]++;
      }
      return moved;
    },
  };
}

export function prepareCompressBatch(
  store: RetentionStore,
  sweep: Sweep,
  cursor: ScanCursor,
  limit: number,
  now: number,
): PreparedBatch {
  const rows = store.compressCandidates(sweep.status, sweep.before, cursor, limit);
  const fields = rows.map((row) => compressRow(row, now));
  return {
    count: rows.length,
    next: lastOf(rows),
    apply: () => {
      const moved = emptyTotals();
      rows.forEach((row, i) => {
        if (!store.compress(fields[i]!, sweep.status)) return;
        moved.compressed++;
        if (!sweep.hardCapped) return;
        moved.hard_capped.compressed++;
        moved.hard_capped[heldKind(sweep.status, row.flagged === 1)]++;
      });
      return moved;
    },
  };
}
