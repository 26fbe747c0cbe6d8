import type { Statement } from "better-sqlite3";
import type { AuditStatus } from "../actions.js";
import type { Db } from "../db.js";
import type {
  AggregateRow,
  AggregateSourceRow,
  CompressedFields,
  CompressSourceRow,
  RangeCounts,
  ScanCursor,
} from "../stores/retention.js";
import { AGGREGATE_COLUMNS, SUMMED_AGGREGATE_COLUMNS } from "../tiers.js";

function mergeExpression(column: string): string {
  if (SUMMED_AGGREGATE_COLUMNS.has(column)) return `${column} = ${column} + excluded.${column}`;
  // min(a, NULL) is NULL in SQLite, so fall back to whichever side has a value.
  if (column.endsWith("_min") || column === "first_started_at") {
    return `${column} = coalesce(min(${column}, excluded.${column}), ${column}, excluded.${column})`;
  }
  if (column.endsWith("_max") || column === "last_started_at") {
    return `${column} = coalesce(max(${column}, excluded.${column}), ${column}, excluded.${column})`;
  }
  return `${column} = excluded.${column}`;
}

/**
 * Retention's tables and its queries over `actions` on SQLite, synchronous: the async store
 * (retention.ts) runs them on the main thread, the prune's reader thread on its own
 * connection. Scans walk the (audit_status, started_at) index with a keyset cursor, so each batch starts where the last stopped instead of re-reading
 * the rows already handled.
 */
export class RetentionStatements {
  private readonly referencedSql: string;
  private readonly correctedSql: string;
  private readonly aggregateScan: Statement;
  private readonly compressScan: Statement;
  private readonly compressUpdate: Statement;
  private readonly markAggregatedStmt: Statement;
  private readonly deleteFlags: Statement;
  private readonly deleteAction: Statement;
  private readonly upsertAggregate: Statement;
  private readonly rangeCounts: Statement;
  private readonly indexCount: Statement;
  private readonly flaggedUnaudited: Statement;

  constructor(readonly db: Db) {
    // The audit's corrections and the review queue refer to actions by id. Their tables are
    // read (never written) where they exist, so a ledger without them still prunes.
    const tables = new Set(
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[],
    );
    const correctionRef = tables.has("corrections")
      ? "EXISTS (SELECT 1 FROM corrections c WHERE c.action_id = a.id)"
      : "0";
    const reviewRef = tables.has("review_items")
      ? "EXISTS (SELECT 1 FROM review_items r WHERE r.action_id = a.id)"
      : "0";
    // coalesce: NULL IN (...) is NULL, and NOT NULL would count an unaudited row as neither.
    this.referencedSql = `(coalesce(a.audit_status IN ('corrected', 'ruled', 'in_review'), 0) OR ${correctionRef} OR ${reviewRef})`;
    this.correctedSql = `(a.audit_status = 'corrected' OR ${correctionRef})`;
    // Written as a range on started_at plus a tie-break, so the index seeks to the cursor instead
    // of walking from the start of the status's range on every batch.
    const cursor = "a.started_at >= @after AND (a.started_at > @after OR a.rowid > @afterRowid)";
    this.aggregateScan = db.prepare(
      `SELECT a.rowid AS key, a.id, a.agent, a.action_type, a.started_at, a.status, a.confidence,
         a.tokens_in, a.tokens_out, a.latency_ms, a.audit_status, a.flags != '[]' AS flagged,
         ${this.correctedSql} AS corrected, ${this.referencedSql} AS referenced
       FROM actions a INDEXED BY actions_audit_status
       WHERE a.audit_status IS @status AND a.started_at < @before AND ${cursor}
         AND a.aggregated_at IS NULL
       ORDER BY a.started_at, a.rowid LIMIT @limit`,
    );
    this.compressScan = db.prepare(
      `SELECT a.rowid AS key, a.started_at, a.request, a.response, a.reasoning, a.meta,
         a.flags != '[]' AS flagged
       FROM actions a INDEXED BY actions_audit_status
       WHERE a.audit_status IS @status AND a.started_at < @before AND ${cursor}
         AND a.tier = 'detailed'
       ORDER BY a.started_at, a.rowid LIMIT @limit`,
    );
    this.compressUpdate = db.prepare(
      `UPDATE actions SET request = NULL, response = NULL, reasoning = NULL,
         request_summary = @requestSummary, response_summary = @responseSummary,
         request_sha256 = @requestSha256, response_sha256 = @responseSha256,
         reasoning_sha256 = @reasoningSha256, meta = @meta, tier = 'compressed',
         compressed_at = @compressedAt
       WHERE rowid = @key AND started_at = @startedAt AND tier = 'detailed'
         AND audit_status IS @status`,
    );
    // The write side re-checks what the read side saw (status, not yet aggregated, not referenced,
    // the same row), so whatever changed in between is simply left for the next run.
    // The unary + keeps the planner on the rowid list instead of scanning the status index.
    const same = `a.rowid IN (SELECT value FROM json_each(@rowids)) AND +a.audit_status IS @status
      AND +a.started_at < @before AND a.aggregated_at IS NULL`;
    this.markAggregatedStmt = db.prepare(
      `UPDATE actions AS a SET aggregated_at = @now WHERE ${same} RETURNING rowid`,
    );
    this.deleteAction = db.prepare(
      `DELETE FROM actions AS a WHERE ${same} AND NOT ${this.referencedSql}
       RETURNING rowid AS key, id, flags != '[]' AS flagged`,
    );
    this.deleteFlags = db.prepare(
      "DELETE FROM action_flags WHERE action_id IN (SELECT value FROM json_each(?))",
    );
    this.upsertAggregate = db.prepare(
      `INSERT INTO action_aggregates (${AGGREGATE_COLUMNS.join(", ")})
       VALUES (${AGGREGATE_COLUMNS.map((c) => `@${c}`).join(", ")})
       ON CONFLICT (day, agent, action_type) DO UPDATE SET
       ${AGGREGATE_COLUMNS.slice(3).map(mergeExpression).join(",\n       ")}`,
    );
    this.rangeCounts = db.prepare(
      `SELECT count(*) AS rows,
         coalesce(sum(f), 0) AS flagged,
         coalesce(sum(d), 0) AS detailed,
         coalesce(sum(d AND f), 0) AS detailedFlagged,
         coalesce(sum(u), 0) AS unaggregated,
         coalesce(sum(u AND f), 0) AS unaggregatedFlagged,
         coalesce(sum(u AND NOT r), 0) AS deletable,
         coalesce(sum(d AND u AND NOT r), 0) AS detailedDeletable,
         coalesce(sum(d AND u AND NOT r AND f), 0) AS detailedDeletableFlagged
       FROM (SELECT a.flags != '[]' AS f, a.tier = 'detailed' AS d,
               a.aggregated_at IS NULL AS u, ${this.referencedSql} AS r
             FROM actions a INDEXED BY actions_audit_status
             WHERE a.audit_status IS @status AND a.started_at >= @from AND a.started_at < @to)`,
    );
    this.indexCount = db.prepare(
      `SELECT count(*) FROM actions INDEXED BY actions_audit_status
       WHERE audit_status IS ? AND started_at >= ? AND started_at < ?`,
    );
    // Driven by the flag index, so only flagged rows are read, never every held row's bodies.
    this.flaggedUnaudited = db.prepare(
      `SELECT count(DISTINCT f.action_id) FROM action_flags f
       WHERE f.started_at >= ? AND f.started_at < ?
         AND EXISTS (SELECT 1 FROM actions a WHERE a.id = f.action_id AND a.audit_status IS NULL)`,
    );
  }

  /**
   * Runs `work` in a BEGIN IMMEDIATE transaction: it reads before it writes, and a deferred one
   * would fail with SQLITE_BUSY_SNAPSHOT whenever the gateway committed in between, where an
   * immediate one waits its turn for the lock (busy_timeout) and then reads fresh data.
   */
  transaction<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }

  /** Rows of one audit status that started before `before`, not yet aggregated, after `after`. */
  aggregateCandidates(
    status: AuditStatus | null,
    before: number,
    after: ScanCursor,
    limit: number,
  ): AggregateSourceRow[] {
    return this.aggregateScan.all({
      status,
      before,
      after: after.startedAt,
      afterRowid: after.key,
      limit,
    }) as AggregateSourceRow[];
  }

  compressCandidates(
    status: AuditStatus | null,
    before: number,
    after: ScanCursor,
    limit: number,
  ): CompressSourceRow[] {
    return this.compressScan.all({
      status,
      before,
      after: after.startedAt,
      afterRowid: after.key,
      limit,
    }) as CompressSourceRow[];
  }

  /**
   * Drops the bodies and writes summaries and hashes in one statement, if the row is still the
   * detailed row of that status the read saw; false otherwise.
   */
  compress(fields: CompressedFields, status: AuditStatus | null): boolean {
    return this.compressUpdate.run({ ...fields, status }).changes === 1;
  }

  /**
   * Deletes the rows (and their flag index entries) that are still unaggregated, of `status`,
   * older than `before` and referenced by nothing; returns those it deleted.
   */
  deleteForAggregate(
    status: AuditStatus | null,
    before: number,
    rowids: ReadonlyArray<number | string>,
  ): Array<{ key: number; id: string; flagged: number }> {
    if (rowids.length === 0) return [];
    const gone = this.deleteAction.all({
      status,
      before,
      rowids: JSON.stringify(rowids),
    }) as Array<{ key: number; id: string; flagged: number }>;
    // action_flags mirrors actions.flags, so a row without flags has no index entries to drop.
    const flagged = gone.filter((row) => row.flagged).map((row) => row.id);
    if (flagged.length) this.deleteFlags.run(JSON.stringify(flagged));
    return gone;
  }

  /** Marks rows kept for their references as counted; returns the rowids it marked. */
  markAggregated(
    status: AuditStatus | null,
    before: number,
    rowids: ReadonlyArray<number | string>,
    now: number,
  ): number[] {
    if (rowids.length === 0) return [];
    return this.markAggregatedStmt
      .pluck()
      .all({ status, before, now, rowids: JSON.stringify(rowids) }) as number[];
  }

  mergeAggregate(row: AggregateRow): void {
    this.upsertAggregate.run(row);
  }

  aggregates(filter: { agent?: string; from?: string; to?: string } = {}): AggregateRow[] {
    return this.db
      .prepare(
        `SELECT * FROM action_aggregates
         WHERE (@agent IS NULL OR agent = @agent) AND (@from IS NULL OR day >= @from)
           AND (@to IS NULL OR day < @to)
         ORDER BY day, agent, action_type`,
      )
      .all({
        agent: filter.agent ?? null,
        from: filter.from ?? null,
        to: filter.to ?? null,
      }) as AggregateRow[];
  }

  counts(status: AuditStatus | null, from: number, to: number): RangeCounts {
    return this.rangeCounts.get({ status, from, to }) as RangeCounts;
  }

  /** An index-only count, cheap enough to size a progress bar or count held rows. */
  countBefore(status: AuditStatus | null, before: number, from = Number.MIN_SAFE_INTEGER): number {
    return Number(this.indexCount.pluck().get(status, from, before));
  }

  /** Unaudited rows that carry a flag, started in [from, to). */
  countFlaggedUnaudited(from: number, to: number): number {
    return Number(this.flaggedUnaudited.pluck().get(from, to));
  }
}
