import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Ledger } from "../../src/ledger/ledger.js";
import { PostgresActionLedger } from "../../src/ledger/postgres/action-ledger.js";
import { SqliteActionLedger } from "../../src/ledger/sqlite/action-ledger.js";
import type { LedgerStores } from "../../src/ledger/stores/index.js";
import { createTestDatabase, postgresUrl } from "../support/postgres-db.js";
import { tempHome } from "../support/temp-ledger.js";

/** A data dir whose config selects one engine, and that engine's ledger opened as the CLI would. */
export interface MonitorHome {
  home: string;
  stores: LedgerStores;
  cleanup(): Promise<void>;
}

export interface MonitorTestEngine {
  name: "SQLite" | "PostgreSQL";
  available: boolean;
  /** A fresh data dir with an empty monitor history (on PostgreSQL: a host of its own). */
  open(): Promise<MonitorHome>;
}

let database: Promise<string> | undefined;

/**
 * The engines the monitor's end-to-end tests run on. On PostgreSQL every home shares the file's
 * one database under a host name of its own (monitor.host in its nightshift.yaml), which is how
 * several machines share a ledger; the CLI run in that home reads and writes that host's rows.
 */
export const MONITOR_ENGINES: MonitorTestEngine[] = [
  {
    name: "SQLite",
    available: true,
    async open() {
      const { home, cleanup } = tempHome();
      const ledger = Ledger.open(join(home, "nightshift.db"), { flushIntervalMs: 5 });
      return {
        home,
        stores: new SqliteActionLedger(ledger),
        async cleanup() {
          ledger.close();
          cleanup();
        },
      };
    },
  },
  {
    name: "PostgreSQL",
    available: postgresUrl !== null,
    async open() {
      database ??= createTestDatabase("monitor_e2e", { migrated: true });
      const url = await database;
      const host = `box-${randomBytes(4).toString("hex")}`;
      const { home, cleanup } = tempHome();
      writeFileSync(
        join(home, "nightshift.yaml"),
        `ledger:\n  url: ${JSON.stringify(url)}\nmonitor:\n  host: ${host}\n`,
      );
      const stores = await PostgresActionLedger.open(url, { monitorHost: host, poolSize: 2 });
      return {
        home,
        stores,
        async cleanup() {
          await stores.close();
          cleanup();
        },
      };
    },
  },
];
