import { trimmedColumns } from "./actions.js";
import type { ActionCursor, DashboardQuery } from "./stores/dashboard.js";

/** How an engine writes the n-th parameter (? or $n) and a case-sensitive substring test. */
export interface Dialect {
  placeholder(n: number): string;
  /** True when `needle` (already lower-case) occurs in lower(column). */
  contains(column: string, needle: string): string;
}

/**
 * The dashboard's listing query, for both engines. A flag filter drives it from the flag index
 * (key (flag, started_at, action_id)), anything else from started_at; a cursor continues after
 * (started_at, id), newest first, so pages neither skip nor repeat rows that share a millisecond.
 */
export function dashboardPageQuery(
  query: DashboardQuery,
  trimChars: number,
  dialect: Dialect,
): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown): string => {
    params.push(value);
    return dialect.placeholder(params.length);
  };
  let from = "actions a";
  let time = "a.started_at";
  if (query.flag !== undefined) {
    from = "action_flags f JOIN actions a ON a.id = f.action_id";
    time = "f.started_at";
    where.push(`f.flag = ${param(query.flag)}`);
  }
  for (const [column, value] of [
    ["a.agent", query.agent],
    ["a.model", query.model],
    ["a.status", query.status],
  ] as const) {
    if (value !== undefined) where.push(`${column} = ${param(value)}`);
  }
  if (query.auditStatus === "none") where.push("a.audit_status IS NULL");
  else if (query.auditStatus !== undefined) {
    where.push(`a.audit_status = ${param(query.auditStatus)}`);
  }
  if (query.since !== undefined) where.push(`${time} >= ${param(query.since)}`);
  if (query.until !== undefined) where.push(`${time} < ${param(query.until)}`);
  if (query.text) {
    const needle = query.text.toLowerCase();
    const columns = ["a.request", "a.response", "a.error", "a.reasoning"];
    where.push(`(${columns.map((c) => dialect.contains(c, param(needle))).join(" OR ")})`);
  }
  if (query.after) where.push(afterCursor(time, query.after, param));
  const sql = `SELECT ${trimmedColumns(trimChars)} FROM ${from}${where.length ? ` WHERE ${where.join(" AND ")}` : ""}
    ORDER BY ${time} DESC, a.id DESC LIMIT ${param(query.limit)}`;
  return { sql, params };
}

function afterCursor(time: string, after: ActionCursor, param: (value: unknown) => string) {
  // Each value bound where it is used: SQLite's ? placeholders are positional.
  const before = param(after.startedAt);
  const same = param(after.startedAt);
  return `(${time} < ${before} OR (${time} = ${same} AND a.id < ${param(after.id)}))`;
}
