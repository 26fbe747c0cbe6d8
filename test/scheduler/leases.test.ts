import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteSchedulerStore } from "../../src/ledger/sqlite/scheduler.js";
import { tempLedger } from "../support/temp-ledger.js";

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

describe("GPU leases across processes", () => {
  it("a holder killed with SIGKILL keeps its lease until expiry, then loses it", async () => {
    const t = tempLedger();
    cleanup = t.cleanup;
    const store = new SqliteSchedulerStore(t.ledger.db);
    const t0 = Date.parse("2026-01-05T02:00:00Z");
    const ttl = 60_000;
    const child = spawn(
      process.execPath,
      [
        join(import.meta.dirname, "fixtures/hold-lease.mjs"),
        join(t.home, "nightshift.db"),
        String(t0),
        String(ttl),
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const said = await new Promise<string>((resolve, reject) => {
      child.stdout.once("data", (chunk: Buffer) => resolve(chunk.toString().trim()));
      child.once("exit", (code) => reject(new Error(`holder exited with ${code}`)));
    });
    expect(said).toBe("held");
    const take = (now: number) =>
      store.takeLease({
        gpu: 0,
        holder: "scheduler",
        job: "retention",
        runId: null,
        now,
        ttlMs: ttl,
      });
    expect(await take(t0 + 1000)).toMatchObject({
      taken: false,
      lease: { holder: `child:${child.pid}`, job: "audit" },
    });

    const exited = new Promise((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    expect(await take(t0 + ttl - 1)).toMatchObject({ taken: false });
    expect(await take(t0 + ttl)).toMatchObject({
      taken: true,
      lease: { holder: "scheduler", job: "retention" },
    });
    // The dead holder cannot renew a lease it lost.
    expect(await store.renewLease(0, `child:${child.pid}`, t0 + ttl + 1, ttl)).toBe(false);
  }, 20_000);

  it("renews only an unexpired lease and releases only its own", async () => {
    const t = tempLedger();
    cleanup = t.cleanup;
    const store = new SqliteSchedulerStore(t.ledger.db);
    await store.takeLease({ gpu: 1, holder: "a", job: "x", runId: null, now: 0, ttlMs: 100 });
    expect(await store.renewLease(1, "a", 50, 100)).toBe(true);
    expect((await store.lease(1))!.expiresAt).toBe(150);
    expect(await store.releaseLease(1, "b")).toBe(false);
    expect(await store.renewLease(1, "a", 150, 100)).toBe(false);
    expect(await store.releaseLease(1, "a")).toBe(true);
    expect(await store.leases()).toEqual([]);
  });
});
