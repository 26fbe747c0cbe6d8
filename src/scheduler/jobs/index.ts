import { agentJobs } from "../../agents/registry.js";
import { auditJob } from "../../audit/job.js";
import { NightshiftError } from "../../errors.js";
import { retentionJob } from "../../retention/job.js";
import type { JobDefinition, JobDependencies, JobFactory } from "../job.js";
import { commandJobs } from "./command.js";
import { quietHoursRelearnJob } from "./quiet-hours-relearn.js";

/**
 * The built-in jobs. To add one, write a `JobFactory` beside its component (src/audit/job.ts,
 * src/retention/job.ts) and add it here: one import, one entry. The scheduler runs them by name;
 * nightshift.yaml `scheduler.jobs.NAME` overrides their default conditions.
 */
export const builtInJobs: readonly JobFactory[] = [quietHoursRelearnJob, auditJob, retentionJob];

/**
 * Every job the scheduler knows: the built-ins, then the user's command jobs from the config.
 * A job that still needs the SQLite ledger is left out on PostgreSQL, said through `skipped`,
 * rather than run against a local file the other daemons do not see.
 */
export function createJobs(
  dependencies: JobDependencies,
  factories: readonly JobFactory[] = builtInJobs,
  skipped: (reason: string) => void = () => {},
): JobDefinition[] {
  const jobs: JobDefinition[] = [];
  for (const factory of [...factories, ...agentJobs()]) {
    try {
      jobs.push(factory(dependencies));
    } catch (error) {
      if (!(error instanceof NightshiftError) || error.code !== "needs_sqlite_ledger") throw error;
      skipped(`${factory.name || "a built-in job"} is not scheduled: ${error.message}`);
    }
  }
  const names = new Set(jobs.map((job) => job.name));
  for (const job of commandJobs(dependencies.config)) {
    if (!names.has(job.name)) jobs.push(job);
  }
  return jobs;
}
