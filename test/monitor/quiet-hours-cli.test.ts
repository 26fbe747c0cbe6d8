import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCliInProcess } from "../support/cli-in-process.js";
import { MONITOR_ENGINES } from "./engines.js";

let home: string;
let cleanup: () => Promise<void>;

/**
 * "Now" for every command, in local time as the heatmap is: a Wednesday noon, so no test depends
 * on the day or hour it happens to run at.
 */
const NOW = Date.parse("2026-03-11T12:00:00");

function cli(...args: string[]) {
  return runCliInProcess(home, args, { NIGHTSHIFT_NOW: String(NOW) });
}

/** `days` of history ending now, a sample every 10 minutes: quiet from 01:00 to 06:00. */
async function importHistory(days: number): Promise<void> {
  const now = NOW;
  const lines: string[] = [];
  for (let t = now - days * 86_400_000; t < now; t += 600_000) {
    const hour = new Date(t).getHours();
    const quiet = hour >= 1 && hour < 6;
    lines.push(
      JSON.stringify({
        ts: t,
        cpu_pct: quiet ? 2 : 40,
        ram_pct: 30,
        gpus: [],
        user_active: !quiet,
      }),
    );
  }
  const file = join(home, "history.ndjson");
  writeFileSync(file, `${lines.join("\n")}\n`);
  expect((await cli("monitor", "import", file)).code).toBe(0);
}

for (const engine of MONITOR_ENGINES) {
  describe.skipIf(!engine.available)(`nightshift quiet-hours on ${engine.name}`, () => {
    beforeEach(async () => ({ home, cleanup } = await engine.open()));
    afterEach(() => cleanup());

    it("says how much more history it needs with three days", async () => {
      await importHistory(3);
      const result = await cli("quiet-hours");
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/Still learning: needs 4(\.\d)? days? more of history/);
      expect(result.stdout).toContain("     00    03    06    09    12    15    18    21\nMon  ");
    });

    it("gives the profile, the windows and the confidence as JSON after two weeks", async () => {
      await importHistory(14);
      const json = JSON.parse((await cli("quiet-hours", "--json")).stdout);
      expect(json.ready).toBe(true);
      expect(json.days).toEqual(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]);
      expect(json.probabilities).toHaveLength(7);
      expect(json.probabilities.every((row: unknown[]) => row.length === 24)).toBe(true);
      // Activity stops at 01:00, so 01:30–06:00 is idle: 02:00–06:00 clears the threshold.
      expect(json.windows).toHaveLength(7);
      expect(json.windows[0]).toMatchObject({ start_day: "Mon", start_hour: 2, hours: 4 });
      expect(json.confidence).toBeGreaterThan(0.3);
      expect(json.confidence).toBeLessThan(0.6);
    });
  });
}
