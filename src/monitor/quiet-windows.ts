export const DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] as const;

/** A run of hours of the week whose P(idle) is at or above the threshold. */
export interface QuietWindow {
  /** 0 = Monday. */
  startDay: number;
  startHour: number;
  /** Length in hours; a window may run past midnight and past Sunday into Monday. */
  hours: number;
  meanProbability: number;
  /** "Mon 23:00 – Tue 07:00", local time. */
  label: string;
}

/** Hours since Monday 00:00 local time, 0..167. */
export function hourOfWeek(ts: number): number {
  const date = new Date(ts);
  return ((date.getDay() + 6) % 7) * 24 + date.getHours();
}

/**
 * The maximal runs of the 168 hours of the week at or above `threshold`, joined across midnight
 * and across the end of the week, at least `minHours` long. Hours without history never count.
 */
export function buildWindows(
  probabilities: readonly (readonly (number | null)[])[],
  threshold: number,
  minHours: number,
): QuietWindow[] {
  const flat = probabilities.flat();
  const quiet = flat.map((p) => p !== null && p >= threshold);
  if (quiet.every(Boolean)) return [makeWindow(flat, 0, 168)];
  // Start scanning just after a non-quiet hour, so a run crossing Sunday→Monday stays whole.
  const origin = quiet.indexOf(false);
  const windows: QuietWindow[] = [];
  let runStart: number | null = null;
  for (let i = 1; i <= 168; i++) {
    const at = (origin + i) % 168;
    if (quiet[at] && runStart === null) runStart = origin + i;
    if (!quiet[at] && runStart !== null) {
      const length = origin + i - runStart;
      if (length >= minHours) windows.push(makeWindow(flat, runStart % 168, length));
      runStart = null;
    }
  }
  return windows.sort((a, b) => a.startDay * 24 + a.startHour - (b.startDay * 24 + b.startHour));
}

/** The window containing hour-of-week `how`, if any. */
export function findWindowAt(windows: readonly QuietWindow[], how: number): QuietWindow | null {
  for (const window of windows) {
    const start = window.startDay * 24 + window.startHour;
    if ((how - start + 168) % 168 < window.hours) return window;
  }
  return null;
}

function makeWindow(flat: readonly (number | null)[], start: number, hours: number): QuietWindow {
  let sum = 0;
  for (let i = 0; i < hours; i++) sum += flat[(start + i) % 168] ?? 0;
  const end = (start + hours) % 168;
  const at = (how: number) =>
    `${DAY_NAMES[Math.floor(how / 24)]} ${String(how % 24).padStart(2, "0")}:00`;
  return {
    startDay: Math.floor(start / 24),
    startHour: start % 24,
    hours,
    meanProbability: Math.round((sum / hours) * 1000) / 1000,
    label: hours === 168 ? "all week" : `${at(start)} – ${at(end)}`,
  };
}
