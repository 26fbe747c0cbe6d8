import { auditDependencies } from "../audit/job.js";
import { buildReport, reportSummary, runToJson } from "../audit/report.js";
import { runAudit } from "../audit/run.js";
import { systemClock } from "../clock.js";
import { NightshiftError } from "../errors.js";
import { sqliteStoresOf } from "../ledger/sqlite/stores-of.js";
import type { AuditRun, AuditStore, LedgerStores } from "../ledger/stores/index.js";
import { auditItemToJson, correctionToJson, learningDayToJson } from "../views/audit.js";
import { intParam, readJsonBody } from "./http.js";
import type { Deps, Request, Route } from "./route-types.js";

/**
 * The night shift's runs and their reports, as `nightshift audit report --json` gives them, and
 * GET /v0/audit/learning-curve?days=N: the audit's found-wrong rate per day over the last N days.
 * On either engine: they read the audit store the daemon passes (`deps.audit`).
 */
export const auditRoutes: Route[] = [
  { method: "GET", pattern: ["audit", "runs"], handler: auditRuns },
  { method: "POST", pattern: ["audit", "runs"], handler: startAudit },
  { method: "GET", pattern: ["audit", "runs", ":id"], handler: auditReport },
  { method: "GET", pattern: ["audit", "learning-curve"], handler: learningCurve },
];

/** The ledger's stores on the selected engine; the SQLite ones over `ledger` when none are passed. */
function ledgerStores(deps: Pick<Deps, "stores" | "ledger">): LedgerStores {
  return deps.stores ?? sqliteStoresOf(deps.ledger);
}

/** The audit's store on the selected engine. */
export function auditStore(deps: Pick<Deps, "stores" | "ledger">): AuditStore {
  return ledgerStores(deps).audit;
}

/**
 * POST /v0/audit/runs {"seed"?}: starts the audit now in this daemon (or resumes the unfinished
 * run), whatever the idle conditions, as `nightshift audit run --now` does. Answers once the run
 * is claimed, with the run; 409 naming the running run, its host and start when one runs on any
 * machine sharing the ledger. The run goes on in the background; its report is GET .../:id.
 */
async function startAudit(r: Request, deps: Deps) {
  const body = await readJsonBody(r.req);
  if (body.seed !== undefined && typeof body.seed !== "string") {
    throw new NightshiftError(`"seed" must be a string (got ${JSON.stringify(body.seed)})`);
  }
  const log = deps.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { deps: audit, close } = auditDependencies(
    {
      stores: ledgerStores(deps),
      config: deps.config,
      clock: deps.clock ?? systemClock,
    },
    deps.handlers ? { handlers: deps.handlers } : {},
  );
  let claimed!: (run: AuditRun) => void;
  const started = new Promise<AuditRun>((resolve) => {
    claimed = resolve;
  });
  const running = runAudit(
    { ...audit, log: (line) => log(`nightshift audit: ${line}`) },
    { seed: body.seed, onClaimed: claimed },
  ).finally(() => close());
  // Refused (another run holds the claim) or failed before claiming: the caller hears why.
  const run = await Promise.race([started, running.then((outcome) => outcome.run)]);
  running.catch((error: unknown) =>
    log(`nightshift audit: run ${run.id} stopped: ${String(error)}`),
  );
  return { run: runToJson(run), started: true };
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
