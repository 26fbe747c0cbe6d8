import type pg from "pg";
import { type Action, trimmedColumns, trimmedRowsToActions } from "../actions.js";
import { dashboardPageQuery } from "../dashboard-query.js";
import type {
  ActionCursor,
  CallGroup,
  DashboardQuery,
  DashboardReads,
} from "../stores/dashboard.js";

const POSTGRES = {
  placeholder: (n: number) => `$${n}`,
  contains: (column: string, needle: string) => `strpos(lower(${column}), ${needle}) > 0`,
};

/**
 * The dashboard's reads over the PostgreSQL action log: the same queries as on SQLite (one
 * builder, dashboard-query.ts), so a page trims long bodies to the same previews on both engines.
 */
export class PostgresDashboardReads implements DashboardReads {
  constructor(private readonly pool: pg.Pool) {}

  async page(query: DashboardQuery, trimChars: number): Promise<Action[]> {
    const { sql, params } = dashboardPageQuery(query, trimChars, POSTGRES);
    return trimmedRowsToActions((await this.pool.query(sql, params)).rows);
  }

  async callGroups(since: number, until: number): Promise<CallGroup[]> {
    const { rows } = await this.pool.query<CallGroup>(
      `SELECT agent, model, count(*) AS calls, count(*) FILTER (WHERE status = 'error') AS errors,
         coalesce(sum(tokens_in), 0) AS "tokensIn", coalesce(sum(tokens_out), 0) AS "tokensOut"
       FROM actions WHERE started_at >= $1 AND started_at < $2
       GROUP BY agent, model ORDER BY calls DESC LIMIT 200`,
      [since, until],
    );
    // sum(bigint) is numeric, which pg reads as a string.
    return rows.map((row) => ({
      ...row,
      tokensIn: Number(row.tokensIn),
      tokensOut: Number(row.tokensOut),
    }));
  }

  /** percentile_disc is the nearest-rank percentile: one scan for every rank. */
  async latencyPercentiles(
    since: number,
    until: number,
    ranks: number[],
  ): Promise<(number | null)[]> {
    const { rows } = await this.pool.query<{ at: (number | null)[] | null }>(
      `SELECT percentile_disc($3::float8[]) WITHIN GROUP (ORDER BY latency_ms) AS at
       FROM actions WHERE started_at >= $1 AND started_at < $2 AND latency_ms IS NOT NULL`,
      [since, until, ranks],
    );
    return rows[0]?.at ?? ranks.map(() => null);
  }

  async newerThan(after: ActionCursor, limit: number, trimChars: number): Promise<Action[]> {
    const { rows } = await this.pool.query(
      `SELECT ${trimmedColumns(trimChars)} FROM actions a
       WHERE a.started_at >= $1 AND (a.started_at > $1 OR a.id > $2)
       ORDER BY a.started_at, a.id LIMIT $3`,
      [after.startedAt, after.id, limit],
    );
    return trimmedRowsToActions(rows);
  }

  async newest(): Promise<ActionCursor | null> {
    const { rows } = await this.pool.query<ActionCursor>(
      `SELECT started_at AS "startedAt", id FROM actions ORDER BY started_at DESC, id DESC LIMIT 1`,
    );
    return rows[0] ?? null;
  }
}
