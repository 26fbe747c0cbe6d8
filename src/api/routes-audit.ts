import { buildReport, reportSummary, runToJson } from "../audit/report.js";
import { AuditStore } from "../ledger/audit-store.js";
import type { Deps, Request, Route } from "./handler.js";
import { intParam } from "./http.js";

/** The night shift's runs and their reports, as `nightshift audit report --json` gives them. */
export const auditRoutes: Route[] = [
  { method: "GET", pattern: ["audit", "runs"], handler: auditRuns },
  { method: "GET", pattern: ["audit", "runs", ":id"], handler: auditReport },
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
