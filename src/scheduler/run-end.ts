import { availableParallelism } from "node:os";
import type { SchedulerStore } from "../ledger/stores/index.js";
import type { JobMode } from "./job.js";

/** How a run of a job ended (or why it did not start). */
export interface RunResult {
  job: string;
  runId: string | null;
  status: "done" | "paused" | "failed" | "skipped";
  mode: JobMode;
  reason?: string;
  summary?: Record<string, unknown>;
  /** From the pause request to the GPU lease released and the job's models unloaded. */
  pauseToReleaseMs?: number;
}

/** What a run held, for the decisions recorded at its end. */
export interface EndedRun {
  job: string;
  runId: string;
  gpu: number | null;
  models: string[];
}

/** The release of the GPU (with the pause-to-release time) and the run's outcome, as decisions. */
export async function recordRunEnd(
  store: SchedulerStore,
  at: number,
  run: EndedRun,
  result: RunResult,
  releaseError: string | null,
): Promise<void> {
  const { job, runId } = run;
  if (run.gpu !== null) {
    const details = {
      gpu: run.gpu,
      unloaded: run.models,
      pause_to_release_ms: result.pauseToReleaseMs ?? null,
      error: releaseError,
    };
    const reason = `released GPU ${run.gpu}`;
    await store.recordDecision({ at, job, runId, decision: "release", reason, details });
  }
  if (result.status === "done") {
    const details = result.summary ?? null;
    await store.recordDecision({ at, job, runId, decision: "done", reason: "finished", details });
  } else if (result.status === "failed") {
    const reason = result.reason ?? "failed";
    await store.recordDecision({ at, job, runId, decision: "fail", reason, details: null });
  }
}

/**
 * This process's share of the machine's CPU since the last reading: the load a watched job
 * causes itself, taken off the idle gate's CPU average so a job never pauses for its own work.
 */
export class CpuShare {
  private mark = process.cpuUsage();
  // Real time, not the scheduler's clock: CPU time is measured against the wall.
  private markAt = performance.now();

  sinceLast(): number {
    const usage = process.cpuUsage(this.mark);
    const elapsedMs = performance.now() - this.markAt;
    this.mark = process.cpuUsage();
    this.markAt = performance.now();
    if (elapsedMs <= 0) return 0;
    const busyMs = (usage.user + usage.system) / 1000;
    return (100 * busyMs) / (elapsedMs * availableParallelism());
  }
}
