import { afterAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { KnowledgeBase } from "../../src/knowledge/kb.js";
import { PostgresActionLedger } from "../../src/ledger/postgres/action-ledger.js";
import { copySqliteTables } from "../../src/ledger/postgres/copy-tables.js";
import { sqliteKnowledgeStore } from "../../src/ledger/sqlite/knowledge.js";
import { createTestDatabase, postgresUrl } from "../support/postgres-db.js";
import { tempLedger } from "../support/temp-ledger.js";

const person = { kind: "person" as const, ref: "ann" };
const run = { kind: "audit_run" as const, ref: "run-1" };

describe.skipIf(postgresUrl === null)("ledger migrate of a knowledge base", () => {
  const temp = tempLedger();
  afterAll(() => temp.cleanup());

  it("reads back the same entries, versions and vectors on PostgreSQL, and goes on from there", async () => {
    const lite = new KnowledgeBase(sqliteKnowledgeStore(temp.ledger), { clock: new ManualClock() });
    const rule = { match: "is", field: "payee", value: "SHELL", category: "fuel" };
    await lite.put(
      { scope: "finance", key: "payee:shell", content: "Shell is Fuel", data: rule },
      person,
    );
    await lite.put({ scope: "finance", key: "payee:shell", content: "Shell is Travel" }, run);
    await lite.put({ scope: "shared", key: "home", content: "The user lives in Lisbon" }, run);
    await lite.remove("shared", "home", person);
    await lite.rollback("finance", "payee:shell", 1, person);
    const store = sqliteKnowledgeStore(temp.ledger);
    const shell = (await store.current("finance", "payee:shell"))!;
    await store.setEmbedding(shell.id, shell.content, Float32Array.from([0.5, -1, 2]), "m");

    const url = await createTestDatabase("kb_migrate");
    const shared = await PostgresActionLedger.open(url);
    try {
      const results = await copySqliteTables({
        db: temp.ledger.db,
        source: temp.ledger.path,
        pool: shared.pool,
      });
      for (const table of ["kb_versions", "kb_entries"]) {
        const copied = results.find((r) => r.table === table);
        expect(copied?.skipped).toBeUndefined();
        expect(copied?.verified).toBe(table === "kb_versions" ? 5 : 2);
      }
      const gres = new KnowledgeBase(shared.knowledge, { clock: new ManualClock() });
      for (const [scope, key] of [
        ["finance", "payee:shell"],
        ["shared", "home"],
      ] as const) {
        expect(await gres.history(scope, key)).toEqual(await lite.history(scope, key));
      }
      expect(await gres.list({ includeDeleted: true })).toEqual(
        await lite.list({ includeDeleted: true }),
      );
      expect(
        (await gres.searchText({ text: "shell fuel" })).map((h) => [h.key, h.version]),
      ).toEqual([["payee:shell", 3]]);
      expect(await gres.searchText({ text: "Lisbon" })).toEqual([]);
      const copied = (await shared.knowledge.current("finance", "payee:shell"))!;
      expect(Array.from(copied.embedding!)).toEqual([0.5, -1, 2]);
      // The sequences moved past the copied ids: new entries and versions write as usual.
      await gres.put({ scope: "shared", key: "tz", content: "Europe/Lisbon" }, person);
      expect((await gres.revertRun("run-1", person)).skipped).toHaveLength(2);
      expect(
        (await gres.put({ scope: "finance", key: "payee:shell", content: "Shell: Fuel" }, person))
          .version,
      ).toBe(4);
    } finally {
      await shared.close();
    }
  });
});
