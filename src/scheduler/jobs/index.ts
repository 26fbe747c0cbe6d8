import { agentJobs } from "../../agents/registry.js";
import { auditJob } from "../../audit/job.js";
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
 * Every job the scheduler knows: the built-ins and the agents' jobs, then the user's command
 * jobs from the config. Every one runs on either ledger engine.
 */
export function createJobs(
  dependencies: JobDependencies,
  factories: readonly JobFactory[] = builtInJobs,
): JobDefinition[] {
  const jobs = [...factories, ...agentJobs()].map((factory) => factory(dependencies));
  const names = new Set(jobs.map((job) => job.name));
  for (const job of commandJobs(dependencies.config)) {
    if (!names.has(job.name)) jobs.push(job);
  }
  return jobs;
}
