import type { Action, ActionStatus, AuditStatus } from "./actions.js";
import { trimmedColumns, trimmedRowsToActions } from "./actions.js";
import type { Db } from "./db.js";

/** Where a page of actions ends: the last row's (started_at, id), newest first. */
export interface ActionCursor {
  startedAt: number;
  id: string;
}

export interface ActionQuery {
  agent?: string | undefined;
  model?: string | undefined;
  flag?: string | undefined;
  status?: ActionStatus | undefined;
  /** "none" matches actions no audit run has covered yet. */
  auditStatus?: AuditStatus | "none" | undefined;
  since?: number | undefined;
  until?: number | undefined;
  /** Case-insensitive substring of the request, reply, error or reasoning. */
  text?: string | undefined;
  after?: ActionCursor | undefined;
  limit: number;
}

export interface CallGroup {
  agent: string;
  model: string | null;
  calls: number;
  errors: number;
  tokensIn: number;
  tokensOut: number;
}

/**
 * The dashboard's reads over the action log: keyset-paged, filtered lists and the day's totals.
 * Every query is driven by an index on started_at (or flag, agent, model), newest first, so a
 * page costs the same on the millionth row as on the first.
 */
export class DashboardStore {
  constructor(readonly db: Db) {}

  /** A page of actions; bodies longer than `trimChars` come back as previews (see trimmedColumns). */
  page(query: ActionQuery, trimChars: number): Action[] {
    const where: string[] = [];
    const params: unknown[] = [];
    let from = "actions a";
    let time = "a.started_at";
    if (query.flag !== undefined) {
      // The flag index's key is (flag, started_at, action_id): filter and order on it.
      from = "action_flags f JOIN actions a ON a.id = f.action_id";
      time = "f.started_at";
      where.push("f.flag = ?");
      params.push(query.flag);
    }
    const eq: [string, unknown][] = [
      ["a.agent", query.agent],
      ["a.model", query.model],
      ["a.status", query.status],
    ];
    for (const [column, value] of eq) {
      if (value === undefined) continue;
      where.push(`${column} = ?`);
      params.push(value);
    }
    if (query.auditStatus === "none") where.push("a.audit_status IS NULL");
    else if (query.auditStatus !== undefined) {
      where.push("a.audit_status = ?");
      params.push(query.auditStatus);
    }
    if (query.since !== undefined) {
      where.push(`${time} >= ?`);
      params.push(query.since);
    }
    if (query.until !== undefined) {
      where.push(`${time} < ?`);
      params.push(query.until);
    }
    if (query.text) {
      const columns = ["a.request", "a.response", "a.error", "a.reasoning"];
      where.push(`(${columns.map((c) => `instr(lower(${c}), ?) > 0`).join(" OR ")})`);
      const needle = query.text.toLowerCase();
      params.push(needle, needle, needle, needle);
    }
    if (query.after) {
      where.push(`(${time} < ? OR (${time} = ? AND a.id < ?))`);
      params.push(query.after.startedAt, query.after.startedAt, query.after.id);
    }
    const sql = `SELECT ${trimmedColumns(trimChars)} FROM ${from}${where.length ? ` WHERE ${where.join(" AND ")}` : ""}
      ORDER BY ${time} DESC, a.id DESC LIMIT ?`;
    params.push(query.limit);
    return trimmedRowsToActions(this.db.prepare(sql).all(params));
  }

  /** Calls, errors and tokens per agent and model started in [since, until). */
  callGroups(since: number, until: number): CallGroup[] {
    return this.db
      .prepare(
        `SELECT agent, model, count(*) AS calls, sum(status = 'error') AS errors,
           coalesce(sum(tokens_in), 0) AS tokensIn, coalesce(sum(tokens_out), 0) AS tokensOut
         FROM actions WHERE started_at >= ? AND started_at < ?
         GROUP BY agent, model ORDER BY calls DESC LIMIT 200`,
      )
      .all(since, until) as CallGroup[];
  }

  /** Latency percentiles (ms) of the calls in [since, until), nearest-rank. */
  latencyPercentiles(since: number, until: number, ranks: number[]): (number | null)[] {
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

  /** Actions after `after` in (started_at, id) order, oldest first: what a live feed sends next. */
  newerThan(after: ActionCursor, limit: number, trimChars: number): Action[] {
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
   * The newest action's position, where a live feed starts. Two index lookups: ordering by
   * (started_at, id) in one query makes SQLite scan and sort the whole table.
   */
  newest(): ActionCursor | null {
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
