import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HostileRig, startHostileRig } from "./daemon.js";
import { runFuzzBatch } from "./fuzz-core.js";

// A bounded batch for `npm test` (a few seconds); `npm run bench -- fuzz` runs many more.
const RUNS = 150;

describe("fuzzed paths, headers and bodies", () => {
  let rig: HostileRig;
  beforeAll(async () => {
    rig = await startHostileRig({
      config: (raw) => {
        raw.server = { allowed_origins: ["https://app.example"] };
      },
    });
  });
  afterAll(() => rig.close());

  it("never crash the daemon, and every answered call is in the ledger", async () => {
    const batch = await runFuzzBatch(rig, { runs: RUNS, seed: 12 });
    expect(batch.crashes).toEqual([]);
    expect(batch.untracked).toEqual([]);
    expect(batch.cases).toBe(RUNS);
    expect(batch.answered).toBeGreaterThan(RUNS / 2);
    expect(batch.unlogged).toEqual([]);
    expect(batch.logged).toBe(batch.answered);
    expect(batch.alive).toBe(true);
  }, 120_000);
});
