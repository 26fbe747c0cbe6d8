import { decodeCursor } from "./stores/actions.js";
import type { ActionQuery } from "./stores/index.js";

/**
 * The one query behind listing actions, for both engines (they differ only in how a parameter
 * is written: ? or $n). Mirrors ActionStore.list: a flag filter drives the query from the flag
 * index, whose key starts (flag, started_at); a cursor continues after (started_at, id) in the
 * listing's own order, so pages neither skip nor repeat rows that share a millisecond.
 */
export function actionListQuery(
  query: ActionQuery,
  placeholder: (n: number) => string,
  limit: number,
): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown): string => {
    params.push(value);
    return placeholder(params.length);
  };
  let from = "actions a";
  if (query.flag !== undefined) {
    from = "action_flags f JOIN actions a ON a.id = f.action_id";
    where.push(`f.flag = ${param(query.flag)}`);
    if (query.since !== undefined) where.push(`f.started_at >= ${param(query.since)}`);
  } else if (query.since !== undefined) {
    where.push(`a.started_at >= ${param(query.since)}`);
  }
  if (query.until !== undefined) where.push(`a.started_at < ${param(query.until)}`);
  for (const [column, value] of [
    ["agent", query.agent],
    ["action_type", query.actionType],
    ["status", query.status],
    ["trace_id", query.traceId],
  ] as const) {
    if (value !== undefined) where.push(`a.${column} = ${param(value)}`);
  }
  const order = query.order === "asc" ? "ASC" : "DESC";
  if (query.after !== undefined) {
    const cursor = decodeCursor(query.after);
    const op = order === "ASC" ? ">" : "<";
    where.push(`(a.started_at, a.id) ${op} (${param(cursor.startedAt)}, ${param(cursor.id)})`);
  }
  const sql = `SELECT a.* FROM ${from}${where.length ? ` WHERE ${where.join(" AND ")}` : ""}
    ORDER BY a.started_at ${order}, a.id ${order} LIMIT ${param(limit)}`;
  return { sql, params };
}

/** The count behind `count`, for both engines. */
export function actionCountQuery(
  filter: { since?: number | undefined; agent?: string | undefined },
  placeholder: (n: number) => string,
): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.since !== undefined) {
    params.push(filter.since);
    where.push(`started_at >= ${placeholder(params.length)}`);
  }
  if (filter.agent !== undefined) {
    params.push(filter.agent);
    where.push(`agent = ${placeholder(params.length)}`);
  }
  const sql = `SELECT count(*) AS n FROM actions${where.length ? ` WHERE ${where.join(" AND ")}` : ""}`;
  return { sql, params };
}
