import { join } from "node:path";
import { afterAll, describe } from "vitest";
import { Ledger } from "../../src/ledger/ledger.js";
import { PostgresActionLedger } from "../../src/ledger/postgres/action-ledger.js";
import { SqliteActionLedger } from "../../src/ledger/sqlite/action-ledger.js";
import { createTestDatabase, postgresUrl } from "../support/postgres-db.js";
import { tempHome } from "../support/temp-ledger.js";
import { schedulerContract } from "./scheduler-cases.js";

const home = tempHome();
afterAll(() => home.cleanup());

describe("the scheduler store on SQLite (two connections to one file)", () => {
  schedulerContract(async () => {
    const path = join(home.home, "scheduler.db");
    const a = new SqliteActionLedger(Ledger.open(path));
    const b = new SqliteActionLedger(Ledger.open(path));
    return {
      a: a.scheduler,
      b: b.scheduler,
      close: async () => {
        await a.close();
        await b.close();
      },
    };
  });
});

describe.skipIf(postgresUrl === null)(
  "the scheduler store on PostgreSQL (two pools: two machines)",
  () => {
    schedulerContract(async () => {
      const url = await createTestDatabase("scheduler");
      // Opened together, as two daemons starting at once: the migrations take turns.
      const [a, b] = await Promise.all([
        PostgresActionLedger.open(url),
        PostgresActionLedger.open(url),
      ]);
      return {
        a: a.scheduler,
        b: b.scheduler,
        close: async () => {
          await a.close();
          await b.close();
        },
      };
    });
  },
);
