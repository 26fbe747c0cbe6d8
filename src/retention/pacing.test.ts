import { describe, expect, it } from "vitest";
import { Pacer } from "./pacing.js";

/** A pacer whose pauses are recorded, not slept: what it asks for, not how a busy machine times it. */
function recordingPacer(options: ConstructorParameters<typeof Pacer>[0] = {}) {
  const pauses: number[] = [];
  const pacer = new Pacer({ ...options, pause: async (ms) => void pauses.push(ms) });
  return { pacer, pauses };
}

describe("pacer", () => {
  it("leaves the lock free a quarter of the time it was held, less what a read already waited", async () => {
    const { pacer, pauses } = recordingPacer();
    await pacer.after(0, 40, 1);
    // A 12 ms wait for the read already left the lock free longer than 10 ms: only the floor.
    await pacer.after(12, 40, 1);
    // Half the write time when asked, with a floor of 2 ms.
    const { pacer: halving, pauses: halved } = recordingPacer({ pauseRatio: 0.5, minPauseMs: 2 });
    await halving.after(0, 40, 1);
    await halving.after(19, 40, 1);
    expect(pauses).toEqual([10, 1]);
    expect(halved).toEqual([20, 2]);
  });

  it("waits for real by default", async () => {
    const pacer = new Pacer({ minPauseMs: 5 });
    const started = performance.now();
    await pacer.after(0, 0, 1);
    // A timer never fires early (a busy machine only makes it late): a lower bound only.
    expect(performance.now() - started).toBeGreaterThanOrEqual(4);
  });

  it("sizes batches to the target time: shrinks at once, grows by half at most", async () => {
    const { pacer, pauses } = recordingPacer({ targetBatchMs: 10, minPauseMs: 0, pauseRatio: 0 });
    expect(pacer.batchSize).toBe(500);
    await pacer.after(0, 50, 500); // 0.1 ms a row: 100 rows make 10 ms
    expect(pacer.batchSize).toBe(100);
    await pacer.after(0, 1, 100); // 0.01 ms a row: 1000 would do, but growth is capped
    expect(pacer.batchSize).toBe(150);
    expect(pacer.longestMs).toBe(50);
    expect(pauses).toEqual([0, 0]);
  });
});
