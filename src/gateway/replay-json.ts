import type { CallReplayResult } from "./replay-call.js";

/** The `--json` and API shape of a gateway call's replay. */
export function replayToJson(r: CallReplayResult): Record<string, unknown> {
  const side = (s: CallReplayResult["before"]) => ({
    model: s.model,
    text: s.text,
    tokens_in: s.tokensIn,
    tokens_out: s.tokensOut,
    latency_ms: s.latencyMs,
  });
  return {
    kind: "gateway_call",
    original_id: r.originalId,
    replay_id: r.replayId,
    trace_id: r.traceId,
    upstream: r.upstream,
    before: side(r.before),
    after: { ...side(r.after), error: r.after.error },
    identical: r.identical,
    diff: r.diff,
  };
}

/** For a person: both models, then the replies' line diff. */
export function formatCallReplay(r: CallReplayResult): string {
  const tokens = (s: CallReplayResult["before"]) =>
    `${s.tokensIn ?? "-"} in, ${s.tokensOut ?? "-"} out, ${s.latencyMs === null ? "-" : `${s.latencyMs.toFixed(0)} ms`}`;
  const lines = [
    `replayed ${r.originalId} as ${r.replayId} (trace ${r.traceId}) on ${r.upstream}`,
    `  before: ${r.before.model ?? "?"}  (${tokens(r.before)})`,
    `  after:  ${r.after.model ?? "?"}  (${tokens(r.after)})`,
  ];
  if (r.after.error) lines.push(`  FAILED: ${r.after.error}`);
  else if (r.identical) lines.push("  reply: identical");
  else lines.push("  reply (- before, + after):", ...r.diff.map((l) => `    ${l}`));
  return lines.join("\n");
}
