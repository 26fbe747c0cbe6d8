import { describe, expect, it } from "vitest";
import { Pacer } from "./pacing.js";

async function timed(work: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

describe("pacer", () => {
  it("leaves the lock free a quarter of the time it was held, less what a read already waited", async () => {
    const pacer = new Pacer();
    expect(await timed(() => pacer.after(0, 40, 1))).toBeGreaterThanOrEqual(9);
    // A 12 ms wait for the read already left the lock free longer than 10 ms: only the floor.
    expect(await timed(() => pacer.after(12, 40, 1))).toBeLessThan(9);
  });

  it("sizes batches to the target time: shrinks at once, grows by half at most", async () => {
    const pacer = new Pacer({ targetBatchMs: 10, minPauseMs: 0, pauseRatio: 0 });
    expect(pacer.batchSize).toBe(500);
    await pacer.after(0, 50, 500); // 0.1 ms a row: 100 rows make 10 ms
    expect(pacer.batchSize).toBe(100);
    await pacer.after(0, 1, 100); // 0.01 ms a row: 1000 would do, but growth is capped
    expect(pacer.batchSize).toBe(150);
    expect(pacer.longestMs).toBe(50);
  });
});
