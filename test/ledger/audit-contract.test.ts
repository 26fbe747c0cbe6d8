import { join } from "node:path";
import { afterAll, describe } from "vitest";
import { Ledger } from "../../src/ledger/ledger.js";
import { PostgresActionLedger } from "../../src/ledger/postgres/action-ledger.js";
import { SqliteActionLedger } from "../../src/ledger/sqlite/action-ledger.js";
import { createTestDatabase, POSTGRES_SKIP, postgresUrl } from "../support/postgres-db.js";
import { tempHome } from "../support/temp-ledger.js";
import { auditStoreContract } from "./audit-cases.js";

const home = tempHome();
afterAll(() => home.cleanup());

describe("the audit store on SQLite (two connections to one file)", () => {
  auditStoreContract(async () => {
    const path = join(home.home, "audit-contract.db");
    const a = new SqliteActionLedger(Ledger.open(path, { flushIntervalMs: 5 }));
    const b = new SqliteActionLedger(Ledger.open(path, { flushIntervalMs: 5 }));
    return {
      a,
      b,
      close: async () => {
        await a.close();
        await b.close();
      },
    };
  });
});

describe.skipIf(postgresUrl === null)(
  `the audit store on PostgreSQL (two pools, as two machines)${postgresUrl ? "" : ` — ${POSTGRES_SKIP}`}`,
  () => {
    auditStoreContract(async () => {
      const url = await createTestDatabase("audit_contract");
      const a = await PostgresActionLedger.open(url, { flushIntervalMs: 5 });
      const b = await PostgresActionLedger.open(url, { flushIntervalMs: 5 });
      return {
        a,
        b,
        close: async () => {
          await a.close();
          await b.close();
        },
      };
    });
  },
);
