import { NightshiftError } from "../errors.js";
import type { Scheduler } from "../scheduler/scheduler.js";
import { decisionToJson, statusToJson } from "../views/jobs.js";
import { readJsonBody } from "./http.js";
import type { Deps, Request, Route } from "./route-types.js";

/**
 * The daemon's background jobs: state, blockers and recent runs; start one now or pause one at
 * its next checkpoint (it resumes when the scheduler next finds its conditions met).
 */
export const jobRoutes: Route[] = [
  { method: "GET", pattern: ["jobs"], handler: listJobs },
  { method: "POST", pattern: ["jobs", ":name", "run"], handler: runJob },
  { method: "POST", pattern: ["jobs", ":name", "pause"], handler: pauseJob },
];

function schedulerOf(deps: Deps): Scheduler {
  const scheduler = deps.scheduler?.();
  if (!scheduler) {
    throw new NightshiftError(
      "the scheduler is not running in this daemon (scheduler.enabled is false); `nightshift jobs` reads the ledger",
      { status: 503, code: "unavailable" },
    );
  }
  return scheduler;
}

async function listJobs(_r: Request, deps: Deps) {
  const scheduler = schedulerOf(deps);
  const [statuses, decisions] = await Promise.all([scheduler.status(), scheduler.decisions(30)]);
  return { jobs: statuses.map(statusToJson), decisions: decisions.map(decisionToJson) };
}

/**
 * Starts the job and answers at once (a job runs for minutes or hours); what it did shows in its
 * runs. Refused with the blockers when its conditions do not hold, unless {"force": true}.
 */
async function runJob(r: Request, deps: Deps) {
  const name = r.segments[0]!;
  const body = await readJsonBody(r.req);
  const force = body.force === true;
  const scheduler = schedulerOf(deps);
  const [status] = await scheduler.status(name);
  if (!status)
    throw new NightshiftError(`no job named "${name}"`, { status: 404, code: "not_found" });
  if (status.running) {
    const where = status.running.holder === scheduler.holder ? "" : ` on ${status.running.holder}`;
    throw new NightshiftError(`${name} is already running${where} (run ${status.running.runId})`, {
      status: 409,
      code: "conflict",
    });
  }
  if (!force && !status.assessment.runnable) {
    const why = status.assessment.blockers.map((b) => b.message).join("; ");
    throw new NightshiftError(
      `${name} cannot run now: ${why} (send {"force": true} to run it anyway)`,
      {
        status: 409,
        code: "conflict",
      },
    );
  }
  const log = deps.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  scheduler.runNow(name, { force }).then(
    (result) => {
      if (result.status === "failed") log(`nightshift: ${name} failed: ${result.reason}`);
    },
    (error: unknown) => log(`nightshift: ${name} could not start: ${String(error)}`),
  );
  return { job: name, started: true, forced: force };
}

async function pauseJob(r: Request, deps: Deps) {
  const name = r.segments[0]!;
  const scheduler = schedulerOf(deps);
  const [status] = await scheduler.status(name);
  if (!status)
    throw new NightshiftError(`no job named "${name}"`, { status: 404, code: "not_found" });
  const run = status.running
    ? scheduler.running().find((active) => active.runId === status.running?.runId)
    : undefined;
  if (!run && status.running) {
    // Another daemon sharing the ledger runs it; only that daemon can stop its process.
    throw new NightshiftError(
      `${name} is running on ${status.running.holder}, not in this daemon; pause it there`,
      { status: 409, code: "conflict" },
    );
  }
  if (!run) {
    throw new NightshiftError(`${name} is not running`, { status: 409, code: "conflict" });
  }
  run.requestPause("paused from the dashboard");
  return { job: name, run_id: run.runId, pausing: true };
}
