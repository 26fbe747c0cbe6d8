import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Ledger } from "../../src/ledger/ledger.js";
import { PostgresActionLedger } from "../../src/ledger/postgres/action-ledger.js";
import { toTsQuery } from "../../src/ledger/postgres/knowledge-sql.js";
import { toFtsQuery } from "../../src/ledger/sqlite/fts-query.js";
import { SqliteKnowledgeStore } from "../../src/ledger/sqlite/knowledge.js";
import { createTestDatabase, POSTGRES_SKIP, postgresUrl } from "../support/postgres-db.js";
import { tempHome } from "../support/temp-ledger.js";
import { knowledgeContract } from "./knowledge-cases.js";

const home = tempHome();
const closing: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const close of closing.reverse()) await close();
  home.cleanup();
});

describe("the knowledge base on SQLite", () => {
  knowledgeContract(async () => {
    const path = join(home.home, "knowledge.db");
    const ledger = Ledger.open(path);
    closing.push(() => ledger.close());
    return {
      store: new SqliteKnowledgeStore(ledger.db),
      reset: async () => {
        ledger.db.exec("DELETE FROM kb_versions; DELETE FROM kb_entries;");
      },
      // Another process on the same file: its own connection and statements.
      other: async () => {
        const second = Ledger.open(path);
        return { store: new SqliteKnowledgeStore(second.db), close: async () => second.close() };
      },
    };
  });

  it("turns any text into a safe FTS5 query of its words", () => {
    expect(toFtsQuery('NEAR(a b) "x* ^y')).toBe('"near" OR "a" OR "b" OR "x" OR "y"');
    expect(toFtsQuery('"*()^:')).toBeUndefined();
  });
});

describe.skipIf(postgresUrl === null)(
  `the knowledge base on PostgreSQL${postgresUrl ? "" : ` (${POSTGRES_SKIP})`}`,
  () => {
    knowledgeContract(async () => {
      const url = await createTestDatabase("knowledge", { migrated: true });
      const ledger = await PostgresActionLedger.open(url);
      closing.push(() => ledger.close());
      return {
        store: ledger.knowledge,
        reset: async () => {
          await ledger.pool.query("TRUNCATE kb_versions, kb_entries RESTART IDENTITY");
        },
        // Another daemon: its own pool of connections to the same database.
        other: async () => {
          const second = await PostgresActionLedger.open(url);
          return { store: second.knowledge, close: () => second.close() };
        },
      };
    });

    it("turns any text into a safe tsquery of its words", () => {
      expect(toTsQuery("it's a & b | !c <-> d:*")).toBe("'it' | 's' | 'a' | 'b' | 'c' | 'd'");
      expect(toTsQuery("&|!()")).toBeUndefined();
    });
  },
);
