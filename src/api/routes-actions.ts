import { parseSince, systemClock } from "../clock.js";
import { NightshiftError, NotFoundError } from "../errors.js";
import type { ActionStatus, AuditStatus } from "../ledger/actions.js";
import type { DashboardQuery } from "../ledger/stores/index.js";
import {
  actionSummaryToJson,
  actionToJson,
  decodeCursor,
  encodeCursor,
  LISTED_BODY_CHARS,
  traceToTree,
} from "../views/actions.js";
import { intParam } from "./http.js";
import type { Deps, Request, Route } from "./route-types.js";

const STATUSES = ["ok", "error"];
const AUDIT_STATUSES = ["verified", "corrected", "in_review", "ruled", "passed", "none"];

/**
 * GET /v0/actions: the action log newest first, filtered, in pages. `view=summary` leaves the
 * bodies out and gives a preview of the request instead (the dashboard's table).
 * The reply's `next_cursor` fetches the next page (keyset paging: stable while new calls arrive).
 * GET /v0/actions/:id/trace: the action's whole trace as a tree.
 */
export const actionRoutes: Route[] = [
  { method: "GET", pattern: ["actions"], handler: listActions },
  { method: "GET", pattern: ["actions", ":id", "trace"], handler: actionTrace },
];

export function actionQueryFrom(
  params: URLSearchParams,
  now: number,
  limit: number,
): DashboardQuery {
  const one = (name: string, allowed?: string[]): string | undefined => {
    const value = params.get(name);
    if (value === null || value === "") return undefined;
    if (allowed && !allowed.includes(value)) {
      throw new NightshiftError(`${name}=${value}: use one of ${allowed.join(", ")}`);
    }
    return value;
  };
  const time = (name: string) => {
    const value = one(name);
    return value === undefined ? undefined : parseSince(value, now);
  };
  const cursor = one("cursor");
  return {
    agent: one("agent"),
    model: one("model"),
    flag: one("flag"),
    status: one("status", STATUSES) as ActionStatus | undefined,
    auditStatus: one("audit_status", AUDIT_STATUSES) as AuditStatus | "none" | undefined,
    since: time("since"),
    until: time("until"),
    text: one("q"),
    after: cursor ? decodeCursor(cursor) : undefined,
    limit,
  };
}

export async function listActions(r: Request, deps: Deps) {
  const now = (deps.clock ?? systemClock).now();
  const limit = intParam(r.query, "limit", 100, 1000);
  const query = actionQueryFrom(r.query, now, limit);
  const actions = await deps.stores.dashboard.page(query, LISTED_BODY_CHARS);
  const view = r.query.get("view") ?? "full";
  if (view !== "full" && view !== "summary") {
    throw new NightshiftError(`view=${view}: use full (with bodies) or summary (a preview)`);
  }
  const full = view === "full";
  const last = actions.at(-1);
  return {
    actions: actions.map(full ? actionToJson : actionSummaryToJson),
    next_cursor:
      last && actions.length === limit
        ? encodeCursor({ startedAt: last.startedAt, id: last.id })
        : null,
  };
}

export async function actionTrace(r: Request, deps: Deps) {
  const id = r.segments[0]!;
  const action = await deps.stores.actions.find(id);
  if (!action)
    throw new NotFoundError(`no action ${id} (an id or a unique prefix of 8+ characters)`);
  const actions = await deps.stores.actions.trace(action.traceId);
  return { trace_id: action.traceId, roots: traceToTree(actions) };
}
