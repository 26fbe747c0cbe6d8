import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { Ledger } from "./ledger.js";
import { ActionWriter } from "./writer.js";

const opened: Ledger[] = [];
function openTemp(): Ledger {
  const ledger = Ledger.open(
    join(mkdtempSync(join(tmpdir(), "nightshift-ledger-")), "nightshift.db"),
  );
  opened.push(ledger);
  return ledger;
}
afterEach(() => {
  for (const l of opened.splice(0)) l.close();
});

describe("ledger", () => {
  it("creates the database owner-only, in WAL mode, with migrations recorded", () => {
    const ledger = openTemp();
    expect(statSync(ledger.path).mode & 0o777).toBe(0o600);
    expect(ledger.db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(ledger.db.pragma("auto_vacuum", { simple: true })).toBe(2); // incremental
    const versions = ledger.db.prepare("SELECT version FROM schema_migrations").pluck().all();
    expect(versions).toContain(1);
  });

  it("reopening applies nothing twice", () => {
    const ledger = openTemp();
    ledger.actions.insertOne({ agent: "a", actionType: "chat", startedAt: 1, status: "ok" });
    ledger.close();
    const again = Ledger.open(ledger.path);
    opened.push(again);
    expect(again.actions.count()).toBe(1);
  });

  it("round-trips an action with all its fields", () => {
    const ledger = openTemp();
    const written = ledger.actions.insertOne({
      agent: "finance",
      actionType: "chat",
      model: "qwen2.5:7b",
      startedAt: Date.parse("2026-11-25T10:00:00Z"),
      endedAt: Date.parse("2026-11-25T10:00:01Z"),
      latencyMs: 1000,
      status: "ok",
      request: { messages: [{ role: "user", content: "hi" }] },
      response: { message: { role: "assistant", content: "hello" } },
      flags: ["low_confidence", "low_confidence"],
      tokensIn: 3,
      tokensOut: 5,
      totalDuration: 9_000_000,
    });
    const read = ledger.actions.get(written.id)!;
    expect(read).toEqual(written);
    expect(read.flags).toEqual(["low_confidence"]);
  });

  it("finds actions by flag since a time through the flag index", () => {
    const ledger = openTemp();
    const base = Date.parse("2026-11-25T00:00:00Z");
    ledger.actions.insert([
      { agent: "a", actionType: "chat", startedAt: base, status: "ok", flags: ["x"] },
      { agent: "a", actionType: "chat", startedAt: base + 10, status: "ok", flags: ["x", "y"] },
      { agent: "b", actionType: "chat", startedAt: base + 20, status: "ok" },
    ]);
    expect(ledger.actions.list({ flag: "x", since: base + 5 }).map((a) => a.startedAt)).toEqual([
      base + 10,
    ]);
    const plan = ledger.db
      .prepare(
        "EXPLAIN QUERY PLAN SELECT a.* FROM action_flags f JOIN actions a ON a.id = f.action_id WHERE f.flag = ? AND f.started_at >= ?",
      )
      .all("x", 0) as { detail: string }[];
    expect(plan[0]!.detail).toMatch(/USING PRIMARY KEY \(flag=\? AND started_at>\?\)/);
  });

  it("finds an action by a unique id prefix and names the actions a shared prefix matches", () => {
    const ledger = openTemp();
    const [a, b] = ledger.actions.insert([
      {
        id: "01a21384-c95e-77bd-99d4-50f09957c78a",
        agent: "a",
        actionType: "chat",
        startedAt: 1,
        status: "ok",
      },
      {
        id: "01a21384-c95e-77be-a66f-c9eb924adc57",
        agent: "a",
        actionType: "chat",
        startedAt: 1,
        status: "ok",
      },
    ]);
    expect(ledger.actions.find("01a21384-c95e-77bd")?.id).toBe(a!.id);
    expect(() => ledger.actions.find("01a21384-c95e")).toThrow(
      `id prefix 01a21384-c95e matches several actions (${a!.id}, ${b!.id}, ...)`,
    );
    expect(ledger.actions.find("ffffffff-ffff")).toBeUndefined();
  });

  it("answers an action's trace and a trace's ids without reading bodies", () => {
    const ledger = openTemp();
    const [a, b] = ledger.actions.insert([
      { agent: "a", actionType: "chat", startedAt: 1, status: "ok", traceId: "t1" },
      { agent: "a", actionType: "chat", startedAt: 2, status: "ok", traceId: "t1" },
      { agent: "a", actionType: "chat", startedAt: 3, status: "ok", traceId: "t2" },
    ]);
    expect(ledger.actions.traceIdOf(a!.id)).toBe("t1");
    expect(ledger.actions.traceIdOf("missing")).toBeUndefined();
    expect(ledger.actions.idsInTrace("t1").sort()).toEqual([a!.id, b!.id].sort());
  });

  it("adds and removes flags on both the row and the index", () => {
    const ledger = openTemp();
    const a = ledger.actions.insertOne({
      agent: "a",
      actionType: "chat",
      startedAt: 1,
      status: "ok",
    });
    ledger.actions.addFlags(a.id, ["requires_audit"]);
    expect(ledger.actions.list({ flag: "requires_audit" })).toHaveLength(1);
    ledger.actions.removeFlags(a.id, ["requires_audit"]);
    expect(ledger.actions.list({ flag: "requires_audit" })).toHaveLength(0);
    expect(ledger.actions.get(a.id)!.flags).toEqual([]);
  });

  it("batches writes and keeps a batch that failed to commit", () => {
    const ledger = openTemp();
    const errors: unknown[] = [];
    const writer = new ActionWriter(ledger.actions, {
      flushIntervalMs: 10_000,
      onError: (e) => errors.push(e),
    });
    const a = writer.write({ agent: "a", actionType: "chat", startedAt: 1, status: "ok" });
    expect(ledger.actions.get(a.id)).toBeUndefined();
    ledger.db.exec(
      "CREATE TRIGGER refuse BEFORE INSERT ON actions BEGIN SELECT RAISE(ABORT, 'disk full'); END",
    );
    expect(writer.flush()).toBe(0);
    expect(errors).toHaveLength(1);
    expect(writer.pending).toBe(1);
    ledger.db.exec("DROP TRIGGER refuse");
    expect(writer.flush()).toBe(1);
    expect(ledger.actions.get(a.id)?.agent).toBe("a");
    writer.close();
  });

  it("retries a background flush every millisecond while another process holds the lock, without blocking the event loop", async () => {
    const ledger = openTemp();
    const other = new Database(ledger.path);
    const committed: number[] = [];
    const errors: unknown[] = [];
    let onCommit = () => {};
    const commit = new Promise<void>((resolve) => {
      onCommit = resolve;
    });
    const writer = new ActionWriter(ledger.actions, {
      flushIntervalMs: 0,
      onCommit: () => {
        committed.push(performance.now());
        onCommit();
      },
      onError: (e) => errors.push(e),
    });
    other.exec("BEGIN IMMEDIATE");
    const a = writer.write({ agent: "a", actionType: "chat", startedAt: Date.now(), status: "ok" });
    // The event loop stays free: a 20 ms timer fires on time while the write waits.
    const timerAt = performance.now();
    // (Bounds far under the writer's 5 s lock wait, loose enough for a busy machine.)
    await sleep(20);
    expect(performance.now() - timerAt).toBeLessThan(1000);
    expect(writer.pending).toBe(1);
    other.exec("COMMIT");
    const releasedAt = performance.now();
    await commit;
    expect(committed).toHaveLength(1);
    expect(committed[0]! - releasedAt).toBeLessThan(1000);
    expect(ledger.actions.get(a.id)?.agent).toBe("a");
    expect(errors).toHaveLength(0);
    other.close();
    writer.close();
  });

  it("reports a lock held past lockWaitMs as a failure and keeps the batch", async () => {
    const ledger = openTemp();
    const other = new Database(ledger.path);
    const errors: unknown[] = [];
    let failed = () => {};
    const failure = new Promise<void>((resolve) => {
      failed = resolve;
    });
    const writer = new ActionWriter(ledger.actions, {
      flushIntervalMs: 0,
      lockWaitMs: 30,
      onError: (e) => {
        errors.push(e);
        failed();
      },
    });
    other.exec("BEGIN IMMEDIATE");
    writer.write({ agent: "a", actionType: "chat", startedAt: Date.now(), status: "ok" });
    await failure;
    expect(errors.length).toBeGreaterThan(0);
    expect((errors[0] as { code: string }).code).toBe("SQLITE_BUSY");
    expect(writer.pending).toBe(1);
    other.exec("COMMIT");
    other.close();
    expect(writer.flush()).toBe(1);
    writer.close();
  });
});
