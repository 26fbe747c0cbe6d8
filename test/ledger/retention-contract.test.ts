import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { NightshiftError } from "../../src/errors.js";
import type { AuditStatus } from "../../src/ledger/actions.js";
import { Ledger } from "../../src/ledger/ledger.js";
import { PostgresActionLedger } from "../../src/ledger/postgres/action-ledger.js";
import { PRUNE_LOCK } from "../../src/ledger/postgres/retention.js";
import { SqliteActionLedger } from "../../src/ledger/sqlite/action-ledger.js";
import type { PruneSession } from "../../src/ledger/stores/index.js";
import { pruneLedger } from "../../src/retention/prune.js";
import { chatAction, NOW } from "../retention/seed.js";
import { createTestDatabase, postgresUrl } from "../support/postgres-db.js";
import { tempHome } from "../support/temp-ledger.js";
import { describeRetention, type RetentionFixture } from "./retention-cases.js";

const home = tempHome();
afterAll(() => home.cleanup());
let files = 0;

describeRetention("retention, dashboard and metrics on SQLite", true, async () => {
  const path = join(home.home, `retention-${++files}.db`);
  const ledger = Ledger.open(path, { flushIntervalMs: 5 });
  const others: Ledger[] = [];
  return {
    stores: new SqliteActionLedger(ledger),
    setAuditStatus: async (ids: string[], status: AuditStatus) =>
      ledger.actions.setAuditStatus(ids, status),
    row: async (id: string) =>
      ledger.db.prepare("SELECT * FROM actions WHERE id = ?").get(id) as
        | Record<string, unknown>
        | undefined,
    openOther: async () => {
      const other = Ledger.open(path, { flushIntervalMs: 5 });
      others.push(other);
      return new SqliteActionLedger(other);
    },
    close: async () => {
      for (const other of others) if (other.db.open) other.close();
      ledger.close();
    },
  } satisfies RetentionFixture;
});

async function openPostgres(url: string): Promise<RetentionFixture> {
  const stores = await PostgresActionLedger.open(url, { flushIntervalMs: 5 });
  return {
    stores,
    setAuditStatus: async (ids, status) => {
      await stores.pool.query("UPDATE actions SET audit_status = $1 WHERE id = ANY($2)", [
        status,
        ids,
      ]);
    },
    row: async (id) =>
      (await stores.pool.query("SELECT * FROM actions WHERE id = $1", [id])).rows[0],
    openOther: () => PostgresActionLedger.open(url, { flushIntervalMs: 5 }),
    close: () => stores.close(),
  };
}

describeRetention(
  "retention, dashboard and metrics on PostgreSQL",
  postgresUrl !== null,
  async () => openPostgres(await createTestDatabase("retention", { migrated: true })),
);

describe.skipIf(postgresUrl === null)("retention across PostgreSQL daemons", () => {
  const retention = { detailed_days: 14, aggregate_after_days: 90, every_days: 7 as const };

  it("refuses --vacuum full before moving anything", async () => {
    const f = await openPostgres(await createTestDatabase("retention_full", { migrated: true }));
    try {
      const [action] = await f.stores.actions.insert([chatAction({ ageDays: 30, status: null })]);
      await f.setAuditStatus([action!.id], "verified");
      const prune = pruneLedger(f.stores.retention, { retention, now: NOW, vacuum: "full" });
      await expect(prune).rejects.toThrow(NightshiftError);
      await expect(prune).rejects.toThrow(/VACUUM FULL would/);
      expect((await f.row(action!.id))!.tier).toBe("detailed");
      expect(await f.stores.retention.runs()).toEqual([]);
    } finally {
      await f.close();
    }
  });

  it("a prune waits while another daemon's prune runs, and marks the run of a daemon that died interrupted", async () => {
    const url = await createTestDatabase("retention_lock", { migrated: true });
    const f = await openPostgres(url);
    const dying = await PostgresActionLedger.open(url);
    let held: PruneSession | null = null;
    try {
      const [action] = await f.stores.actions.insert([chatAction({ ageDays: 30, status: null })]);
      await f.setAuditStatus([action!.id], "verified");
      // The other daemon holds the prune lock, records its run, and dies without finishing it.
      held = await dying.retention.openSession({ vacuum: "never" });
      await dying.retention.startRun("run-of-the-dead", "job", NOW, 0);
      const waits: string[] = [];
      let stop = false;
      const blocked = await pruneLedger(f.stores.retention, {
        retention,
        now: NOW,
        onWarning: (line) => {
          waits.push(line);
          stop = true;
        },
        shouldStop: () => stop,
      });
      expect(blocked).toMatchObject({ status: "paused", compressed: 0, run_id: null });
      expect(waits).toEqual([
        expect.stringMatching(
          /waiting for another prune to finish \(run run-of-the-dead, pid \d+ on /,
        ),
      ]);
      expect((await f.row(action!.id))!.tier).toBe("detailed");
      expect(held).not.toBeNull();
      // The other daemon's machine goes away: its connection ends, and its lock with it.
      await (f.stores as PostgresActionLedger).pool.query(
        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1",
        [PRUNE_LOCK],
      );
      const report = await pruneLedger(f.stores.retention, { retention, now: NOW });
      expect(report).toMatchObject({ status: "done", compressed: 1 });
      expect((await f.stores.retention.run("run-of-the-dead"))!.status).toBe("interrupted");
      expect(report.vacuum).toMatchObject({ mode: "plain" });
      expect(report.vacuum!.tables!.map((t) => t.name)).toEqual([
        "actions",
        "action_flags",
        "action_aggregates",
      ]);
    } finally {
      await f.close();
      await held?.close();
      await dying.close();
    }
  });
});
