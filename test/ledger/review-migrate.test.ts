import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Ledger } from "../../src/ledger/ledger.js";
import { PostgresActionLedger } from "../../src/ledger/postgres/action-ledger.js";
import { copySqliteTables } from "../../src/ledger/postgres/copy-tables.js";
import { SqliteActionLedger } from "../../src/ledger/sqlite/action-ledger.js";
import { createTestDatabase, postgresUrl } from "../support/postgres-db.js";
import { tempHome } from "../support/temp-ledger.js";

const T0 = Date.parse("2026-03-02T08:00:00Z");

// `ledger migrate --to` carries the review queue and feedback over with their ids, and says
// which review table it cannot carry (a delivery's correction lives in the audit's table there).
describe.skipIf(postgresUrl === null)("ledger migrate: the review domain's tables", () => {
  const temp = tempHome();
  afterAll(() => temp.cleanup());

  it("copies review items and feedback so the PostgreSQL queue reads them back the same", async () => {
    const sqlite = new SqliteActionLedger(
      Ledger.open(join(temp.home, "nightshift.db"), { flushIntervalMs: 5 }),
    );
    const items = sqlite.review.items;
    const opened = [];
    for (const title of ["one", "two", "three"]) {
      opened.push(
        (
          await items.open(
            { kind: "other", agent: "finance", title, openedBy: "t", proposed: { t: title } },
            T0,
          )
        ).item,
      );
    }
    await items.recordDecision({
      id: opened[1]!.id,
      status: "edited",
      decidedBy: "ann",
      decidedAt: T0 + 5,
      decisionOutput: { t: "2" },
      decisionReason: "typo",
      appliedNote: "applied",
    });
    const [action] = await sqlite.actions.insert([
      { agent: "finance", actionType: "stage", startedAt: T0, status: "ok" },
    ]);
    const feedback = await sqlite.review.feedback.add({
      actionId: action!.id,
      createdAt: T0,
      givenBy: "ann",
      confidence: 0.4,
      flags: ["requires_audit"],
      reasoning: null,
      scores: { thumbs: 0 },
    });
    await sqlite.review.deliveries.enqueue(
      {
        correctionId: "review-2",
        agent: "mailer",
        actionId: action!.id,
        source: "person",
        runId: null,
        original: "a",
        corrected: "b",
        reasoning: null,
        reviewerModel: null,
        confidenceAfter: null,
      },
      T0,
    );

    const url = await createTestDatabase("review_migrate");
    const pg = await PostgresActionLedger.open(url, { flushIntervalMs: 5 });
    try {
      const results = await copySqliteTables({
        db: sqlite.ledger.db,
        source: "test",
        pool: pg.pool,
      });
      const byTable = Object.fromEntries(results.map((r) => [r.table, r]));
      expect(byTable.review_items).toMatchObject({ copied: 3, verified: 3 });
      expect(byTable.review_items!.skipped).toBeUndefined();
      expect(byTable.action_feedback).toMatchObject({ copied: 1 });
      // Read through SQLite's join with corrections (see migrate-tables.test.ts for pending ones).
      expect(byTable.correction_deliveries!.skipped).toBeUndefined();
      expect(byTable.correction_deliveries!.verified).toBe(byTable.correction_deliveries!.total);
      for (const item of opened) {
        expect(await pg.review.items.get(item.id)).toEqual(await items.get(item.id));
      }
      expect(await pg.review.feedback.forAction(action!.id)).toEqual([feedback]);
      // New items continue after the copied ids.
      const next = await pg.review.items.open(
        { kind: "other", agent: "finance", title: "four", openedBy: "t" },
        T0,
      );
      expect(next.item.id).toBeGreaterThan(opened[2]!.id);
    } finally {
      await pg.close();
      await sqlite.close();
    }
  }, 60_000);
});
