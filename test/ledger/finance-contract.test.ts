import { join } from "node:path";
import { afterAll, describe } from "vitest";
import { Ledger } from "../../src/ledger/ledger.js";
import { PostgresActionLedger } from "../../src/ledger/postgres/action-ledger.js";
import { SqliteActionLedger } from "../../src/ledger/sqlite/action-ledger.js";
import { createTestDatabase, postgresUrl } from "../support/postgres-db.js";
import { tempHome } from "../support/temp-ledger.js";
import { financeStoreContract } from "./finance-cases.js";

const home = tempHome();
afterAll(() => home.cleanup());

describe("the finance store on SQLite", () => {
  financeStoreContract(async () => {
    const file = join(home.home, "finance.db");
    return {
      first: new SqliteActionLedger(Ledger.open(file)),
      second: new SqliteActionLedger(Ledger.open(file)),
    };
  }, "sqlite");
});

describe.skipIf(postgresUrl === null)("the finance store on PostgreSQL", () => {
  financeStoreContract(async () => {
    const url = await createTestDatabase("finance", { migrated: true });
    return {
      first: await PostgresActionLedger.open(url),
      second: await PostgresActionLedger.open(url),
    };
  }, "postgres");
});
