import { join } from "node:path";
import { afterAll } from "vitest";
import { Ledger } from "../../src/ledger/ledger.js";
import { PostgresActionLedger } from "../../src/ledger/postgres/action-ledger.js";
import { SqliteActionLedger } from "../../src/ledger/sqlite/action-ledger.js";
import { createTestDatabase, postgresUrl } from "../support/postgres-db.js";
import { tempHome } from "../support/temp-ledger.js";
import { describeEngine } from "./action-ledger-cases.js";

const home = tempHome();
afterAll(() => home.cleanup());

describeEngine("the action log on SQLite", true, async () => {
  const ledger = Ledger.open(join(home.home, "contract.db"), { flushIntervalMs: 5 });
  return new SqliteActionLedger(ledger);
});

describeEngine("the action log on PostgreSQL", postgresUrl !== null, async () =>
  PostgresActionLedger.open(await createTestDatabase("contract", { migrated: true }), {
    flushIntervalMs: 5,
  }),
);
