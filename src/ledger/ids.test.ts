import { describe, expect, it } from "vitest";
import { newActionId, newTraceId } from "./ids.js";

describe("ids", () => {
  it("makes action ids that are version-7 UUIDs in time order", () => {
    const ids = [1_700_000_000_000, 1_700_000_000_000, 1_700_000_000_001, 1_800_000_000_000].map(
      (ms) => newActionId(ms),
    );
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab]/);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("makes W3C trace ids (32 lowercase hex, not all zero) that sort by time", () => {
    const early = newTraceId(1_700_000_000_000);
    const late = newTraceId(1_700_000_000_500);
    expect(early).toMatch(/^[0-9a-f]{32}$/);
    expect(early).not.toMatch(/^0+$/);
    expect(early < late).toBe(true);
    // The right half stays random: two ids of the same millisecond differ there.
    const a = newTraceId(1_700_000_001_000);
    const b = newTraceId(1_700_000_001_000);
    expect(a.slice(16)).not.toBe(b.slice(16));
  });
});
