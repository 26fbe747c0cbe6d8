import type { Config } from "../config.js";
import type { GpuLease, JobRun, SchedulerStore } from "../ledger/stores/index.js";
import {
  type Assessment,
  assessJob,
  type IdleGate,
  type JobSettings,
  type QuietWindow,
} from "./conditions.js";
import type { JobDefinition } from "./job.js";

/** What an assessment read from the ledger, for starting the job and for its status. */
export interface Facts {
  /** The run some holder is working on now, in this daemon or another. */
  live: JobRun | undefined;
  lease: GpuLease | undefined;
  /** The last success as seen now: a start is refused if another daemon finishes one first. */
  lastSuccessId: string | null;
}

export interface ConditionSources {
  store: SchedulerStore;
  config: Config;
  idleGate: IdleGate;
  quietWindow: QuietWindow;
}

/**
 * A job's conditions at `now`, from the (possibly shared) ledger and the machine: its runs and
 * lease, how long it has been due, its backlog, the idle gate and the quiet window, read at once.
 * `runningHere` says this daemon already runs (or is starting) it.
 */
export async function assessFromLedger(
  sources: ConditionSources,
  definition: JobDefinition,
  settings: JobSettings,
  now: number,
  runningHere: boolean,
): Promise<{ assessment: Assessment; facts: Facts }> {
  const { store, config } = sources;
  const staleBefore = now - config.scheduler.lease_ttl_s * 1000;
  const job = definition.name;
  const [resumable, live, lease, last, dueSince, backlog, idle, quiet] = await Promise.all([
    store.resumableRun(job, staleBefore),
    store.liveRun(job, staleBefore),
    settings.gpu === null ? undefined : store.lease(settings.gpu),
    store.lastSuccess(job),
    store.dueSince(job),
    definition.backlog ? definition.backlog(now) : null,
    settings.requiresIdle ? sources.idleGate(now) : null,
    settings.quietWindowOnly ? sources.quietWindow(now) : null,
  ]);
  const foreign = lease && lease.expiresAt > now ? lease : null;
  const elsewhere = !runningHere && live ? (live.holder ?? "another daemon") : null;
  const assessment = assessJob({
    settings,
    now,
    running: runningHere || elsewhere !== null,
    runningOn: elsewhere,
    lastSuccessAt: last?.finishedAt ?? null,
    resumable: resumable !== undefined,
    backlog: backlog ? backlog.count : null,
    idle,
    quiet,
    leaseHeldBy: foreign,
    dueSince,
  });
  return { assessment, facts: { live, lease, lastSuccessId: last?.id ?? null } };
}
