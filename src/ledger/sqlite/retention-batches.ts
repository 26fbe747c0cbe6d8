import type {
  AggregateOutcome,
  AggregateSourceRow,
  BatchData,
  BatchRequest,
  CompressedFields,
  ScanCursor,
  TierScan,
} from "../stores/retention.js";
import { aggregateRows, compressRow } from "../tiers.js";
import type { RetentionStatements } from "./retention-statements.js";

/**
 * One batch of a sweep on SQLite, in two steps. `readBatch` (no lock: WAL readers never block the
 * gateway's writer) selects the candidates and does the costly work — parsing, summarizing,
 * hashing — and returns plain data, so it can run on another thread with its own connection (see
 * retention-reader.ts). The apply functions, run inside one write transaction, write the result
 * with statements that re-check what the read saw, so a row whose status changed in between is
 * left for the next run and the write lock is held only for the B-tree work itself.
 */
function lastOf(
  rows: ReadonlyArray<{ started_at: number; key: number | string }>,
): ScanCursor | null {
  const last = rows[rows.length - 1];
  return last ? { startedAt: last.started_at, key: last.key } : null;
}

export function readBatch(store: RetentionStatements, request: BatchRequest): BatchData {
  const { scan, cursor, limit } = request;
  if (request.phase === "aggregate") {
    const rows = store.aggregateCandidates(scan.status, scan.before, cursor, limit);
    return { phase: "aggregate", rows, next: lastOf(rows) };
  }
  const rows = store.compressCandidates(scan.status, scan.before, cursor, limit);
  return {
    phase: "compress",
    rows: rows.map((row) => ({ flagged: row.flagged, fields: compressRow(row, request.now) })),
    next: lastOf(rows),
  };
}

/** Counts rows into their aggregates; call inside a write transaction. */
export function applyAggregate(
  store: RetentionStatements,
  scan: TierScan,
  rows: readonly AggregateSourceRow[],
  now: number,
): AggregateOutcome {
  const keep = rows.filter((row) => row.referenced).map((row) => row.key);
  const drop = rows.filter((row) => !row.referenced).map((row) => row.key);
  const gone = new Map(
    store.deleteForAggregate(scan.status, scan.before, drop).map((g) => [g.key, g]),
  );
  const kept = new Set(store.markAggregated(scan.status, scan.before, keep, now));
  const counted: AggregateSourceRow[] = [];
  for (const row of rows) {
    const deleted = gone.get(row.key as number);
    if (deleted) counted.push({ ...row, flagged: deleted.flagged });
    else if (kept.has(row.key as number)) counted.push(row);
  }
  for (const aggregate of aggregateRows(counted, now)) store.mergeAggregate(aggregate);
  return { counted, deleted: gone.size, kept: kept.size };
}

/** Compresses the rows still detailed; returns the flags of those it compressed. */
export function applyCompress(
  store: RetentionStatements,
  scan: TierScan,
  rows: ReadonlyArray<{ flagged: number; fields: CompressedFields }>,
): number[] {
  const flags: number[] = [];
  for (const row of rows) if (store.compress(row.fields, scan.status)) flags.push(row.flagged);
  return flags;
}
