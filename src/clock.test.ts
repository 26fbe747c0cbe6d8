import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { ManualClock, systemClock } from "./clock.js";

describe("a clock's sleep on a signal", () => {
  it("lets go of the signal when it wakes, so a loop on one signal does not pile up listeners", async () => {
    const controller = new AbortController();
    const manual = new ManualClock();
    for (let turn = 0; turn < 20; turn++) {
      const slept = manual.sleep(1000, controller.signal);
      await manual.advance(1000);
      await slept;
      await systemClock.sleep(0, controller.signal);
    }
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("rejects with the signal's reason when it aborts first, on both clocks", async () => {
    const controller = new AbortController();
    const manual = new ManualClock().sleep(1000, controller.signal);
    const system = systemClock.sleep(60_000, controller.signal);
    controller.abort(new Error("stopping"));
    await expect(manual).rejects.toThrow("stopping");
    await expect(system).rejects.toThrow("stopping");
  });
});
