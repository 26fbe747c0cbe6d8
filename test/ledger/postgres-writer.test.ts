import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Action, completeAction, type NewAction } from "../../src/ledger/actions.js";
import { closeSharedLedger } from "../../src/ledger/gateway-ledger.js";
import { Ledger } from "../../src/ledger/ledger.js";
import { PostgresActionLedger } from "../../src/ledger/postgres/action-ledger.js";
import { insertActions } from "../../src/ledger/postgres/insert.js";
import { findPostgresBin, type PostgresCluster, startPostgres } from "../support/postgres.js";
import { tempHome } from "../support/temp-ledger.js";

const bin = findPostgresBin();
const T0 = Date.parse("2026-04-01T00:00:00Z");
const action = (i: number, over: Partial<NewAction> = {}): NewAction => ({
  agent: "writer",
  actionType: "chat",
  startedAt: T0 + i,
  status: "ok",
  ...over,
});

/** Waits (bounded) until the database holds `n` actions; returns the last count seen. */
async function waitForCount(url: string, n: number): Promise<number> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    let count = -1;
    for (let tries = 0; tries < 600 && count !== n; tries++) {
      if (tries > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      count = (await client.query("SELECT count(*)::int AS n FROM actions")).rows[0].n;
    }
    return count;
  } finally {
    await client.end();
  }
}

// A cluster of its own: these tests stop and start the server under a writer.
describe.skipIf(!bin && !process.env.CI)("the PostgreSQL writer when the server fails", () => {
  let cluster: PostgresCluster;
  const temp = tempHome();
  beforeAll(async () => {
    cluster = await startPostgres(bin!);
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
    temp.cleanup();
  });

  async function freshLedger(name: string, errors: unknown[] = [], rejected: Action[] = []) {
    const admin = new pg.Client(cluster.url);
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = cluster.url.replace(/\/postgres$/, `/${name}`);
    const ledger = await PostgresActionLedger.open(url, {
      flushIntervalMs: 5,
      batchSize: 100,
      closeTimeoutMs: 1500,
      onError: (error) => errors.push(error),
      onRejected: (actions) => rejected.push(...actions),
    });
    return { ledger, url };
  }

  it("keeps writing when the server cuts its connections", async () => {
    const { ledger, url } = await freshLedger("cut");
    for (let i = 0; i < 300; i++) ledger.writer.write(action(i));
    await ledger.writer.flush();
    const admin = new pg.Client(url);
    await admin.connect();
    await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'nightshift'",
    );
    await admin.end();
    for (let i = 300; i < 600; i++) ledger.writer.write(action(i));
    expect(await waitForCount(url, 600)).toBe(600);
    await ledger.close();
  });

  it("holds writes while the server is down and commits them when it is back", async () => {
    const errors: unknown[] = [];
    const { ledger, url } = await freshLedger("down", errors);
    await cluster.pause();
    for (let i = 0; i < 250; i++) ledger.writer.write(action(i));
    for (let tries = 0; tries < 400 && errors.length === 0; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(errors.length).toBeGreaterThan(0);
    expect(ledger.writer.pending).toBe(250);
    await cluster.resume();
    expect(await waitForCount(url, 250)).toBe(250);
    expect(ledger.writer.pending).toBe(0);
    await ledger.close();
  }, 60_000);

  it("keeps in the local SQLite file what an unreachable server could not take at shutdown", async () => {
    const { ledger } = await freshLedger("shutdown");
    const local = Ledger.open(join(temp.home, "local.db"));
    const lines: string[] = [];
    await cluster.pause();
    const ids = Array.from({ length: 40 }, (_, i) => ledger.writer.write(action(i)).id);
    await closeSharedLedger(ledger, local, (line) => lines.push(line));
    await cluster.resume();
    expect(ids.filter((id) => !local.actions.get(id))).toEqual([]);
    expect(lines.join("\n")).toMatch(/40 actions not written to the PostgreSQL ledger .* kept in /);
    local.close();
  }, 60_000);

  it("writes a batch once when part of it is already in (a retry after a lost acknowledgement)", async () => {
    const errors: unknown[] = [];
    const { ledger, url } = await freshLedger("half_committed", errors);
    const batch = Array.from({ length: 10 }, (_, i) =>
      completeAction(action(i, { flags: i % 2 ? ["odd"] : [] })),
    );
    // The first four already landed, as when the server committed but its reply was lost.
    await insertActions(ledger.pool, batch.slice(0, 4));
    for (const a of batch) ledger.writer.write(a);
    await ledger.writer.flush();
    expect(await waitForCount(url, 10)).toBe(10);
    const flags = await ledger.pool.query("SELECT count(*)::int AS n FROM action_flags");
    expect(flags.rows[0].n).toBe(5);
    expect(errors).toEqual([]);
    await ledger.close();
  });

  it("sets aside only the rows the server refuses, and commits the rest", async () => {
    const rejected: Action[] = [];
    const { ledger, url } = await freshLedger("refused", [], rejected);
    for (let i = 0; i < 10; i++) {
      // A count that is not a whole number: int8 refuses it, and would refuse it on every retry.
      ledger.writer.write(action(i, i === 4 ? { tokensIn: 1.5 } : {}));
    }
    expect(await waitForCount(url, 9)).toBe(9);
    expect(rejected.map((a) => a.startedAt)).toEqual([T0 + 4]);
    await ledger.close();
  });
});
