import type { ReplayResult } from "./replay.js";

/** The `--json` and API shape of a runtime stage's replay. */
export function runtimeReplayToJson(r: ReplayResult): Record<string, unknown> {
  return {
    original_id: r.originalId,
    replay_id: r.replayId,
    trace_id: r.traceId,
    before: {
      model: r.before.model,
      role: r.before.role,
      output: r.before.output,
      confidence: r.before.confidence,
    },
    after: {
      model: r.after.model,
      role: r.after.role,
      valid: r.after.valid,
      error: r.after.error,
      output: r.after.output,
      confidence: r.after.confidence,
      model_reported: r.after.modelReported,
    },
    differences: r.differences,
    checks_rerun: r.checksRerun,
    original_checks: r.before.derivation?.checks ?? [],
  };
}
