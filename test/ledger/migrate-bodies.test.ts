import { createHash } from "node:crypto";
import {
  existsSync,
  readFileSync,
  realpathSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Ledger } from "../../src/ledger/ledger.js";
import { PostgresActionLedger } from "../../src/ledger/postgres/action-ledger.js";
import { copySqliteLedger } from "../../src/ledger/postgres/copy-from-sqlite.js";
import { runCliInProcess } from "../support/cli-in-process.js";
import { createTestDatabase, postgresUrl } from "../support/postgres-db.js";
import { tempHome } from "../support/temp-ledger.js";

const T0 = Date.parse("2026-02-01T00:00:00Z");
const sha = (text: string) => createHash("sha256").update(text).digest("hex");

// Bodies over ledger.inline_body_bytes live in files beside a SQLite ledger; PostgreSQL keeps
// every body in its row (a path means nothing on another host), so migrate reads them in.
describe.skipIf(postgresUrl === null)("ledger migrate: bodies kept in files", () => {
  const temp = tempHome();
  const path = join(temp.home, "nightshift.db");
  const image = (i: number) => ({ images: [`${"iVBORw0KGgo".repeat(300)}${i}`], prompt: `p${i}` });
  let ids: string[];
  let target: PostgresActionLedger;
  beforeAll(async () => {
    const ledger = Ledger.open(path, { inlineBodyBytes: 1024 });
    const written = ledger.actions.insert(
      Array.from({ length: 6 }, (_, i) => ({
        agent: "vision",
        actionType: "generate",
        startedAt: T0 + i,
        status: "ok" as const,
        request: image(i),
        response: i === 2 ? { text: "x".repeat(2000) } : { text: "small" },
      })),
    );
    ids = written.map((a) => a.id);
    ledger.close();
    target = await PostgresActionLedger.open(await createTestDatabase("migrate_bodies"));
  });
  afterAll(async () => {
    await target?.close();
    temp.cleanup();
  });

  const file = (body: unknown) => {
    const hash = sha(JSON.stringify(body));
    return join(`${path}.bodies`, hash.slice(0, 2), `${hash}.json`);
  };
  const copy = async (pool: pg.Pool) => {
    const ledger = Ledger.open(path, { readonly: true });
    try {
      return await copySqliteLedger({ db: ledger.db, source: path, pool, batchSize: 4 });
    } finally {
      ledger.close();
    }
  };

  it("inlines each body file after checking its sha256, and names a missing or altered one", async () => {
    expect(existsSync(file(image(1)))).toBe(true);
    renameSync(file(image(1)), `${file(image(1))}.away`);
    const altered = readFileSync(file(image(4)), "utf8").replace("p4", "p5");
    writeFileSync(`${file(image(4))}.good`, readFileSync(file(image(4))));
    writeFileSync(file(image(4)), altered);

    const result = await copy(target.pool);
    expect(result).toMatchObject({ total: 6, verified: 4 });
    expect(result.bodyProblems).toEqual([
      {
        actionId: ids[1],
        column: "request",
        path: file(image(1)),
        why: "the body file is missing",
      },
      expect.objectContaining({ actionId: ids[4], column: "request", path: file(image(4)) }),
    ]);
    expect(result.bodyProblems[1]!.why).toMatch(/sha256 is [0-9a-f]{64} .* expects/);
    expect(await target.actions.get(ids[1]!)).toBeUndefined();
    expect(await target.actions.get(ids[4]!)).toBeUndefined();

    // Self-contained: the column holds the body itself, and reads back as the agent sent it.
    const { rows } = await target.pool.query<{ request: string; response: string }>(
      "SELECT request, response FROM actions WHERE id = $1",
      [ids[2]],
    );
    expect(rows[0]!.request).toBe(JSON.stringify(image(2)));
    expect(rows[0]!.response).toBe(JSON.stringify({ text: "x".repeat(2000) }));
    expect((await target.actions.get(ids[0]!))?.request).toEqual(image(0));
    const refs = await target.pool.query(
      `SELECT count(*)::int AS n FROM actions WHERE request LIKE '{"$nightshift_body"%'`,
    );
    expect(refs.rows[0].n).toBe(0);
  });

  it("copies the rows left out once their files are back, then verifies all of them", async () => {
    renameSync(`${file(image(1))}.away`, file(image(1)));
    writeFileSync(file(image(4)), readFileSync(`${file(image(4))}.good`));
    unlinkSync(`${file(image(4))}.good`);
    const result = await copy(target.pool);
    expect(result).toMatchObject({ total: 6, verified: 6, repaired: 2, bodyProblems: [] });
    expect((await target.actions.get(ids[4]!))?.request).toEqual(image(4));
  });

  it("`nightshift ledger migrate` names the action and file it could not copy, and exits 1", async () => {
    const missing = file(image(3));
    renameSync(missing, `${missing}.away`);
    try {
      const url = await createTestDatabase("migrate_bodies_cli");
      const run = await runCliInProcess(temp.home, ["ledger", "migrate", "--to", url, "--json"]);
      expect(run.code).toBe(1);
      const where = join(realpathSync(`${path}.bodies`), missing.slice(`${path}.bodies`.length));
      expect(run.stderr).toContain(
        `nightshift: 1 action(s) not copied because their body file is missing or corrupt: action ${ids[3]} request: ${where} (the body file is missing). Restore the files and run the same command again to copy them.`,
      );
      const result = JSON.parse(run.stdout);
      expect(result).toMatchObject({ total: 6, verified: 5 });
      expect(result.body_problems).toEqual([
        { action_id: ids[3], column: "request", path: where, problem: "the body file is missing" },
      ]);
    } finally {
      renameSync(`${missing}.away`, missing);
    }
  });
});
