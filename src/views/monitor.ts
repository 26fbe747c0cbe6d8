import type { IdleGateResult } from "../monitor/idle-gate.js";
import { DAY_NAMES, type QuietHoursProfile } from "../monitor/quiet-hours.js";

/** The idle gate's verdict as JSON: `monitor idle --json` and GET /v0/monitor/idle. */
export function idleToJson(result: IdleGateResult) {
  const v = result.values;
  return {
    idle: result.idle,
    reasons: result.reasons,
    values: {
      from: new Date(v.from).toISOString(),
      to: new Date(v.to).toISOString(),
      samples: v.samples,
      expected_samples: v.expectedSamples,
      cpu_pct: v.cpuPct,
      ram_pct: v.ramPct,
      gpus: v.gpus.map((g) => ({ index: g.index, util_pct: g.utilPct })),
      minutes_since_user_activity: v.minutesSinceUserActivity,
    },
  };
}

/** The learned quiet hours as JSON: `quiet-hours --json` and GET /v0/monitor/quiet-hours. */
export function profileToJson(profile: QuietHoursProfile) {
  return {
    ready: profile.ready,
    needs: profile.needs,
    confidence: profile.confidence,
    days_of_data: profile.daysOfData,
    weeks_of_data: profile.weeksOfData,
    threshold: profile.threshold,
    days: DAY_NAMES,
    probabilities: profile.probabilities,
    windows: profile.windows.map((w) => ({
      start_day: DAY_NAMES[w.startDay],
      start_hour: w.startHour,
      hours: w.hours,
      mean_probability: w.meanProbability,
      label: w.label,
    })),
    excluded_days: profile.excludedDays,
    generated_at: new Date(profile.generatedAt).toISOString(),
  };
}
