import type { Assessment, JobSettings } from "./conditions.js";
import type { RunnerDeps } from "./run-job.js";

/**
 * What the scheduler writes to its decision log besides starts and ends (those are written with
 * the run, run-job.ts): skips when their reasons change, how long a job has been due, degraded
 * starts, and runs a dead holder left behind. The log may be shared by several daemons.
 */
export class DecisionJournal {
  /** Per job, the blockers of the last skip recorded, so an unchanged skip is not written again. */
  private readonly lastSkipKey = new Map<string, string>();

  constructor(private readonly deps: Pick<RunnerDeps, "store" | "clock" | "config" | "warn">) {}

  /** A run started: the next skip is news again. */
  forgetSkips(job: string): void {
    this.lastSkipKey.delete(job);
  }

  async announceDegraded(job: string, settings: JobSettings): Promise<void> {
    const { store, clock } = this.deps;
    const since = await store.dueSince(job);
    const hours = since === null ? 0 : (clock.now() - since) / 3_600_000;
    const reason = `${job} has been due for ${hours.toFixed(0)} h (limit ${settings.degradedAfterH} h) and the machine was never idle; running it in degraded mode (${settings.degradedModels.join(", ") || "no model"}, ${settings.degradedUsesGpu ? "on its GPU" : "CPU only"}, niced)`;
    await store.recordDecision({
      at: clock.now(),
      job,
      runId: null,
      decision: "degraded",
      reason,
      details: { due_hours: Math.round(hours) },
    });
    this.deps.warn(`nightshift: WARNING: ${reason}`);
  }

  async trackDue(assessment: Assessment): Promise<void> {
    const { store, clock } = this.deps;
    if (assessment.due && assessment.dueSince === null) {
      await store.setDueSince(assessment.job, clock.now(), clock.now());
    } else if (!assessment.due && assessment.dueSince !== null) {
      await store.setDueSince(assessment.job, null, clock.now());
    }
  }

  /** Records a skip when the set of blocking conditions changes, not every minute. */
  async recordSkip(assessment: Assessment): Promise<void> {
    const key = assessment.blockers.map((b) => `${b.condition}:${b.metric ?? ""}`).join(",");
    if (this.lastSkipKey.get(assessment.job) === key) return;
    this.lastSkipKey.set(assessment.job, key);
    if (assessment.blockers.some((b) => b.condition === "running")) return;
    const reason = assessment.blockers.map((b) => b.message).join("; ");
    await this.deps.store.recordDecision({
      at: this.deps.clock.now(),
      job: assessment.job,
      runId: null,
      decision: "skip",
      reason,
      details: { blockers: assessment.blockers },
    });
  }

  /** Runs this holder left "running" when it died are marked interrupted, to resume later. */
  async recoverStaleRuns(jobs: readonly string[]): Promise<void> {
    const { store, clock, config } = this.deps;
    const staleBefore = clock.now() - config.scheduler.lease_ttl_s * 1000;
    for (const job of jobs) {
      const stale = await store.resumableRun(job, staleBefore);
      if (stale?.status === "running") {
        // Every daemon sharing the ledger sees the same stale run; the store lets one mark it.
        await store.interruptStaleRun(
          stale.id,
          staleBefore,
          clock.now(),
          `holder ${stale.holder} stopped heartbeating; will resume from its checkpoint`,
        );
      }
    }
  }
}
