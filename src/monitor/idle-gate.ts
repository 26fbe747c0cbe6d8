import type { MonitorStore } from "../ledger/stores/monitor.js";
import type { IdleConfig } from "./rollup.js";

/** One threshold the window failed: e.g. { metric: "gpu1_util_pct", value: 42.5, threshold: 15 }. */
export interface IdleReason {
  metric: string;
  value: number;
  threshold: number;
}

export interface IdleValues {
  /** The window looked at: [from, to) in ms since the epoch. */
  from: number;
  to: number;
  samples: number;
  expectedSamples: number;
  cpuPct: number | null;
  ramPct: number | null;
  /** Average utilization of each GPU seen in the window. */
  gpus: { index: number; utilPct: number | null }[];
  /** Minutes since the last user activity; null when none was ever recorded. */
  minutesSinceUserActivity: number | null;
}

export interface IdleGateResult {
  idle: boolean;
  /** The failed thresholds (empty when idle), or "not enough data": too few samples to judge. */
  reasons: IdleReason[] | "not enough data";
  values: IdleValues;
}

export interface IdleGateOptions {
  /** The sampling interval, to know how many samples the window should hold (default 60). */
  intervalS?: number;
  /**
   * Live user activity (the gateway's UserActivity), newer than the last stored sample. Without
   * it, only the activity recorded in samples counts.
   */
  activity?: { lastActiveAt(): number | null };
}

/**
 * The idle gate: over the last idle.lookback_min minutes, the averages of CPU %, RAM % and each
 * GPU's utilization, and the minutes since user activity, against the thresholds. Every failed
 * threshold is named with its value. With fewer samples than idle.min_coverage of those expected
 * the answer is not idle, reason "not enough data" — never a guess.
 */
export async function evaluateIdleGate(
  store: MonitorStore,
  idle: IdleConfig,
  now: number,
  options: IdleGateOptions = {},
): Promise<IdleGateResult> {
  const intervalS = options.intervalS ?? 60;
  const from = now - idle.lookback_min * 60_000;
  const [samples, stored] = await Promise.all([
    store.between(from, now + 1),
    store.lastActivityBefore(now + 1),
  ]);
  const expected = Math.max(1, Math.floor((idle.lookback_min * 60) / intervalS));
  const lastActive = latest(stored, options.activity?.lastActiveAt());
  const values: IdleValues = {
    from,
    to: now,
    samples: samples.length,
    expectedSamples: expected,
    cpuPct: mean(samples.map((s) => s.cpuPct)),
    ramPct: mean(samples.map((s) => s.ramPct)),
    gpus: gpuAverages(samples.flatMap((s) => s.gpus)),
    minutesSinceUserActivity: lastActive === null ? null : Math.max(0, (now - lastActive) / 60_000),
  };
  if (samples.length < Math.max(1, Math.ceil(idle.min_coverage * expected))) {
    return { idle: false, reasons: "not enough data", values };
  }
  const reasons: IdleReason[] = [];
  const above = (metric: string, value: number | null, threshold: number) => {
    if (value !== null && value >= threshold) reasons.push({ metric, value, threshold });
  };
  above("cpu_pct", values.cpuPct, idle.cpu_pct);
  for (const gpu of values.gpus) above(`gpu${gpu.index}_util_pct`, gpu.utilPct, idle.gpu_pct);
  above("ram_pct", values.ramPct, idle.ram_pct);
  const minutes = values.minutesSinceUserActivity;
  if (minutes !== null && minutes < idle.user_idle_min) {
    reasons.push({
      metric: "minutes_since_user_activity",
      value: minutes,
      threshold: idle.user_idle_min,
    });
  }
  if (values.cpuPct === null || values.ramPct === null) {
    return { idle: false, reasons: "not enough data", values };
  }
  return { idle: reasons.length === 0, reasons, values };
}

/** One line for a person: "idle" or "not idle: cpu_pct 35.2 ≥ 20, ...". */
export function describeIdleGate(result: IdleGateResult): string {
  if (result.reasons === "not enough data") {
    const { samples, expectedSamples } = result.values;
    return `not idle: not enough data (${samples} of ${expectedSamples} expected samples in the window)`;
  }
  if (result.idle) return "idle";
  return `not idle: ${result.reasons.map(describeReason).join(", ")}`;
}

export function describeReason(reason: IdleReason): string {
  if (reason.metric === "minutes_since_user_activity") {
    return `user active ${reason.value.toFixed(1)} min ago (< ${reason.threshold} min)`;
  }
  return `${reason.metric} ${reason.value.toFixed(1)} ≥ ${reason.threshold}`;
}

function gpuAverages(
  readings: readonly { index: number; utilPct: number | null }[],
): IdleValues["gpus"] {
  const byIndex = new Map<number, (number | null)[]>();
  for (const r of readings) byIndex.set(r.index, [...(byIndex.get(r.index) ?? []), r.utilPct]);
  return [...byIndex.entries()]
    .sort(([a], [b]) => a - b)
    .map(([index, values]) => ({ index, utilPct: mean(values) }));
}

function mean(values: readonly (number | null)[]): number | null {
  const present = values.filter((v): v is number => v !== null);
  return present.length === 0 ? null : present.reduce((a, b) => a + b, 0) / present.length;
}

function latest(a: number | null, b: number | null | undefined): number | null {
  if (a === null) return b ?? null;
  return b === null || b === undefined ? a : Math.max(a, b);
}
