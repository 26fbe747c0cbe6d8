import { hostname } from "node:os";
import type pg from "pg";
import { NightshiftError } from "../../errors.js";
import type { AuditStatus } from "../actions.js";
import type {
  AggregateRow,
  PruneRunRow,
  PruneRunStatus,
  PruneSession,
  PruneSessionOptions,
  RangeCounts,
  RetentionStore,
} from "../stores/retention.js";
import { PostgresPruneSession } from "./retention-session.js";
import { Params, PRUNED_TABLES, type ReferenceSql, referenceSql } from "./retention-sql.js";

/** The advisory lock one prune holds at a time across every daemon sharing the ledger. */
export const PRUNE_LOCK = 0x6e_73_70_72; // "nspr"
/** How often a waiting prune looks up whether it was asked to stop. */
const LOCK_WAIT_MS = 1000;
const RUN_COLUMNS =
  "id, trigger, status, pid, started_at, finished_at, size_before, size_after, report, error";

/**
 * Retention on a PostgreSQL ledger several daemons share. One prune at a time holds an advisory
 * lock (on its own connection, so it goes when that daemon dies); a second waits for it and then
 * finds nothing left to move. Each batch is one short transaction whose statements re-check what
 * the read saw, so the gateway's inserts never wait on a prune for long.
 */
export class PostgresRetentionStore implements RetentionStore {
  private references: Promise<ReferenceSql> | undefined;
  private sessions = 0;

  constructor(private readonly pool: pg.Pool) {}

  private refs(): Promise<ReferenceSql> {
    this.references ??= referenceSql(this.pool);
    return this.references;
  }

  async openSession(options: PruneSessionOptions): Promise<PruneSession | null> {
    if (options.vacuum === "full") {
      throw new NightshiftError(
        "--vacuum full: on the PostgreSQL ledger a prune runs only plain VACUUM (ANALYZE), which never locks out the gateway (VACUUM FULL would); use --vacuum auto or never",
      );
    }
    const refs = await this.refs();
    const client = await this.pool.connect();
    // A checked-out connection that dies (a server restart) must not end the daemon; the prune
    // goes on without the lock, its writes re-checking all they change.
    const onError = (error: Error) =>
      options.onWarning?.(`the prune lock's connection was lost: ${error.message}`);
    client.on("error", onError);
    try {
      if (!(await this.lock(client, options))) {
        client.off("error", onError);
        client.release();
        return null;
      }
    } catch (error) {
      client.off("error", onError);
      client.release(error instanceof Error ? error : true);
      throw error;
    }
    this.sessions++;
    return new PostgresPruneSession(this.pool, refs, options, async () => {
      this.sessions--;
      try {
        await client.query("SELECT pg_advisory_unlock($1)", [PRUNE_LOCK]);
        client.off("error", onError);
        client.release();
      } catch (error) {
        // A broken connection has lost its lock already; it must not go back to the pool.
        client.release(error instanceof Error ? error : true);
      }
    });
  }

  /** Waits for the prune lock, a second at a time so a stop request is heard; false if stopped. */
  private async lock(client: pg.PoolClient, options: PruneSessionOptions): Promise<boolean> {
    let told = false;
    await client.query(`SET lock_timeout = ${LOCK_WAIT_MS}`);
    try {
      for (;;) {
        try {
          await client.query("SELECT pg_advisory_lock($1)", [PRUNE_LOCK]);
          return true;
        } catch (error) {
          if ((error as { code?: string }).code !== "55P03") throw error;
        }
        if (!told) options.onWaiting?.(await this.holder());
        told = true;
        if (options.shouldStop?.()) return false;
      }
    } finally {
      await client.query("RESET lock_timeout");
    }
  }

  private async holder(): Promise<string> {
    const { rows } = await this.pool.query<{ id: string; host: string; pid: number }>(
      "SELECT id, host, pid FROM prune_runs WHERE status = 'running' ORDER BY started_at DESC LIMIT 1",
    );
    const run = rows[0];
    return run ? `run ${run.id}, pid ${run.pid} on ${run.host}` : "a prune on another daemon";
  }

  async countBefore(status: AuditStatus | null, before: number, from?: number): Promise<number> {
    const p = new Params();
    const sql = `SELECT count(*) AS n FROM actions a WHERE ${p.status(status)}
      AND a.started_at >= ${p.add(from ?? Number.MIN_SAFE_INTEGER)} AND a.started_at < ${p.add(before)}`;
    const { rows } = await this.pool.query<{ n: number }>(sql, p.values);
    return rows[0]!.n;
  }

  async counts(status: AuditStatus | null, from: number, to: number): Promise<RangeCounts> {
    const refs = await this.refs();
    const p = new Params();
    const { rows } = await this.pool.query<RangeCounts>(
      `SELECT count(*) AS rows, coalesce(sum(f), 0) AS flagged, coalesce(sum(d), 0) AS detailed,
         coalesce(sum(d * f), 0) AS "detailedFlagged", coalesce(sum(u), 0) AS unaggregated,
         coalesce(sum(u * f), 0) AS "unaggregatedFlagged",
         coalesce(sum(u * (1 - r)), 0) AS deletable,
         coalesce(sum(d * u * (1 - r)), 0) AS "detailedDeletable",
         coalesce(sum(d * u * (1 - r) * f), 0) AS "detailedDeletableFlagged"
       FROM (SELECT (a.flags <> '[]')::int AS f, (a.tier = 'detailed')::int AS d,
               (a.aggregated_at IS NULL)::int AS u, (${refs.referenced})::int AS r
             FROM actions a WHERE ${p.status(status)}
               AND a.started_at >= ${p.add(from)} AND a.started_at < ${p.add(to)}) x`,
      p.values,
    );
    return rows[0]!;
  }

  async countFlaggedUnaudited(from: number, to: number): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      `SELECT count(DISTINCT f.action_id) AS n FROM action_flags f
       WHERE f.started_at >= $1 AND f.started_at < $2
         AND EXISTS (SELECT 1 FROM actions a WHERE a.id = f.action_id AND a.audit_status IS NULL)`,
      [from, to],
    );
    return rows[0]!.n;
  }

  async aggregates(filter: { agent?: string; from?: string; to?: string } = {}) {
    const { rows } = await this.pool.query<AggregateRow>(
      `SELECT * FROM action_aggregates
       WHERE ($1::text IS NULL OR agent = $1) AND ($2::text IS NULL OR day >= $2)
         AND ($3::text IS NULL OR day < $3)
       ORDER BY day, agent, action_type`,
      [filter.agent ?? null, filter.from ?? null, filter.to ?? null],
    );
    return rows;
  }

  /** The pruned tables with their indexes and TOAST, as pg_total_relation_size counts them. */
  async sizeBytes(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(
      "SELECT coalesce(sum(pg_total_relation_size(t::regclass)), 0)::text AS n FROM unnest($1::text[]) t",
      [PRUNED_TABLES],
    );
    return Number(rows[0]!.n);
  }

  async startRun(id: string, trigger: string, startedAt: number, sizeBefore: number) {
    await this.pool.query(
      `INSERT INTO prune_runs (id, trigger, status, host, pid, started_at, size_before)
       VALUES ($1, $2, 'running', $3, $4, $5, $6)
       ON CONFLICT (id) DO UPDATE SET status = 'running', host = excluded.host,
         pid = excluded.pid, finished_at = NULL`,
      [id, trigger, hostname(), process.pid, startedAt, sizeBefore],
    );
  }

  async finishRun(run: {
    id: string;
    status: PruneRunStatus;
    finishedAt: number;
    sizeAfter: number | null;
    report: unknown;
    error: string | null;
  }): Promise<void> {
    await this.pool.query(
      `UPDATE prune_runs SET status = $2, finished_at = $3, size_after = $4, report = $5, error = $6
       WHERE id = $1`,
      [
        run.id,
        run.status,
        run.finishedAt,
        run.sizeAfter,
        run.report === null ? null : JSON.stringify(run.report),
        run.error,
      ],
    );
  }

  async run(id: string): Promise<PruneRunRow | undefined> {
    const { rows } = await this.pool.query<PruneRunRow>(
      `SELECT ${RUN_COLUMNS} FROM prune_runs WHERE id = $1`,
      [id],
    );
    return rows[0];
  }

  async runs(limit = 20): Promise<PruneRunRow[]> {
    const { rows } = await this.pool.query<PruneRunRow>(
      `SELECT ${RUN_COLUMNS} FROM prune_runs ORDER BY started_at DESC LIMIT $1`,
      [limit],
    );
    return rows;
  }

  /**
   * Inside a session this daemon holds the prune lock, so any other run still 'running' belongs
   * to a prune that died (its lock went with its connection). Outside one nothing is known.
   */
  async markInterrupted(at: number): Promise<number> {
    if (this.sessions === 0) return 0;
    const { rowCount } = await this.pool.query(
      "UPDATE prune_runs SET status = 'interrupted', finished_at = $1 WHERE status = 'running'",
      [at],
    );
    return rowCount ?? 0;
  }
}
