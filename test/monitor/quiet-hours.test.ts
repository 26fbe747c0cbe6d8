import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { describeQuietHours, renderHeatmap } from "../../src/monitor/heatmap.js";
import { isInQuietWindow, learnFromCells, nextQuietWindow } from "../../src/monitor/quiet-hours.js";
import { at, history, isWeekend, MONDAY, weekdaySleeper } from "./history.js";

const settings = parseConfig({});
const DAY = 86_400_000;

describe("quiet hours learned from history", () => {
  it("learns a weekday sleeper's nights and office hours, and a different weekend", () => {
    const profile = learnFromCells(history(28, weekdaySleeper), settings, MONDAY);
    expect(profile.ready).toBe(true);
    expect(profile.probabilities[1]![3]).toBe(1); // Tue 03:00
    expect(profile.probabilities[1]![20]).toBe(0); // Tue 20:00
    expect(profile.probabilities[1]![8]).toBe(0); // weekday breakfast
    expect(profile.probabilities[5]![8]).toBe(1); // Saturday lie-in
    expect(profile.windows.map((w) => w.label)).toEqual([
      "Mon 00:00 – Mon 07:00",
      "Mon 09:00 – Mon 17:00",
      "Tue 00:00 – Tue 07:00",
      "Tue 09:00 – Tue 17:00",
      "Wed 00:00 – Wed 07:00",
      "Wed 09:00 – Wed 17:00",
      "Thu 00:00 – Thu 07:00",
      "Thu 09:00 – Thu 17:00",
      "Fri 00:00 – Fri 07:00",
      "Fri 09:00 – Fri 17:00",
      "Sat 00:00 – Sat 10:00",
      "Sun 00:00 – Sun 10:00",
    ]);
    expect(isInQuietWindow(profile, at(1, 3))).toBe(true);
    expect(isInQuietWindow(profile, at(1, 20))).toBe(false);
    expect(isInQuietWindow(profile, at(6, 9))).toBe(true);
    expect(isInQuietWindow(profile, at(6, 11))).toBe(false);
    expect(profile.excludedDays).toEqual([]);
  });

  it("is not dragged by a holiday week", () => {
    // The second week of four: at home, busy from 10:00 to midnight every day.
    const holidayStart = MONDAY - 21 * DAY;
    const holiday = (day: Date, hour: number) => {
      const t = day.getTime();
      if (t >= holidayStart && t < holidayStart + 5 * DAY) return hour < 10 ? 1 : 0;
      return weekdaySleeper(day, hour);
    };
    const profile = learnFromCells(history(28, holiday), settings, MONDAY);
    for (let dow = 0; dow < 5; dow++) expect(profile.probabilities[dow]![12]).toBe(1);
    expect(profile.excludedDays).toEqual([
      "2025-12-15",
      "2025-12-16",
      "2025-12-17",
      "2025-12-18",
      "2025-12-19",
    ]);
    expect(isInQuietWindow(profile, at(2, 12))).toBe(true);
  });

  it("is not dragged by a one-off all-nighter, even last week", () => {
    const allNighter = MONDAY - 5 * DAY; // the latest Wednesday
    const cells = history(28, (day, hour) =>
      day.getTime() === allNighter && hour < 6 ? 0 : weekdaySleeper(day, hour),
    );
    const profile = learnFromCells(cells, settings, MONDAY);
    expect(profile.excludedDays).toEqual(["2025-12-31"]);
    expect(profile.probabilities[2]![3]).toBe(1);
  });

  it("finds a shift worker's quiet hours across midnight and across Sunday into Monday", () => {
    const shift = (_day: Date, hour: number) => (hour >= 22 || hour < 6 ? 1 : 0);
    const profile = learnFromCells(history(21, shift), settings, MONDAY);
    expect(profile.windows).toHaveLength(7);
    expect(profile.windows.every((w) => w.hours === 8 && w.startHour === 22)).toBe(true);
    expect(profile.windows.map((w) => w.label)).toContain("Sun 22:00 – Mon 06:00");
    expect(isInQuietWindow(profile, at(2, 1))).toBe(true);
    expect(isInQuietWindow(profile, at(0, 5))).toBe(true);
    expect(isInQuietWindow(profile, at(0, 6))).toBe(false);
    const next = nextQuietWindow(profile, at(0, 12));
    expect(next?.start).toBe(at(0, 22, 0));
    expect(next?.end).toBe(at(1, 6, 0));
  });

  it("finds no window on a machine that is never quiet, and says so", () => {
    const profile = learnFromCells(
      history(21, () => 0.1),
      settings,
      MONDAY,
    );
    expect(profile.ready).toBe(true);
    expect(profile.windows).toEqual([]);
    expect(isInQuietWindow(profile, at(2, 3))).toBe(false);
    expect(nextQuietWindow(profile, at(2, 3))).toBeNull();
    expect(describeQuietHours(profile)).toMatch(/No quiet window.*rarely quiet/);
  });

  it("weighs recent weeks more: a new habit shows after two weeks with a short half-life", () => {
    // Four weeks busy at 07:00 on weekdays, then two weeks idle at 07:00.
    const cutover = MONDAY - 14 * DAY;
    const habit = (day: Date, hour: number) =>
      hour === 7 && !isWeekend(day)
        ? day.getTime() >= cutover
          ? 1
          : 0
        : weekdaySleeper(day, hour);
    const cells = history(42, habit);
    const fast = parseConfig({ quiet_hours: { half_life_weeks: 1 } });
    const slow = parseConfig({ quiet_hours: { half_life_weeks: 1000 } });
    expect(learnFromCells(cells, fast, MONDAY).probabilities[1]![7]).toBeGreaterThan(0.7);
    expect(learnFromCells(cells, slow, MONDAY).probabilities[1]![7]).toBeCloseTo(2 / 6, 2);
  });

  it("says how much more history it needs with less than a week, and gives no windows", () => {
    const profile = learnFromCells(history(3, weekdaySleeper), settings, MONDAY);
    expect(profile.ready).toBe(false);
    expect(profile.windows).toEqual([]);
    expect(profile.needs).toMatch(/needs 4 days more/);
    expect(isInQuietWindow(profile, at(6, 3))).toBe(false);
    expect(describeQuietHours(profile)).toMatch(/Still learning: needs 4 days more/);
  });

  it("grows its confidence with the weeks of history", () => {
    const confidence = [7, 14, 28, 56].map(
      (days) => learnFromCells(history(days, weekdaySleeper), settings, MONDAY).confidence,
    );
    for (let i = 1; i < confidence.length; i++) {
      expect(confidence[i]!).toBeGreaterThan(confidence[i - 1]!);
    }
    expect(confidence[0]!).toBeLessThan(0.5);
    expect(confidence[3]!).toBeGreaterThan(0.85);
  });

  it("draws a 7×24 heatmap with hour labels, darker where quieter", () => {
    const profile = learnFromCells(history(28, weekdaySleeper), settings, MONDAY);
    const lines = renderHeatmap(profile).split("\n");
    expect(lines[0]).toBe("     00    03    06    09    12    15    18    21");
    expect(lines[1]).toBe(
      `Mon  ${"██".repeat(7)}${"  ".repeat(2)}${"██".repeat(8)}${"  ".repeat(7)}`,
    );
    expect(lines[6]).toBe(`Sat  ${"██".repeat(10)}${"  ".repeat(14)}`);
    expect(lines).toHaveLength(9);
  });
});
