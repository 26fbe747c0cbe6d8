import type { Config } from "../config.js";
import {
  describeReason,
  evaluateIdleGate,
  type IdleGateResult,
  isInQuietWindow,
  type MonitorStore,
  nextQuietWindow,
  relearnQuietHours,
  storedQuietHours,
} from "../monitor/index.js";
import type { IdleGate, IdleVerdict, LoadExclusion, QuietWindow } from "./conditions.js";

/** A machine's profile older than this is learned again before it is used (the relearn job's interval). */
const PROFILE_MAX_AGE_MS = 24 * 3_600_000;

/**
 * The scheduler's idle gate over the monitor's: same thresholds and window, minus the load the
 * watched job causes itself. The leased GPUs' utilization is ignored and the job's own CPU share
 * is taken off the average, so a job never pauses because of its own work.
 */
export function monitorIdleGate(
  store: MonitorStore,
  config: Config,
  activity?: { lastActiveAt(): number | null },
): IdleGate {
  return async (now, exclude) => {
    const result = await evaluateIdleGate(store, config.idle, now, {
      intervalS: config.monitor.interval_s,
      ...(activity ? { activity } : {}),
    });
    return toVerdict(result, config, exclude);
  };
}

export function toVerdict(
  result: IdleGateResult,
  config: Config,
  exclude?: LoadExclusion,
): IdleVerdict {
  if (result.reasons === "not enough data") {
    const { samples, expectedSamples } = result.values;
    return {
      idle: false,
      notEnoughData: true,
      failed: [],
      detail: `${samples} of ${expectedSamples} expected samples in the last ${config.idle.lookback_min} min`,
    };
  }
  const ignored = new Set((exclude?.gpus ?? []).map((gpu) => `gpu${gpu}_util_pct`));
  const failed = result.reasons
    .filter((reason) => !ignored.has(reason.metric))
    .map((reason) => {
      if (reason.metric !== "cpu_pct" || !exclude) return reason;
      return { ...reason, value: Math.max(0, reason.value - exclude.cpuPct) };
    })
    .filter((reason) => reason.metric !== "cpu_pct" || reason.value >= reason.threshold)
    .map((reason) => ({ ...reason, message: describeReason(reason) }));
  return { idle: failed.length === 0, failed };
}

/**
 * Whether now is inside the learned quiet window, from the profile the quiet-hours relearn job
 * stored (learning afresh each minute would read months of samples). With no stored profile
 * yet, one is learned and stored on first use.
 */
export function storedQuietWindow(monitorStore: MonitorStore, config: Config): QuietWindow {
  return async (now) => {
    // This machine's own profile (per host on a shared ledger). The relearn job runs on one
    // machine a day; every other machine relearns its own here once its profile is a day old.
    let profile = await storedQuietHours(monitorStore, config, now);
    if (now - profile.generatedAt > PROFILE_MAX_AGE_MS) {
      profile = await relearnQuietHours(monitorStore, config, now);
    }
    if (!profile.ready) {
      return { inside: false, detail: `no quiet hours learned yet (${profile.needs})` };
    }
    const next = nextQuietWindow(profile, now);
    if (!next) return { inside: false, detail: "the machine was never quiet in the history" };
    return { inside: isInQuietWindow(profile, now), window: next.window.label };
  };
}
