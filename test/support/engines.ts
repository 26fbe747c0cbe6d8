import { join } from "node:path";
import { Ledger } from "../../src/ledger/ledger.js";
import { PostgresActionLedger } from "../../src/ledger/postgres/action-ledger.js";
import { SqliteActionLedger } from "../../src/ledger/sqlite/action-ledger.js";
import type { LedgerStores } from "../../src/ledger/stores/index.js";
import { createTestDatabase, postgresUrl } from "./postgres-db.js";
import { tempHome } from "./temp-ledger.js";

/** A ledger engine a test runs on: SQLite in a temp file, or a fresh PostgreSQL database. */
export interface TestEngine {
  name: "SQLite" | "PostgreSQL";
  /** False where PostgreSQL is not installed here (never in CI, where its absence fails). */
  available: boolean;
  /**
   * Opens a fresh, empty ledger; `close` closes it and removes what it made. SQLite: the file
   * nightshift.db in `home` when given (where the CLI and the daemon look), else in a temp dir.
   */
  open(
    label: string,
    home?: string,
  ): Promise<{ stores: LedgerStores; url: string | null; close(): Promise<void> }>;
}

export const ENGINES: TestEngine[] = [
  {
    name: "SQLite",
    available: true,
    async open(_label, home) {
      const temp = home ? null : tempHome();
      const path = join(home ?? temp!.home, "nightshift.db");
      const stores = new SqliteActionLedger(Ledger.open(path, { flushIntervalMs: 5 }));
      return {
        stores,
        url: null,
        close: async () => {
          await stores.close();
          temp?.cleanup();
        },
      };
    },
  },
  {
    name: "PostgreSQL",
    available: postgresUrl !== null,
    async open(label) {
      const url = await createTestDatabase(label, { migrated: true });
      const stores = await PostgresActionLedger.open(url, { flushIntervalMs: 5 });
      return { stores, url, close: () => stores.close() };
    },
  },
];
