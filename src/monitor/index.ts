/**
 * The monitor's public surface, for the daemon and the scheduler.
 *
 * - `startMonitor(deps)` samples the host inside `nightshift serve` and returns `{ stop() }`.
 * - `await evaluateIdleGate(store, config.idle, now, { intervalS, activity })` answers whether
 *   the machine is idle now, naming every failed threshold with its value, or "not enough data".
 * - `await learnQuietHours(store, config, now)` learns the 7×24 hour-of-week profile of P(idle)
 *   with its quiet windows and a confidence; `isInQuietWindow(profile, now)` and
 *   `nextQuietWindow(profile, now)` read it. A profile that is not `ready` has no windows.
 *   `relearnQuietHours` learns and stores it as this machine's; `storedQuietHours` reads the
 *   stored one (learning it on first use), for checks that run every minute.
 * - `await rollUpAndPruneSamples(store, olderThan, config.idle)` is retention: raw samples of
 *   complete hours older than `olderThan` become hourly rollups, one hour per transaction.
 *
 * The store is the ledger's `monitor` (LedgerStores, src/ledger/stores/monitor.ts): this
 * machine's history on either engine; `store.forHost(name)` reads another machine's.
 */
export type { MonitorSample, MonitorStore } from "../ledger/stores/monitor.js";
export type { ActivityEvent } from "./activity.js";
export { UserActivity } from "./activity.js";
export {
  describeIdleGate,
  describeReason,
  evaluateIdleGate,
  type IdleGateOptions,
  type IdleGateResult,
  type IdleReason,
  type IdleValues,
} from "./idle-gate.js";
export { type MonitorDeps, type RunningMonitor, startMonitor } from "./monitor.js";
export {
  DAY_NAMES,
  isInQuietWindow,
  learnQuietHours,
  nextQuietWindow,
  type QuietHoursProfile,
  type QuietHoursSettings,
  type QuietWindow,
} from "./quiet-hours.js";
export {
  DEFAULT_IDLE,
  type IdleConfig,
  type PruneResult,
  rollUpAndPruneSamples,
  rollUpCompletedHours,
} from "./rollup.js";
export { Sampler } from "./sampler.js";
export { relearnQuietHours, storedQuietHours } from "./stored-quiet-hours.js";
