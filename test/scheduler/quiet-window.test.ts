import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { SqliteActionLedger } from "../../src/ledger/sqlite/action-ledger.js";
import type { QuietHoursProfile } from "../../src/monitor/index.js";
import { storedQuietWindow } from "../../src/scheduler/monitor-providers.js";
import { tempLedger } from "../support/temp-ledger.js";

const DAY = 24 * 3_600_000;
const T0 = Date.parse("2026-03-02T00:00:00Z");

describe("the scheduler's quiet window", () => {
  let temp: ReturnType<typeof tempLedger> | undefined;
  afterEach(() => temp?.cleanup());

  it("reads this machine's stored profile, and learns it again once it is a day old", async () => {
    temp = tempLedger();
    const monitor = new SqliteActionLedger(temp.ledger, false, { monitorHost: "box" }).monitor;
    const window = storedQuietWindow(monitor, parseConfig({}));

    // No profile yet: learned (from no history: not ready) and stored as this machine's.
    expect(await window(T0)).toMatchObject({ inside: false });
    const first = await monitor.quietHoursProfile<QuietHoursProfile>();
    expect(first?.generatedAt).toBe(T0);

    // Within a day the stored profile is used as it is.
    await window(T0 + DAY - 1);
    expect((await monitor.quietHoursProfile<QuietHoursProfile>())?.generatedAt).toBe(T0);

    // Older than a day: this machine learns its own again (the relearn job may run elsewhere).
    await window(T0 + DAY + 1);
    expect((await monitor.quietHoursProfile<QuietHoursProfile>())?.generatedAt).toBe(T0 + DAY + 1);
  });
});
