import type { IdleCell } from "../../src/monitor/quiet-hours.js";

/** Local midnight of Monday 5 January 2026, the "now" of generated histories. */
export const MONDAY = new Date(2026, 0, 5).getTime();
const DAY = 86_400_000;

/**
 * Hourly idle fractions for `days` local days ending just before `end`: `idleAt(date, hour)`
 * gives each hour's fraction, `date` being that day's local midnight (0 = Sunday by getDay).
 */
export function history(
  days: number,
  idleAt: (day: Date, hour: number) => number,
  end = MONDAY,
): IdleCell[] {
  const cells: IdleCell[] = [];
  for (let d = days; d >= 1; d--) {
    const midnight = new Date(end - d * DAY + DAY / 2);
    const date = new Date(midnight.getFullYear(), midnight.getMonth(), midnight.getDate());
    for (let h = 0; h < 24; h++) {
      const hour = new Date(date.getFullYear(), date.getMonth(), date.getDate(), h).getTime();
      cells.push({ hour, idleFraction: idleAt(date, h) });
    }
  }
  return cells;
}

export const isWeekend = (day: Date) => day.getDay() === 0 || day.getDay() === 6;

/** Asleep 0–7, at the office 9–17 on weekdays; at home and busy 10–24 at weekends. */
export function weekdaySleeper(day: Date, hour: number): number {
  if (isWeekend(day)) return hour < 10 ? 1 : 0;
  return hour < 7 || (hour >= 9 && hour < 17) ? 1 : 0;
}

/** Local time of a given weekday (0 = Monday) and hour in the week of `MONDAY`. */
export function at(dow: number, hour: number, minute = 30): number {
  const base = new Date(MONDAY);
  return new Date(
    base.getFullYear(),
    base.getMonth(),
    base.getDate() + dow,
    hour,
    minute,
  ).getTime();
}
