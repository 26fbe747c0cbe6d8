import type { MonitorStore } from "../ledger/stores/monitor.js";
import { learnQuietHours, type QuietHoursProfile, type QuietHoursSettings } from "./quiet-hours.js";

/**
 * Learns the profile afresh and stores it as this machine's (the scheduler's daily relearn), so
 * checks that run every minute read it instead of the history.
 */
export async function relearnQuietHours(
  store: MonitorStore,
  settings: QuietHoursSettings,
  now: number,
): Promise<QuietHoursProfile> {
  const profile = await learnQuietHours(store, settings, now);
  await store.saveQuietHoursProfile(profile, now);
  return profile;
}

/** The stored profile of this machine; learned (and stored) on first use when there is none. */
export async function storedQuietHours(
  store: MonitorStore,
  settings: QuietHoursSettings,
  now: number,
): Promise<QuietHoursProfile> {
  const stored = await store.quietHoursProfile<QuietHoursProfile>();
  return isProfile(stored) ? stored : relearnQuietHours(store, settings, now);
}

/** A stored value that has what the readers use (one from an older version may not). */
function isProfile(value: unknown): value is QuietHoursProfile {
  const p = value as Partial<QuietHoursProfile> | null | undefined;
  return (
    typeof p === "object" &&
    p !== null &&
    Array.isArray(p.probabilities) &&
    Array.isArray(p.windows) &&
    typeof p.ready === "boolean"
  );
}
