import { parseSince, systemClock } from "../clock.js";
import { NightshiftError, NotFoundError } from "../errors.js";
import type { ActionStatus, AuditStatus } from "../ledger/actions.js";
import { type ActionQuery, DashboardStore } from "../ledger/dashboard-store.js";
import type { ActionReads } from "../ledger/stores/index.js";
import {
  actionSummaryToJson,
  actionToJson,
  decodeCursor,
  encodeCursor,
  LISTED_BODY_CHARS,
  traceToTree,
} from "../views/actions.js";
import type { Deps, Request, Route } from "./handler.js";
import { intParam } from "./http.js";

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

export function actionQueryFrom(params: URLSearchParams, now: number, limit: number): ActionQuery {
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
  if (deps.actionReads) return listSharedActions(r, deps.actionReads, now, limit);
  const query = actionQueryFrom(r.query, now, limit);
  const actions = new DashboardStore(deps.ledger.db).page(query, LISTED_BODY_CHARS);
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

function actionTrace(r: Request, deps: Deps) {
  const id = r.segments[0]!;
  const action = deps.ledger.actions.find(id);
  if (!action)
    throw new NotFoundError(`no action ${id} (an id or a unique prefix of 8+ characters)`);
  const actions = deps.ledger.actions.trace(action.traceId);
  return { trace_id: action.traceId, roots: traceToTree(actions) };
}

/**
 * GET /v0/actions on the shared PostgreSQL ledger: the seam's filters (agent, flag, since) and
 * its own cursor; the dashboard's other filters need the SQLite ledger so far.
 */
async function listSharedActions(r: Request, reads: ActionReads, now: number, limit: number) {
  const unsupported = ["model", "status", "audit_status", "q", "until", "view"].filter((name) =>
    r.query.has(name),
  );
  if (unsupported.length > 0) {
    throw new NightshiftError(
      `${unsupported.join(", ")}: these filters of /v0/actions work only on the SQLite ledger so far`,
      { status: 501, code: "needs_sqlite" },
    );
  }
  const since = r.query.get("since");
  const page = await reads.page({
    agent: r.query.get("agent") ?? undefined,
    flag: r.query.get("flag") ?? undefined,
    since: since ? parseSince(since, now) : undefined,
    after: r.query.get("cursor") ?? undefined,
    limit,
  });
  return { actions: page.actions.map(actionToJson), next_cursor: page.next };
}
