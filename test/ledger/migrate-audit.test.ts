import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Ledger } from "../../src/ledger/ledger.js";
import { PostgresActionLedger } from "../../src/ledger/postgres/action-ledger.js";
import { copySqliteLedger } from "../../src/ledger/postgres/copy-from-sqlite.js";
import { copySqliteTables } from "../../src/ledger/postgres/copy-tables.js";
import { sqliteStoresOf } from "../../src/ledger/sqlite/stores-of.js";
import { seedAuditRun } from "../support/audit-seed.js";
import { createTestDatabase, POSTGRES_SKIP, postgresUrl } from "../support/postgres-db.js";
import { tempHome } from "../support/temp-ledger.js";

const NOW = Date.parse("2026-03-10T03:00:00Z");

describe.skipIf(postgresUrl === null)(
  `ledger migrate carries the audit to PostgreSQL${postgresUrl ? "" : ` — ${POSTGRES_SKIP}`}`,
  () => {
    const home = tempHome();
    afterAll(() => home.cleanup());

    it("copies runs, items and corrections, which the PostgreSQL audit store then reads", async () => {
      const path = join(home.home, "nightshift.db");
      const ledger = Ledger.open(path);
      const actions = ledger.actions.insert(
        [0, 1].map((i) => ({
          agent: "finance",
          actionType: "categorize",
          startedAt: NOW - 3_600_000 + i,
          status: "ok" as const,
        })),
      );
      const item = (i: number, verdict: "correct" | "incorrect") => ({
        actionId: actions[i]!.id,
        agent: "finance",
        startedAt: actions[i]!.startedAt,
        confidenceBefore: 0.6,
        verdict,
        corrected: { category: "Coffee" },
      });
      const runId = await seedAuditRun(ledger, NOW, [item(0, "incorrect"), item(1, "correct")]);
      const before = await sqliteStoresOf(ledger).audit.getRun(runId);
      ledger.close();

      const target = await PostgresActionLedger.open(await createTestDatabase("migrate_audit"));
      try {
        const db = Ledger.open(path);
        await copySqliteLedger({ db: db.db, source: path, pool: target.pool });
        const results = await copySqliteTables({ db: db.db, source: path, pool: target.pool });
        db.close();
        const copied = Object.fromEntries(results.map((r) => [r.table, [r.copied, r.skipped]]));
        expect(copied).toMatchObject({
          audit_runs: [1, undefined],
          audit_items: [2, undefined],
          corrections: [1, undefined],
        });
        expect(await target.audit.getRun(runId)).toEqual(before);
        expect((await target.audit.runItems(runId)).map((i) => i.verdict)).toEqual([
          "incorrect",
          "correct",
        ]);
        expect(await target.audit.actionCorrections(actions[0]!.id)).toHaveLength(1);
        expect((await target.actions.get(actions[0]!.id))?.auditStatus).toBe("corrected");
      } finally {
        await target.close();
      }
    });
  },
);
