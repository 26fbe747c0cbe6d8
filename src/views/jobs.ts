import type { DecisionRecord, JobRun } from "../ledger/stores/index.js";
import type { RunResult } from "../scheduler/run-job.js";
import type { JobStatus } from "../scheduler/scheduler.js";

/** A job's state as JSON: `jobs --json` and GET /v0/jobs. */
export function statusToJson(status: JobStatus) {
  const a = status.assessment;
  const s = status.settings;
  return {
    name: status.name,
    description: status.description,
    could_run_now: a.runnable,
    mode: a.mode,
    blockers: a.blockers.map((b) => ({
      condition: b.condition,
      metric: b.metric ?? null,
      message: b.message,
      value: b.value ?? null,
      threshold: b.threshold ?? null,
    })),
    due: a.due,
    due_since: a.dueSince,
    backlog: a.backlog,
    settings: {
      enabled: s.enabled,
      requires_idle: s.requiresIdle,
      quiet_window_only: s.quietWindowOnly,
      min_interval_h: s.minIntervalH,
      min_backlog: s.minBacklog,
      gpu: s.gpu,
      vram_mb: s.vramMb,
      models: s.models,
      degraded_after_h: s.degradedAfterH,
      degraded_models: s.degradedModels,
    },
    running: status.running
      ? {
          run_id: status.running.runId,
          started_at: status.running.startedAt,
          gpu: status.running.gpu,
          holder: status.running.holder,
        }
      : null,
    lease: status.lease
      ? {
          gpu: status.lease.gpu,
          holder: status.lease.holder,
          job: status.lease.job,
          expires_at: status.lease.expiresAt,
          heartbeat_at: status.lease.heartbeatAt,
        }
      : null,
    last_runs: status.lastRuns.map(runToJson),
  };
}

function runToJson(run: JobRun) {
  return {
    id: run.id,
    status: run.status,
    mode: run.mode,
    forced: run.forced,
    attempts: run.attempts,
    started_at: run.startedAt,
    finished_at: run.finishedAt,
    checkpoint: run.checkpoint,
    summary: run.summary,
    error: run.error,
    last_log: run.lastLog,
  };
}

export function decisionToJson(d: DecisionRecord) {
  return {
    at: d.at,
    job: d.job,
    run_id: d.runId,
    decision: d.decision,
    reason: d.reason,
    details: d.details,
  };
}

export function resultToJson(r: RunResult) {
  return {
    job: r.job,
    run_id: r.runId,
    status: r.status,
    mode: r.mode,
    reason: r.reason ?? null,
    summary: r.summary ?? null,
    pause_to_release_ms: r.pauseToReleaseMs ?? null,
  };
}
