import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KnowledgeBase } from "../../src/knowledge/kb.js";
import { Ledger } from "../../src/ledger/ledger.js";
import { PostgresActionLedger } from "../../src/ledger/postgres/action-ledger.js";
import { SqliteActionLedger } from "../../src/ledger/sqlite/action-ledger.js";
import type { LedgerStores } from "../../src/ledger/stores/index.js";
import { ReviewQueue } from "../../src/review/queue.js";
import { runCliInProcess } from "../support/cli-in-process.js";
import { createTestDatabase, postgresUrl } from "../support/postgres-db.js";
import { tempHome } from "../support/temp-ledger.js";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The engines the kb commands run on: SQLite (the default) and PostgreSQL by NIGHTSHIFT_LEDGER_URL. */
const engines = [
  { engine: "SQLite", database: async (): Promise<string | undefined> => undefined },
  ...(postgresUrl
    ? [{ engine: "PostgreSQL", database: () => createTestDatabase("kb_cli", { migrated: true }) }]
    : []),
];

// Each command runs through the CLI's own entry (runProgram), in this process.
describe.each(engines)("kb commands on $engine", { timeout: 180_000 }, ({ database }) => {
  let home: string;
  let url: string | undefined;
  let cleanup: () => void;

  beforeEach(async () => {
    ({ home, cleanup } = tempHome());
    url = await database();
  });
  afterEach(() => cleanup());

  const run = (...args: string[]): Promise<Run> =>
    runCliInProcess(home, args, { NIGHTSHIFT_LEDGER_URL: url }) as Promise<Run>;

  /** The ledger the commands use, opened in the test itself (as another daemon would). */
  const openLedger = async (): Promise<LedgerStores> =>
    url
      ? PostgresActionLedger.open(url)
      : new SqliteActionLedger(Ledger.open(join(home, "nightshift.db")));

  it("imports a YAML file, searches it, and rolls an entry back with history kept", async () => {
    const file = join(home, "rules.yaml");
    writeFileSync(
      file,
      [
        "- scope: finance",
        "  key: payee:starbucks",
        "  content: STARBUCKS purchases are Coffee",
        "  data: {match: contains, field: payee, value: STARBUCKS, category: Coffee, stage: pre}",
        "- key: timezone",
        "  content: The user lives in Lisbon",
      ].join("\n"),
    );
    expect((await run("kb", "import", file)).stdout).toMatch(
      /imported 2 entries .* \(0 unchanged\)/,
    );
    await run(
      "kb",
      "put",
      "payee:starbucks",
      "--scope",
      "finance",
      "--content",
      "Dining",
      "--by",
      "ann",
    );
    const search = JSON.parse((await run("kb", "search", "starbucks", "--json")).stdout);
    expect(search.hits.map((h: { key: string }) => h.key)).toEqual(["payee:starbucks"]);

    expect(
      (await run("kb", "rollback", "payee:starbucks", "--to", "1", "--by", "bob")).stdout,
    ).toBe("finance/payee:starbucks rolled back to v1 as v3\n");
    const history = JSON.parse((await run("kb", "history", "payee:starbucks", "--json")).stdout);
    expect(history.map((v: { provenance: { kind: string } }) => v.provenance.kind)).toEqual([
      "import",
      "person",
      "person",
    ]);
    const shown = JSON.parse((await run("kb", "show", "payee:starbucks", "--json")).stdout);
    expect(shown).toMatchObject({
      version: 3,
      content: "STARBUCKS purchases are Coffee",
      note: "rollback to v1",
    });
    expect(shown.data.category).toBe("Coffee");
  });

  it("refuses a malformed import file, naming the line, and imports nothing", async () => {
    const file = join(home, "bad.ndjson");
    writeFileSync(file, '{"key":"a","content":"fine"}\n{"key":"b"}\n');
    const result = await run("kb", "import", file);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/bad\.ndjson:2: content: /);
    expect((await run("kb", "list")).stdout).toBe("no knowledge entries\n");
  });

  it("undoes an audit run's writes with revert-run", async () => {
    const ledger = await openLedger();
    const kb = new KnowledgeBase(ledger.knowledge);
    await kb.put(
      { scope: "finance", key: "k", content: "by person" },
      { kind: "person", ref: "ann" },
    );
    await kb.put(
      { scope: "finance", key: "k", content: "by run" },
      { kind: "audit_run", ref: "run-7" },
    );
    await ledger.close();
    const result = await run("kb", "revert-run", "run-7");
    expect(result.stdout).toMatch(
      /reverted 1 entry written by audit run run-7\n {2}finance\/k: v2 → v3/,
    );
    expect((await run("kb", "show", "k")).stdout).toMatch(/by person/);
    const unknown = await run("kb", "revert-run", "nosuchrun");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(
      "nightshift: no such run nosuchrun; `nightshift audit list` shows the audit runs\n",
    );
  });

  it("keeps an entry's rule when put changes only its text, and removes it with --data null", async () => {
    const rule = '{"match":"contains","field":"payee","value":"ACME","category":"tools"}';
    await run("kb", "put", "payee:acme", "--scope", "finance", "--content", "a", "--data", rule);
    const reworded = await run("kb", "put", "payee:acme", "--scope", "finance", "--content", "b");
    expect(reworded.stdout).toBe(
      "finance/payee:acme is at v2 (data kept from the previous version; --data null removes it)\n",
    );
    const shown = JSON.parse((await run("kb", "show", "payee:acme", "--json")).stdout);
    expect(shown).toMatchObject({ version: 2, content: "b", data: JSON.parse(rule) });
    await run("kb", "put", "payee:acme", "--scope", "finance", "--content", "c", "--data", "null");
    const cleared = JSON.parse((await run("kb", "show", "payee:acme", "--json")).stdout);
    expect(cleared).toMatchObject({ version: 3, content: "c", data: null });
  });
});

describe("review commands", { timeout: 180_000 }, () => {
  let home: string;
  let cleanup: () => void;

  beforeEach(() => {
    ({ home, cleanup } = tempHome());
  });
  afterEach(() => cleanup());

  const run = (...args: string[]): Promise<Run> =>
    runCliInProcess(home, args, { NIGHTSHIFT_LEDGER_URL: undefined }) as Promise<Run>;

  it("decides a review item once and explains a second attempt and bad JSON", async () => {
    const ledger = Ledger.open(join(home, "nightshift.db"));
    await new ReviewQueue(new SqliteActionLedger(ledger, false)).open({
      kind: "audit_unsure",
      agent: "finance",
      title: "STARBUCKS: Dining or Coffee?",
      original: { category: "Dining" },
      proposed: { category: "Coffee" },
      openedBy: "audit:r1",
    });
    ledger.close();
    expect((await run("review")).stdout).toMatch(/^ 1 +audit_unsure +finance +open +STARBUCKS/m);
    const bad = await run("review", "edit", "1", "--output", "{category: Coffee");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--output is not valid JSON/);
    const edited = await run(
      "review",
      "edit",
      "1",
      "--output",
      '{"category":"Snacks"}',
      "--by",
      "ann",
      "--json",
    );
    expect(JSON.parse(edited.stdout)).toMatchObject({ status: "edited", decided_by: "ann" });
    const again = await run("review", "accept", "1");
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/review item 1 was already edited by ann .*; a decision is final/);
    expect((await run("review")).stdout).toBe("no open review items\n");
  });
});
