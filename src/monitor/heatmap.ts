import { DAY_NAMES, type QuietHoursProfile } from "./quiet-hours.js";

/** Darker is quieter: P(idle) in fifths, from busy (blank) to almost surely idle (█). */
const SHADES = [" ", "░", "▒", "▓", "█"] as const;
const NO_DATA = "·";

export function shadeFor(probability: number | null): string {
  if (probability === null) return NO_DATA;
  return SHADES[Math.min(4, Math.floor(probability * 5))]!;
}

/**
 * The profile as a 7×24 grid, two characters per hour so the hour labels line up, one row per
 * day from Monday, with a legend under it. Local time.
 */
export function renderHeatmap(profile: QuietHoursProfile): string {
  const labels = Array.from({ length: 8 }, (_, i) => String(i * 3).padStart(2, "0")).join("    ");
  const lines = [`     ${labels}`];
  profile.probabilities.forEach((row, day) => {
    lines.push(`${DAY_NAMES[day]}  ${row.map((p) => shadeFor(p).repeat(2)).join("")}`);
  });
  lines.push(
    `     P(idle): "${SHADES[0]}" <0.2  ${SHADES[1]} <0.4  ${SHADES[2]} <0.6  ${SHADES[3]} <0.8  ${SHADES[4]} ≥0.8  ${NO_DATA} no data`,
  );
  return lines.join("\n");
}

/** The windows and the state of the learning, in words. */
export function describeQuietHours(profile: QuietHoursProfile): string {
  const lines: string[] = [];
  const history = `${profile.daysOfData} days of history, confidence ${profile.confidence.toFixed(2)}`;
  if (!profile.ready) {
    lines.push(`Still learning: ${profile.needs}. (${history})`);
    return lines.join("\n");
  }
  if (profile.windows.length === 0) {
    lines.push(
      `No quiet window: no run of hours is idle with P ≥ ${profile.threshold} — this machine is rarely quiet. (${history})`,
    );
  } else {
    lines.push(`Usual quiet windows (P(idle) ≥ ${profile.threshold}, local time; ${history}):`);
    for (const w of profile.windows) {
      lines.push(`  ${w.label}  ${w.hours} h, P ≈ ${w.meanProbability.toFixed(2)}`);
    }
  }
  if (profile.excludedDays.length > 0) {
    lines.push(`Left out as unusual days: ${profile.excludedDays.join(", ")}`);
  }
  return lines.join("\n");
}
