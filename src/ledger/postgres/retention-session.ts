import type pg from "pg";
import type {
  AggregateOutcome,
  AggregateRow,
  AggregateSourceRow,
  BatchData,
  BatchRequest,
  CompressedFields,
  CompressSourceRow,
  PruneSession,
  PruneSessionOptions,
  ReclaimReport,
  TierScan,
  VacuumReport,
} from "../stores/retention.js";
import {
  AGGREGATE_COLUMNS,
  aggregateRows,
  compressRow,
  SUMMED_AGGREGATE_COLUMNS,
} from "../tiers.js";
import { withoutNul } from "./insert.js";
import { Params, PRUNED_TABLES, type ReferenceSql } from "./retention-sql.js";
import { inTransaction } from "./transaction.js";

const TEXT_COLUMNS = new Set(["day", "agent", "action_type"]);
const FLOAT_COLUMNS = new Set([
  "confidence_min",
  "confidence_max",
  "confidence_sum",
  "confidence_sum_sq",
  "latency_min",
  "latency_max",
  "latency_sum",
  "latency_sum_sq",
]);

function arrayType(column: string): string {
  if (TEXT_COLUMNS.has(column)) return "text[]";
  return FLOAT_COLUMNS.has(column) ? "float8[]" : "int8[]";
}

/** LEAST and GREATEST ignore NULLs, as the merge needs. */
function mergeExpression(column: string): string {
  const mine = `action_aggregates.${column}`;
  if (SUMMED_AGGREGATE_COLUMNS.has(column)) return `${column} = ${mine} + excluded.${column}`;
  if (column.endsWith("_min") || column === "first_started_at") {
    return `${column} = LEAST(${mine}, excluded.${column})`;
  }
  if (column.endsWith("_max") || column === "last_started_at") {
    return `${column} = GREATEST(${mine}, excluded.${column})`;
  }
  return `${column} = excluded.${column}`;
}

const UPSERT_AGGREGATES = `INSERT INTO action_aggregates (${AGGREGATE_COLUMNS.join(", ")})
  SELECT * FROM unnest(${AGGREGATE_COLUMNS.map((c, i) => `$${i + 1}::${arrayType(c)}`).join(", ")})
  ON CONFLICT (day, agent, action_type) DO UPDATE SET
  ${AGGREGATE_COLUMNS.slice(3).map(mergeExpression).join(",\n  ")}`;

/**
 * One prune on PostgreSQL, holding the prune lock (released by `close`). Reads go through the pool,
 * so the next batch is read while this one is written; every write statement re-checks what the
 * read saw (status, age, tier, not yet counted) under the row locks it takes, so a row another
 * writer changed in between is simply left for the next run.
 */
export class PostgresPruneSession implements PruneSession {
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly refs: ReferenceSql,
    private readonly options: PruneSessionOptions,
    private readonly release: () => Promise<void>,
  ) {}

  async read(request: BatchRequest): Promise<BatchData> {
    if (request.phase === "aggregate") {
      const rows = await this.scan<AggregateSourceRow>(
        `a.id AS key, a.id, a.agent, a.action_type, a.started_at, a.status, a.confidence,
         a.tokens_in, a.tokens_out, a.latency_ms, a.audit_status,
         (a.flags <> '[]')::int AS flagged, (${this.refs.corrected})::int AS corrected,
         (${this.refs.referenced})::int AS referenced`,
        "a.aggregated_at IS NULL",
        request,
      );
      return { phase: "aggregate", rows, next: lastOf(rows) };
    }
    const rows = await this.scan<CompressSourceRow>(
      `a.id AS key, a.started_at, a.request, a.response, a.reasoning, a.meta,
       (a.flags <> '[]')::int AS flagged`,
      "a.tier = 'detailed'",
      request,
    );
    return {
      phase: "compress",
      rows: rows.map((row) => ({ flagged: row.flagged, fields: compressRow(row, request.now) })),
      next: lastOf(rows),
    };
  }

  /** A keyset batch over the (audit_status, started_at) index, in (started_at, id) order. */
  private async scan<T>(columns: string, condition: string, request: BatchRequest): Promise<T[]> {
    const p = new Params();
    const after = p.add(request.cursor.startedAt);
    const sql = `SELECT ${columns} FROM actions a
      WHERE ${p.status(request.scan.status)} AND a.started_at < ${p.add(request.scan.before)}
        AND a.started_at >= ${after}
        AND (a.started_at > ${after} OR a.id > ${p.add(String(request.cursor.key))}::text)
        AND ${condition}
      ORDER BY a.started_at, a.id LIMIT ${p.add(request.limit)}`;
    return (await this.pool.query(sql, p.values)).rows as T[];
  }

  aggregate(scan: TierScan, rows: AggregateSourceRow[], now: number): Promise<AggregateOutcome> {
    const keep = rows.filter((row) => row.referenced).map((row) => row.id);
    const drop = rows.filter((row) => !row.referenced).map((row) => row.id);
    return retryDeadlock(() =>
      inTransaction(this.pool, async (client) => {
        const gone = await this.deleteUnreferenced(client, scan, drop);
        const kept = await this.markCounted(client, scan, keep, now);
        const counted: AggregateSourceRow[] = [];
        for (const row of rows) {
          const flagged = gone.get(row.id);
          if (flagged !== undefined) counted.push({ ...row, flagged });
          else if (kept.has(row.id)) counted.push(row);
        }
        await upsertAggregates(client, aggregateRows(counted, now));
        return { counted, deleted: gone.size, kept: kept.size };
      }),
    );
  }

  /** Deletes the rows (and their flag rows) still unaggregated and referenced by nothing. */
  private async deleteUnreferenced(
    client: pg.PoolClient,
    scan: TierScan,
    ids: string[],
  ): Promise<Map<string, number>> {
    if (ids.length === 0) return new Map();
    const p = new Params();
    const { rows } = await client.query<{ id: string; flagged: number }>(
      `DELETE FROM actions a WHERE a.id = ANY(${p.add(ids)}::text[]) AND ${p.status(scan.status)}
         AND a.started_at < ${p.add(scan.before)} AND a.aggregated_at IS NULL
         AND NOT ${this.refs.referenced}
       RETURNING a.id, (a.flags <> '[]')::int AS flagged`,
      p.values,
    );
    const flagged = rows.filter((row) => row.flagged).map((row) => row.id);
    if (flagged.length) {
      await client.query("DELETE FROM action_flags WHERE action_id = ANY($1::text[])", [flagged]);
    }
    return new Map(rows.map((row) => [row.id, row.flagged]));
  }

  private async markCounted(
    client: pg.PoolClient,
    scan: TierScan,
    ids: string[],
    now: number,
  ): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const p = new Params();
    const { rows } = await client.query<{ id: string }>(
      `UPDATE actions a SET aggregated_at = ${p.add(now)}
       WHERE a.id = ANY(${p.add(ids)}::text[]) AND ${p.status(scan.status)}
         AND a.started_at < ${p.add(scan.before)} AND a.aggregated_at IS NULL
       RETURNING a.id`,
      p.values,
    );
    return new Set(rows.map((row) => row.id));
  }

  /** One UPDATE for the batch, joined to its compressed fields; returns the rows' flags. */
  async compress(
    scan: TierScan,
    rows: ReadonlyArray<{ flagged: number; fields: CompressedFields }>,
  ): Promise<number[]> {
    if (rows.length === 0) return [];
    const p = new Params();
    const column = (pick: (f: CompressedFields) => unknown) =>
      p.add(rows.map((row) => withoutNul(pick(row.fields))));
    const { rows: done } = await retryDeadlock(() =>
      this.pool.query<{ flagged: number }>(
        `UPDATE actions a SET request = NULL, response = NULL, reasoning = NULL,
         request_summary = v.request_summary, response_summary = v.response_summary,
         request_sha256 = v.request_sha256, response_sha256 = v.response_sha256,
         reasoning_sha256 = v.reasoning_sha256, meta = v.meta, tier = 'compressed',
         compressed_at = v.compressed_at
       FROM unnest(${column((f) => String(f.key))}::text[], ${column((f) => f.startedAt)}::int8[],
         ${column((f) => f.requestSummary)}::text[], ${column((f) => f.responseSummary)}::text[],
         ${column((f) => f.requestSha256)}::text[], ${column((f) => f.responseSha256)}::text[],
         ${column((f) => f.reasoningSha256)}::text[], ${column((f) => f.meta)}::text[],
         ${column((f) => f.compressedAt)}::int8[])
         AS v(id, started_at, request_summary, response_summary, request_sha256,
              response_sha256, reasoning_sha256, meta, compressed_at)
       WHERE a.id = v.id AND a.started_at = v.started_at AND a.tier = 'detailed'
         AND ${p.status(scan.status)}
       RETURNING (a.flags <> '[]')::int AS flagged`,
        p.values,
      ),
    );
    return done.map((row) => row.flagged);
  }

  async keepUp(): Promise<void> {
    // Nothing to catch up with: PostgreSQL checkpoints its own log.
  }

  /**
   * Plain VACUUM (ANALYZE) of the pruned tables: dead rows become reusable space and the planner's
   * statistics follow the new contents, under a lock that never blocks reads or writes. Only
   * empty pages at a table's end go back to the file system (VACUUM FULL would give back more,
   * but locks the gateway out while it rewrites the table).
   */
  async reclaim(moved: number, onProgress?: (fraction: number) => void): Promise<ReclaimReport> {
    const free = await this.deadFraction();
    const none = (reason: string): ReclaimReport => ({
      vacuum: { mode: "none", reason, free_fraction: free, wal_busy: false },
      body_files: null,
    });
    if (this.options.vacuum === "never") return none("vacuum turned off (--vacuum never)");
    if (moved === 0) return none("nothing was moved, so nothing to vacuum");
    const tables: NonNullable<VacuumReport["tables"]> = [];
    for (const [i, name] of PRUNED_TABLES.entries()) {
      onProgress?.(i / PRUNED_TABLES.length);
      const before = await this.tableSize(name);
      await this.pool.query(`VACUUM (ANALYZE) ${name}`);
      tables.push({ name, before, after: await this.tableSize(name) });
    }
    onProgress?.(1);
    const vacuum: VacuumReport = {
      mode: "plain",
      reason: `VACUUM (ANALYZE) of ${PRUNED_TABLES.join(", ")}: freed rows are reused by new ones`,
      free_fraction: free,
      wal_busy: false,
      tables,
    };
    return { vacuum, body_files: null };
  }

  /** Dead rows as a fraction of the pruned tables' rows, from the (slightly lagging) statistics. */
  private async deadFraction(): Promise<number> {
    const { rows } = await this.pool.query<{ dead: string; live: string }>(
      `SELECT coalesce(sum(n_dead_tup), 0)::text AS dead, coalesce(sum(n_live_tup), 0)::text AS live
       FROM pg_stat_user_tables WHERE relname = ANY($1::text[])`,
      [PRUNED_TABLES],
    );
    const dead = Number(rows[0]!.dead);
    const total = dead + Number(rows[0]!.live);
    return total ? Number((dead / total).toFixed(4)) : 0;
  }

  private async tableSize(name: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(
      "SELECT pg_total_relation_size($1::regclass)::text AS n",
      [name],
    );
    return Number(rows[0]!.n);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.release();
  }
}

async function upsertAggregates(client: pg.PoolClient, rows: AggregateRow[]): Promise<void> {
  if (rows.length === 0) return;
  const values = AGGREGATE_COLUMNS.map((column) => rows.map((row) => row[column]));
  await client.query(UPSERT_AGGREGATES, values);
}

/**
 * Runs a batch's transaction again when PostgreSQL ended it to break a deadlock (another daemon's
 * audit locking the same rows in another order): nothing of it was written, and a batch re-checks
 * everything it writes, so running it again is safe.
 */
async function retryDeadlock<T>(work: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (attempt >= attempts || (code !== "40P01" && code !== "40001")) throw error;
    }
  }
}

function lastOf(rows: ReadonlyArray<{ started_at: number; key: number | string }>) {
  const last = rows[rows.length - 1];
  return last ? { startedAt: last.started_at, key: last.key } : null;
}
