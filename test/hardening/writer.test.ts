import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BUG_EXIT_CODE, lastResort } from "../../src/last-resort.js";
import { Ledger } from "../../src/ledger/ledger.js";
import { ActionWriter } from "../../src/ledger/writer.js";
import { tempHome } from "../support/temp-ledger.js";

describe("the writer cannot be poisoned", () => {
  const temp = tempHome();
  afterAll(() => temp.cleanup());

  it("stores unserializable actions degraded and commits the rows behind them in the same batch", () => {
    const ledger = Ledger.open(join(temp.home, "poison.db"));
    const errors: unknown[] = [];
    const writer = new ActionWriter(ledger.actions, {
      flushIntervalMs: 60_000,
      onError: (e) => errors.push(e),
    });
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const base = { agent: "a", actionType: "chat", status: "ok" as const };
    const ids = [
      writer.write({ ...base, startedAt: 1, request: { n: 1 } }).id,
      writer.write({ ...base, startedAt: 2, request: cyclic }).id,
      writer.write({ ...base, startedAt: 3, request: { big: 10n } }).id,
      writer.write({
        ...base,
        startedAt: 4,
        response: {
          toJSON: () => {
            throw new Error("nope");
          },
        },
      }).id,
      writer.write({ ...base, startedAt: 5, request: { n: 5 } }).id,
    ];
    expect(writer.flush()).toBe(5);
    expect(writer.pending).toBe(0);
    expect(errors).toEqual([]);
    expect(ids.map((id) => ledger.actions.get(id)?.startedAt)).toEqual([1, 2, 3, 4, 5]);
    expect(ledger.actions.get(ids[1]!)!.request).toMatchObject({
      $nightshift_unstorable: { error: expect.stringMatching(/nested deeper|cannot be stored/) },
    });
    expect(ledger.actions.get(ids[2]!)!.request).toMatchObject({
      $nightshift_unstorable: { error: expect.stringMatching(/BigInt/), sha256: null },
    });
    expect(ledger.actions.get(ids[3]!)!.response).toMatchObject({
      $nightshift_unstorable: { error: expect.stringMatching(/nope/) },
    });
    ledger.close();
  });

  it("drops a duplicate row with a report instead of retrying it for ever", () => {
    const ledger = Ledger.open(join(temp.home, "dup.db"));
    const errors: unknown[] = [];
    const writer = new ActionWriter(ledger.actions, {
      flushIntervalMs: 60_000,
      onError: (e) => errors.push(e),
    });
    const first = writer.write({ agent: "a", actionType: "chat", status: "ok", startedAt: 1 });
    writer.flush();
    writer.write({ ...first, startedAt: 1 });
    const after = writer.write({ agent: "a", actionType: "chat", status: "ok", startedAt: 2 });
    writer.flush();
    expect(writer.pending).toBe(0);
    expect(ledger.actions.get(after.id)).toBeDefined();
    expect(String(errors[0])).toMatch(/dropped/);
    ledger.close();
  });

  it("closes within a bound even when the database is already gone, reporting what it could not write", () => {
    const ledger = Ledger.open(join(temp.home, "closed.db"));
    const errors: unknown[] = [];
    const writer = new ActionWriter(ledger.actions, {
      flushIntervalMs: 60_000,
      onError: (e) => errors.push(e),
    });
    writer.write({ agent: "a", actionType: "chat", status: "ok", startedAt: 1 });
    ledger.db.close();
    writer.close();
    expect(writer.pending).toBe(1);
    expect(String(errors.at(-1))).toMatch(/1 actions could not be written before closing/);
    // A write after close neither throws nor schedules a retry that would keep the process alive.
    expect(() =>
      writer.write({ agent: "a", actionType: "chat", status: "ok", startedAt: 2 }),
    ).not.toThrow();
  });

  it("the last-resort handler commits the queue and exits 70", () => {
    const path = join(temp.home, "fatal.db");
    const ledger = Ledger.open(path, { flushIntervalMs: 60_000 });
    const queued = ledger.writer.write({
      agent: "a",
      actionType: "chat",
      status: "ok",
      startedAt: 1,
    });
    const lines: string[] = [];
    let code: number | undefined;
    const handle = lastResort({
      ledger,
      log: (l) => lines.push(l),
      exit: (c) => {
        code = c;
      },
    });
    handle(new Error("a bug"), "uncaught exception");
    handle(new Error("again"), "uncaught exception");
    expect(code).toBe(BUG_EXIT_CODE);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/uncaught exception, a bug; exiting: Error: a bug/);
    const reopened = Ledger.open(path);
    expect(reopened.actions.get(queued.id)).toBeDefined();
    reopened.close();
  });
});
