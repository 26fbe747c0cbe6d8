import type { Config } from "../config.js";
import { HOUR_MS, type MonitorStore } from "../ledger/stores/monitor.js";
import {
  buildWindows,
  DAY_NAMES,
  findWindowAt,
  hourOfWeek,
  type QuietWindow,
} from "./quiet-windows.js";
import { hourStart, rollupHourFromRaw } from "./rollup.js";

export { DAY_NAMES, type QuietWindow } from "./quiet-windows.js";

const WEEK_MS = 7 * 24 * HOUR_MS;
/** An hour differing from the day's reference by this much counts as a changed hour. */
const CHANGED_HOUR = 0.5;
/** A day with this many changed hours looks nothing like its usual pattern. */
const OUTLIER_HOURS = 3;

export type QuietHoursSettings = Pick<Config, "idle" | "quiet_hours">;

/** One hour of history: how much of it the machine was idle (0..1), at local time. */
export interface IdleCell {
  hour: number;
  idleFraction: number;
}

export interface QuietHoursProfile {
  /** P(idle) by [day][hour], local time; day 0 is Monday. null where no history exists. */
  probabilities: (number | null)[][];
  /** Runs of hours at or above the threshold, chronological from Monday 00:00. */
  windows: QuietWindow[];
  /** 0..1, growing with the weeks of history and the share of the week it covers. */
  confidence: number;
  /** At least a week of history on every weekday; until then there are no windows. */
  ready: boolean;
  /** What is still missing before `ready`, in words; null once ready. */
  needs: string | null;
  daysOfData: number;
  weeksOfData: number;
  /** Local dates (YYYY-MM-DD) left out as unlike their usual pattern (holidays, all-nighters). */
  excludedDays: string[];
  threshold: number;
  generatedAt: number;
}

interface Day {
  key: string;
  dow: number;
  start: number;
  hours: (number | null)[];
  weight: number;
}

/**
 * Learns the hour-of-week profile of P(idle) from the stored history (hourly rollups, plus raw
 * samples of hours not rolled up yet). Each local day is compared with the recency-weighted
 * median pattern of its peers (the same weekday once there are 4 of them, else weekdays or
 * weekends as a group); a day with several hours far from that reference — a holiday, an
 * all-nighter — is left out, at most just under half of its group. The rest are averaged per hour of week with
 * weights halving every quiet_hours.half_life_weeks.
 */
export async function learnQuietHours(
  store: MonitorStore,
  settings: QuietHoursSettings,
  now: number,
): Promise<QuietHoursProfile> {
  return learnFromCells(await readIdleCells(store, settings, now), settings, now);
}

/** The idle fraction of each complete hour of history, from rollups or (if none) raw samples. */
export async function readIdleCells(
  store: MonitorStore,
  settings: QuietHoursSettings,
  now: number,
): Promise<IdleCell[]> {
  const end = hourStart(now);
  const [cells, newest] = await Promise.all([
    store.idleFractions(0, end),
    store.latestRollupHour("idle"),
  ]);
  // Complete hours are rolled up as they end, so only those after the newest rollup can lack one.
  for (const hour of await store.hoursWithoutRollup("idle", end, newest ?? 0)) {
    const rows = await rollupHourFromRaw(store, hour, settings.idle);
    const row = rows.find((r) => r.metric === "idle");
    if (row?.avg !== null && row?.avg !== undefined) cells.push({ hour, idleFraction: row.avg });
  }
  return cells;
}

/** The learner over plain cells: pure, so generated histories can be tested directly. */
export function learnFromCells(
  cells: readonly IdleCell[],
  settings: QuietHoursSettings,
  now: number,
): QuietHoursProfile {
  const { probability_threshold: threshold, half_life_weeks: halfLife } = settings.quiet_hours;
  const days = groupDays(cells, now, halfLife);
  const excluded = findOutlierDays(days);
  const kept = days.filter((d) => !excluded.has(d.key));
  const probabilities = weightedProfile(kept);
  const daysOfData = cells.length / 24;
  const weeksOfData = daysOfData / 7;
  const missing = DAY_NAMES.filter((_, dow) => !days.some((d) => d.dow === dow));
  const needs =
    daysOfData < 7
      ? `needs ${formatDays(7 - daysOfData)} more of history (has ${formatDays(daysOfData)}; a week at least)`
      : missing.length > 0
        ? `needs history on ${missing.join(", ")}`
        : null;
  const ready = needs === null;
  const covered = probabilities.flat().filter((p) => p !== null).length / 168;
  return {
    probabilities,
    windows: ready ? buildWindows(probabilities, threshold, settings.quiet_hours.min_window_h) : [],
    confidence: round((1 - Math.exp(-weeksOfData / 3)) * covered, 3),
    ready,
    needs,
    daysOfData: round(daysOfData, 2),
    weeksOfData: round(weeksOfData, 2),
    excludedDays: [...excluded].sort(),
    threshold,
    generatedAt: now,
  };
}

/** Whether `now` (local time) falls inside one of the profile's quiet windows. */
export function isInQuietWindow(profile: QuietHoursProfile, now: number): boolean {
  return findWindowAt(profile.windows, hourOfWeek(now)) !== null;
}

/**
 * The quiet window holding `now`, or else the next one to start: its start and end in ms.
 * Null when the profile has no windows (not ready, or a machine that is never quiet).
 */
export function nextQuietWindow(
  profile: QuietHoursProfile,
  now: number,
): { start: number; end: number; window: QuietWindow } | null {
  if (profile.windows.length === 0) return null;
  const base = hourStart(now);
  for (let ahead = 0; ahead <= 168; ahead++) {
    const at = base + ahead * HOUR_MS;
    const window = findWindowAt(profile.windows, hourOfWeek(at));
    if (!window) continue;
    const offset = (hourOfWeek(at) - (window.startDay * 24 + window.startHour) + 168) % 168;
    const start = at - offset * HOUR_MS;
    return { start, end: start + window.hours * HOUR_MS, window };
  }
  return null;
}

function groupDays(cells: readonly IdleCell[], now: number, halfLife: number): Day[] {
  const days = new Map<string, Day & { sums: number[]; counts: number[] }>();
  for (const cell of cells) {
    // The middle of the hour decides its local hour, so DST and half-hour zones land somewhere.
    const local = new Date(cell.hour + HOUR_MS / 2);
    const key = localDateKey(local);
    let day = days.get(key);
    if (!day) {
      const start = new Date(local.getFullYear(), local.getMonth(), local.getDate()).getTime();
      const ageWeeks = Math.max(0, (now - start) / WEEK_MS);
      day = {
        key,
        dow: (local.getDay() + 6) % 7,
        start,
        hours: [],
        weight: 0.5 ** (ageWeeks / halfLife),
        sums: new Array(24).fill(0),
        counts: new Array(24).fill(0),
      };
      days.set(key, day);
    }
    const h = local.getHours();
    day.sums[h]! += cell.idleFraction;
    day.counts[h]! += 1;
  }
  return [...days.values()].map(({ sums, counts, ...day }) => ({
    ...day,
    hours: sums.map((s, h) => (counts[h]! > 0 ? s / counts[h]! : null)),
  }));
}

function findOutlierDays(days: readonly Day[]): Set<string> {
  const excluded = new Set<string>();
  for (const weekend of [false, true]) {
    const group = days.filter((d) => d.dow >= 5 === weekend);
    const groupReference = medianPattern(group);
    const dowReferences = new Map<number, (number | null)[]>();
    const referenceFor = (day: Day) => {
      const sameDow = group.filter((d) => d.dow === day.dow);
      // Four of the same weekday make a reference of their own; fewer lean on the whole group.
      if (sameDow.length < 4) return groupReference;
      const cached = dowReferences.get(day.dow);
      if (cached) return cached;
      const reference = medianPattern(sameDow);
      dowReferences.set(day.dow, reference);
      return reference;
    };
    const scored = group
      .map((day) => ({ day, changed: changedHours(day, referenceFor(day)) }))
      .filter((s) => s.changed >= OUTLIER_HOURS)
      .sort((a, b) => b.changed - a.changed);
    // A pattern that half the days share is the pattern, not an outlier.
    const cap = Math.floor((group.length - 1) / 2);
    for (const { day } of scored.slice(0, cap)) excluded.add(day.key);
  }
  return excluded;
}

/** The recency-weighted median of each hour across `days`: their typical pattern. */
function medianPattern(days: readonly Day[]): (number | null)[] {
  return Array.from({ length: 24 }, (_, h) =>
    weightedMedian(
      days.flatMap((d) => (d.hours[h] === null ? [] : [[d.hours[h]!, d.weight] as const])),
    ),
  );
}

function changedHours(day: Day, reference: readonly (number | null)[]): number {
  let changed = 0;
  for (let h = 0; h < 24; h++) {
    const value = day.hours[h];
    const ref = reference[h];
    if (value !== null && value !== undefined && ref !== null && ref !== undefined) {
      if (Math.abs(value - ref) >= CHANGED_HOUR) changed++;
    }
  }
  return changed;
}

function weightedProfile(days: readonly Day[]): (number | null)[][] {
  const sums = Array.from({ length: 7 }, () => new Array<number>(24).fill(0));
  const weights = Array.from({ length: 7 }, () => new Array<number>(24).fill(0));
  for (const day of days) {
    day.hours.forEach((value, h) => {
      if (value === null) return;
      sums[day.dow]![h]! += value * day.weight;
      weights[day.dow]![h]! += day.weight;
    });
  }
  return sums.map((row, dow) =>
    row.map((sum, h) => {
      const weight = weights[dow]![h]!;
      return weight > 0 ? round(sum / weight, 3) : null;
    }),
  );
}

function weightedMedian(values: readonly (readonly [number, number])[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a[0] - b[0]);
  const total = sorted.reduce((sum, [, w]) => sum + w, 0);
  let running = 0;
  for (const [value, weight] of sorted) {
    running += weight;
    if (running >= total / 2) return value;
  }
  return sorted[sorted.length - 1]![0];
}

function localDateKey(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

function formatDays(days: number): string {
  if (days < 1) return `${Math.ceil(days * 24)} h`;
  const whole = Math.ceil(days * 10) / 10;
  return `${whole} day${whole === 1 ? "" : "s"}`;
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
