import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Ledger } from "../ledger.js";
import { startCheckpointer } from "./checkpointer.js";

const opened: Ledger[] = [];
function openTemp(): Ledger {
  const dir = mkdtempSync(join(tmpdir(), "nightshift-checkpointer-"));
  const ledger = Ledger.open(join(dir, "nightshift.db"));
  opened.push(ledger);
  return ledger;
}
afterEach(() => {
  for (const ledger of opened.splice(0)) ledger.close();
});

const autocheckpoint = (ledger: Ledger) => ledger.db.pragma("wal_autocheckpoint", { simple: true });

describe("checkpointer", () => {
  it("turns auto-checkpoint off, folds the log in from its own thread, and turns it back on", async () => {
    const ledger = openTemp();
    const before = autocheckpoint(ledger);
    const checkpointer = startCheckpointer(ledger.db, ledger.path, { everyMs: 5 });
    expect(autocheckpoint(ledger)).toBe(0);
    for (let i = 0; i < 20; i++) {
      ledger.writer.write({
        agent: "a",
        actionType: "chat",
        startedAt: Date.now(),
        status: "ok",
        request: { i },
      });
      expect(ledger.writer.pending).toBe(1);
      expect(ledger.writer.flush()).toBe(1);
    }
    // Whether or not a timed pass has come round yet on a busy machine: one pass, on request.
    expect(await checkpointer.checkpointNow()).toBe(true);
    const stats = await checkpointer.stop();
    expect(stats.error).toBeNull();
    expect(stats.checkpoints).toBeGreaterThan(0);
    expect(stats.pages).toBeGreaterThan(0);
    expect(autocheckpoint(ledger)).toBe(before);
  });

  it("on keepUp, has a log grown past its bound copied in full, so the next write starts it over", async () => {
    const ledger = openTemp();
    for (let i = 0; i < 50; i++) {
      ledger.writer.write({
        agent: "a",
        actionType: "chat",
        startedAt: Date.now(),
        status: "ok",
        request: { text: "x".repeat(8000), i },
      });
    }
    ledger.writer.flush();
    const logFrames = () =>
      (ledger.db.pragma("wal_checkpoint(PASSIVE)") as Array<{ log: number }>)[0]!.log;
    // Its first pass measures the log; the next would come only after a minute.
    const checkpointer = startCheckpointer(ledger.db, ledger.path, {
      everyMs: 60_000,
      maxLogFrames: 20,
    });
    await checkpointer.started;
    await checkpointer.keepUp();
    ledger.writer.write({ agent: "a", actionType: "chat", startedAt: Date.now(), status: "ok" });
    ledger.writer.flush();
    expect(logFrames()).toBeLessThan(20);
    const stats = await checkpointer.stop();
    expect(stats.error).toBeNull();
    expect(stats.maxLogFrames).toBeGreaterThan(100);
  });

  it("turns auto-checkpoint back on at once when the worker cannot open the file", async () => {
    const ledger = openTemp();
    const before = autocheckpoint(ledger);
    const checkpointer = startCheckpointer(ledger.db, join(ledger.path, "missing.db"));
    const stats = await checkpointer.stop();
    expect(stats.error).toMatch(/directory|exist|open/i);
    expect(autocheckpoint(ledger)).toBe(before);
  });
});
