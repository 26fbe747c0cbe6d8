import { buildReport, reportSummary, runToJson } from "../audit/report.js";
import { systemClock } from "../clock.js";
import { AuditReads } from "../ledger/audit-reads.js";
import { AuditStore } from "../ledger/audit-store.js";
import type { Db } from "../ledger/db.js";
import { auditItemToJson, correctionToJson, learningDayToJson } from "../views/audit.js";
import type { Deps, Request, Route } from "./handler.js";
import { intParam } from "./http.js";

/**
 * The night shift's runs and their reports, as `nightshift audit report --json` gives them, and
 * GET /v0/audit/learning-curve?days=N: the audit's found-wrong rate per day over the last N days.
 */
export const auditRoutes: Route[] = [
  { method: "GET", pattern: ["audit", "runs"], handler: auditRuns },
  { method: "GET", pattern: ["audit", "runs", ":id"], handler: auditReport },
  { method: "GET", pattern: ["audit", "learning-curve"], handler: learningCurve },
];

function auditRuns(r: Request, deps: Deps) {
  const store = new AuditStore(deps.ledger.db);
  return {
    runs: store.listRuns(intParam(r.query, "limit", 30, 200)).map((run) => ({
      ...runToJson(run),
      summary: reportSummary(deps.ledger, run.id),
    })),
  };
}

/** One run's report by id or unique prefix ("latest" for the newest). */
function auditReport(r: Request, deps: Deps) {
  const id = r.segments[0]!;
  return buildReport(deps.ledger, id === "latest" ? undefined : id);
}

function learningCurve(r: Request, deps: Deps) {
  const days = intParam(r.query, "days", 90, 3660);
  // From the start of the local day days-1 ago, so the first day is whole.
  const start = new Date((deps.clock ?? systemClock).now());
  start.setHours(0, 0, 0, 0);
  start.setDate(start.getDate() - (days - 1));
  const since = start.getTime();
  return { days: new AuditReads(deps.ledger.db).learningCurve(since).map(learningDayToJson) };
}

/** What GET /v0/actions/:id adds about the audit: each run's verdict and the corrections. */
export function actionAuditToJson(db: Db, actionId: string): Record<string, unknown> {
  return {
    audit: new AuditReads(db).actionItems(actionId).map(auditItemToJson),
    corrections: new AuditStore(db).actionCorrections(actionId).map(correctionToJson),
  };
}
