import { join } from "node:path";
import { Ledger } from "../../src/ledger/ledger.js";
import { PostgresActionLedger } from "../../src/ledger/postgres/action-ledger.js";
import { SqliteActionLedger } from "../../src/ledger/sqlite/action-ledger.js";
import type { LedgerStores } from "../../src/ledger/stores/index.js";
import { createTestDatabase, postgresUrl } from "./postgres-db.js";
import { tempHome } from "./temp-ledger.js";

/** One engine for tests that run the same cases on both: a fresh, opened ledger per call. */
export interface TestEngine {
  name: "sqlite" | "postgres";
  /** False where PostgreSQL is not installed (CI never skips it; see postgres-setup.ts). */
  available: boolean;
  /** A fresh ledger; `close` closes it and removes what it left behind. */
  open(label: string): Promise<{ stores: LedgerStores; url?: string; close(): Promise<void> }>;
}

export const testEngines: TestEngine[] = [
  {
    name: "sqlite",
    available: true,
    async open() {
      const { home, cleanup } = tempHome();
      const stores = new SqliteActionLedger(
        Ledger.open(join(home, "nightshift.db"), { flushIntervalMs: 5 }),
      );
      return {
        stores,
        async close() {
          await stores.close();
          cleanup();
        },
      };
    },
  },
  {
    name: "postgres",
    available: postgresUrl !== null,
    async open(label) {
      const url = await createTestDatabase(label);
      const stores = await PostgresActionLedger.open(url, { flushIntervalMs: 5 });
      return { stores, url, close: () => stores.close() };
    },
  },
];
