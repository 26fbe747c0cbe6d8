import { relearnQuietHours } from "../../monitor/index.js";
import type { JobFactory } from "../job.js";

/**
 * Relearns this machine's quiet-hours profile once a day and stores it (per host) for the
 * scheduler's quiet-window condition; machines sharing a ledger relearn their own when the
 * condition finds it a day old. It reads the history once (a few hundred ms for a year of samples), so it needs no
 * idle gate and no GPU; it is one item, so a pause before the end simply runs it again.
 */
export const quietHoursRelearnJob: JobFactory = ({ monitor, config, clock }) => ({
  name: "quiet-hours-relearn",
  description: "relearns the hour-of-week quiet-hours profile from the monitor's history",
  defaults: { requiresIdle: false, quietWindowOnly: false, minIntervalH: 24, minBacklog: 0 },
  run: async (context) => {
    const now = clock.now();
    if (context.shouldPause()) return { status: "paused" };
    const profile = await relearnQuietHours(monitor, config, now);
    context.log(
      profile.ready ? `${profile.windows.length} quiet window(s)` : `not ready: ${profile.needs}`,
    );
    return {
      status: "done",
      summary: {
        ready: profile.ready,
        windows: profile.windows.map((w) => w.label),
        confidence: profile.confidence,
        weeks_of_data: profile.weeksOfData,
      },
    };
  },
});
