import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe } from "vitest";
import { Ledger } from "../../src/ledger/ledger.js";
import { PostgresActionLedger } from "../../src/ledger/postgres/action-ledger.js";
import { SqliteActionLedger } from "../../src/ledger/sqlite/action-ledger.js";
import { createTestDatabase, postgresUrl } from "../support/postgres-db.js";
import { tempHome } from "../support/temp-ledger.js";
import { monitorContract } from "./monitor-cases.js";

const home = tempHome();
afterAll(() => home.cleanup());

describe("the monitor store on SQLite", () => {
  let n = 0;
  monitorContract({
    open: async () =>
      new SqliteActionLedger(Ledger.open(join(home.home, `monitor-${++n}.db`)), true, {
        monitorHost: "gpu-box",
      }),
  });
});

describe.skipIf(postgresUrl === null)("the monitor store on PostgreSQL", () => {
  let url: string;
  beforeAll(async () => {
    url = await createTestDatabase("monitor", { migrated: true });
  });
  // A fresh host per case keeps the cases apart in one database; each ledger is its own pool.
  const host = () => `box-${randomBytes(4).toString("hex")}`;
  monitorContract({
    open: () => PostgresActionLedger.open(url, { monitorHost: host(), poolSize: 2 }),
    openMachines: async () => [
      await PostgresActionLedger.open(url, { monitorHost: host(), poolSize: 2 }),
      await PostgresActionLedger.open(url, { monitorHost: host(), poolSize: 2 }),
    ],
  });
});
