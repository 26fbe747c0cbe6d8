import type { Config } from "../config.js";
import type { MonitorStore } from "../ledger/stores/index.js";
import { rollUpAndPruneSamples } from "../monitor/index.js";
import type { JobFactory } from "../scheduler/job.js";
import type { PruneTotals } from "./plan.js";
import { DAY_MS } from "./plan.js";
import { type PruneOptions, type PruneReport, pruneLedger } from "./prune.js";

/** What the job saves after every committed transaction, so a resumed run keeps its figures. */
interface RetentionCheckpoint {
  pruneRunId: string;
  /** The run's reference time: a resumed run keeps the cutoffs it started with. */
  now: number;
  totals: PruneTotals;
}

function readCheckpoint(value: unknown): RetentionCheckpoint | null {
  if (!value || typeof value !== "object") return null;
  const checkpoint = value as Partial<RetentionCheckpoint>;
  if (typeof checkpoint.pruneRunId !== "string" || typeof checkpoint.now !== "number") return null;
  if (!checkpoint.totals || typeof checkpoint.totals !== "object") return null;
  return checkpoint as RetentionCheckpoint;
}

/** The monitor's raw resource samples older than their retention become hourly rollups. */
export function samplePruning(
  store: MonitorStore,
  config: Config,
  now: number,
): PruneOptions["samples"] {
  return {
    olderThan: now - config.monitor.raw_retention_days * DAY_MS,
    prune: async (olderThan) => {
      const result = await rollUpAndPruneSamples(store, olderThan, config.idle);
      return { hours_rolled_up: result.hoursRolledUp, samples_deleted: result.samplesDeleted };
    },
  };
}

/**
 * Retention under the scheduler: weekly (or biweekly) when the machine is idle. The prune itself
 * works in short transactions and resumes from the ledger's state, so a pause is only a matter of
 * stopping between two transactions; the checkpoint carries the figures and the reference time.
 */
export const retentionJob: JobFactory = ({ stores, config, clock }) => ({
  name: "retention",
  description:
    "moves audited actions to compressed and aggregated tiers, rolls up samples, vacuums",
  defaults: {
    requiresIdle: true,
    quietWindowOnly: false,
    minIntervalH: config.retention.every_days * 24,
    minBacklog: 0,
  },
  run: async (context) => {
    const checkpoint = readCheckpoint(context.checkpoint);
    const now = checkpoint?.now ?? clock.now();
    let lastLog = "";
    const retention = stores.retention;
    const report: PruneReport = await pruneLedger(retention, {
      retention: config.retention,
      now,
      clock,
      trigger: "job",
      runId: checkpoint?.pruneRunId,
      previous: checkpoint?.totals,
      samples: samplePruning(stores.monitor, config, now),
      onWarning: (message) => context.log(`warning: ${message}`),
      onCheckpoint: (pruneRunId, totals) => context.saveCheckpoint({ pruneRunId, now, totals }),
      shouldStop: () => context.shouldPause() || context.signal.aborted,
      onProgress: (progress) => {
        // A line every 5 % is enough to see a long run move without flooding the run's log.
        const step = `${progress.phase}:${Math.floor(progress.fraction * 20)}`;
        if (step === lastLog) return;
        lastLog = step;
        context.log(
          `${progress.phase}: ${Math.round(progress.fraction * 100)}% (${progress.moved} rows)`,
        );
      },
    });
    if (report.status === "paused") return { status: "paused" };
    return {
      status: "done",
      summary: {
        run_id: report.run_id,
        compressed: report.compressed,
        aggregated: report.aggregated,
        kept: report.kept,
        hard_capped: report.hard_capped,
        size_before: report.size.before,
        size_after: report.size.after,
        vacuum: report.vacuum?.mode ?? null,
      },
    };
  },
});
