import { buildReport, reportSummary, runToJson } from "../audit/report.js";
import { systemClock } from "../clock.js";
import { sqliteStoresOf } from "../ledger/sqlite/stores-of.js";
import type { AuditStore } from "../ledger/stores/index.js";
import { auditItemToJson, correctionToJson, learningDayToJson } from "../views/audit.js";
import type { Deps, Handler, Request, Route } from "./handler.js";
import { intParam } from "./http.js";

/**
 * The night shift's runs and their reports, as `nightshift audit report --json` gives them, and
 * GET /v0/audit/learning-curve?days=N: the audit's found-wrong rate per day over the last N days.
 * On either engine: they read the audit store the daemon passes (`deps.audit`).
 */
export const auditRoutes: Route[] = [
  { method: "GET", pattern: ["audit", "runs"], handler: auditRuns },
  { method: "GET", pattern: ["audit", "runs", ":id"], handler: auditReport },
  { method: "GET", pattern: ["audit", "learning-curve"], handler: learningCurve },
];

/** The audit routes' handlers: they read through the store seam, so work on either engine. */
export const auditHandlersOnTheSeam: Handler[] = auditRoutes.map((r) => r.handler);

/** The audit's store on the selected engine; the SQLite one over `ledger` when none is passed. */
export function auditStore(deps: Pick<Deps, "audit" | "ledger">): AuditStore {
  return deps.audit ?? sqliteStoresOf(deps.ledger).audit;
}

async function auditRuns(r: Request, deps: Deps) {
  const store = auditStore(deps);
  const runs = await store.listRuns(intParam(r.query, "limit", 30, 200));
  return {
    runs: await Promise.all(
      runs.map(async (run) => ({
        ...runToJson(run),
        summary: await reportSummary(store, run.id),
      })),
    ),
  };
}

/** One run's report by id or unique prefix ("latest" for the newest). */
function auditReport(r: Request, deps: Deps) {
  const id = r.segments[0]!;
  return buildReport(auditStore(deps), id === "latest" ? undefined : id);
}

async function learningCurve(r: Request, deps: Deps) {
  const days = intParam(r.query, "days", 90, 3660);
  // From the start of the local day days-1 ago, so the first day is whole.
  const start = new Date((deps.clock ?? systemClock).now());
  start.setHours(0, 0, 0, 0);
  start.setDate(start.getDate() - (days - 1));
  const since = start.getTime();
  return { days: (await auditStore(deps).learningCurve(since)).map(learningDayToJson) };
}

/** What GET /v0/actions/:id adds about the audit: each run's verdict and the corrections. */
export async function actionAuditToJson(
  store: AuditStore,
  actionId: string,
): Promise<Record<string, unknown>> {
  const [items, corrections] = await Promise.all([
    store.actionItems(actionId),
    store.actionCorrections(actionId),
  ]);
  return {
    audit: items.map(auditItemToJson),
    corrections: corrections.map(correctionToJson),
  };
}
