import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { inThreadReader, openReader } from "../../src/ledger/sqlite/retention-reader.js";
import { RetentionStatements } from "../../src/ledger/sqlite/retention-statements.js";
import { type BatchRequest, SCAN_START } from "../../src/ledger/stores/index.js";
import { daysAgo, NOW, seed } from "../retention/seed.js";
import { tempLedger } from "../support/temp-ledger.js";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function seeded() {
  const { ledger, cleanup } = tempLedger();
  cleanups.push(cleanup);
  seed(ledger, [
    ...Array.from({ length: 30 }, () => ({ ageDays: 30, status: "verified" as const })),
    ...Array.from({ length: 5 }, () => ({ ageDays: 120, status: "passed" as const })),
  ]);
  ledger.writer.flush();
  return { ledger, store: new RetentionStatements(ledger.db) };
}

const compress: BatchRequest = {
  phase: "compress",
  scan: { status: "verified", before: daysAgo(14) },
  cursor: SCAN_START,
  limit: 20,
  now: NOW,
};

describe("batch reader", () => {
  it("reads here until a batch comes back full, then on its own thread exactly what this thread reads", async () => {
    const { ledger, store } = seeded();
    const reasons: string[] = [];
    const reader = openReader(store, ledger.path, (reason) => reasons.push(reason));
    const local = inThreadReader(store);
    const first = await reader.read(compress);
    expect(first).toEqual(await local.read(compress));
    expect(first.rows).toHaveLength(20);
    // A full batch: there may be more to move, so the thread starts.
    expect(await reader.threaded()).toBe(true);
    const second = await reader.read({ ...compress, cursor: first.next! });
    expect(second.rows).toHaveLength(10);
    expect(second).toEqual(await local.read({ ...compress, cursor: first.next! }));
    const aggregate: BatchRequest = {
      ...compress,
      phase: "aggregate",
      scan: { status: "passed", before: daysAgo(90) },
    };
    expect(await reader.read(aggregate)).toEqual(await local.read(aggregate));
    await reader.close();
    expect(reasons).toEqual([]);
  });

  it("starts no thread for a prune that fits in one batch", async () => {
    const { ledger, store } = seeded();
    const reader = openReader(store, ledger.path);
    const batch = await reader.read({ ...compress, limit: 100 });
    expect(batch.rows).toHaveLength(30);
    await reader.close();
    expect(await reader.threaded()).toBe(false);
  });

  it("falls back to this thread, and says why, when its thread cannot open the ledger", async () => {
    const { ledger, store } = seeded();
    const reasons: string[] = [];
    const reader = openReader(store, join(ledger.path, "missing.db"), (r) => reasons.push(r));
    const first = await reader.read(compress);
    expect(first.rows).toHaveLength(20);
    expect(await reader.threaded()).toBe(false);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/unable to open|exit/i);
    const second = await reader.read({ ...compress, cursor: first.next! });
    expect(second.rows).toHaveLength(10);
    await reader.close();
    expect(reasons).toHaveLength(1);
  });
});
