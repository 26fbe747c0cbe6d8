import { join } from "node:path";
import pg from "pg";
import { afterAll, describe } from "vitest";
import { Ledger } from "../../src/ledger/ledger.js";
import { PostgresActionLedger } from "../../src/ledger/postgres/action-ledger.js";
import { SqliteActionLedger } from "../../src/ledger/sqlite/action-ledger.js";
import { createTestDatabase, POSTGRES_SKIP, postgresUrl } from "../support/postgres-db.js";
import { tempHome } from "../support/temp-ledger.js";
import { reviewContract } from "./review-cases.js";

const home = tempHome();
afterAll(() => home.cleanup());

describe("the review stores on SQLite (two connections to one file)", () => {
  reviewContract(async () => {
    const path = join(home.home, "review.db");
    const a = new SqliteActionLedger(Ledger.open(path, { flushIntervalMs: 5 }));
    const b = new SqliteActionLedger(Ledger.open(path, { flushIntervalMs: 5 }));
    return {
      a,
      b,
      async setAuditStatus(id, status) {
        a.ledger.actions.setAuditStatus([id], status as never);
      },
      async close() {
        await a.close();
        await b.close();
      },
    };
  });
});

describe.skipIf(postgresUrl === null)(
  `the review stores on PostgreSQL (two pools, as two daemons)${postgresUrl ? "" : `: ${POSTGRES_SKIP}`}`,
  () => {
    reviewContract(async () => {
      const url = await createTestDatabase("review_contract", { migrated: true });
      const a = await PostgresActionLedger.open(url, { flushIntervalMs: 5 });
      const b = await PostgresActionLedger.open(url, { flushIntervalMs: 5 });
      const admin = new pg.Pool({ connectionString: url, max: 1 });
      return {
        a,
        b,
        async setAuditStatus(id, status) {
          await admin.query("UPDATE actions SET audit_status = $1 WHERE id = $2", [status, id]);
        },
        async close() {
          await admin.end();
          await a.close();
          await b.close();
        },
      };
    });
  },
);
