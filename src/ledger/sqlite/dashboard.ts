import type { Action } from "../actions.js";
import { trimmedColumns, trimmedRowsToActions } from "../actions.js";
import { dashboardPageQuery } from "../dashboard-query.js";
import type { Db } from "../db.js";
import type {
  ActionCursor,
  CallGroup,
  DashboardQuery,
  DashboardReads,
} from "../stores/dashboard.js";

const SQLITE = {
  placeholder: () => "?",
  contains: (column: string, needle: string) => `instr(lower(${column}), ${needle}) > 0`,
};

/**
 * The dashboard's reads over the SQLite action log: keyset-paged, filtered lists and the day's
 * totals. Every query is driven by an index on started_at (or flag, agent, model), newest first.
 */
export class SqliteDashboardReads implements DashboardReads {
  constructor(readonly db: Db) {}

  async page(query: DashboardQuery, trimChars: number): Promise<Action[]> {
    const { sql, params } = dashboardPageQuery(query, trimChars, SQLITE);
    return trimmedRowsToActions(this.db.prepare(sql).all(params));
  }

  async callGroups(since: number, until: number): Promise<CallGroup[]> {
    return this.db
      .prepare(
        `SELECT agent, model, count(*) AS calls, sum(status = 'error') AS errors,
           coalesce(sum(tokens_in), 0) AS tokensIn, coalesce(sum(tokens_out), 0) AS tokensOut
         FROM actions WHERE started_at >= ? AND started_at < ?
         GROUP BY agent, model ORDER BY calls DESC LIMIT 200`,
      )
      .all(since, until) as CallGroup[];
  }

  async latencyPercentiles(
    since: number,
    until: number,
    ranks: number[],
  ): Promise<(number | null)[]> {
    const count = Number(
      this.db
        .prepare(
          "SELECT count(latency_ms) FROM actions WHERE started_at >= ? AND started_at < ? AND latency_ms IS NOT NULL",
        )
        .pluck()
        .get(since, until),
    );
    if (count === 0) return ranks.map(() => null);
    const at = this.db
      .prepare(
        `SELECT latency_ms FROM actions WHERE started_at >= ? AND started_at < ? AND latency_ms IS NOT NULL
         ORDER BY latency_ms LIMIT 1 OFFSET ?`,
      )
      .pluck();
    return ranks.map((p) => {
      const offset = Math.min(count - 1, Math.max(0, Math.ceil(p * count) - 1));
      return at.get(since, until, offset) as number;
    });
  }

  async newerThan(after: ActionCursor, limit: number, trimChars: number): Promise<Action[]> {
    return trimmedRowsToActions(
      this.db
        .prepare(
          `SELECT ${trimmedColumns(trimChars)} FROM actions a
           WHERE a.started_at >= ? AND (a.started_at > ? OR a.id > ?)
           ORDER BY a.started_at, a.id LIMIT ?`,
        )
        .all(after.startedAt, after.startedAt, after.id, limit),
    );
  }

  /**
   * Two index lookups: ordering by (started_at, id) in one query makes SQLite scan and sort the
   * whole table.
   */
  async newest(): Promise<ActionCursor | null> {
    const startedAt = this.db.prepare("SELECT max(started_at) FROM actions").pluck().get() as
      | number
      | null;
    if (startedAt === null) return null;
    const id = this.db
      .prepare("SELECT max(id) FROM actions WHERE started_at = ?")
      .pluck()
      .get(startedAt) as string;
    return { startedAt, id };
  }
}
