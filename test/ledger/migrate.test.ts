import { join } from "node:path";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Ledger } from "../../src/ledger/ledger.js";
import { copySqliteLedger } from "../../src/ledger/postgres/copy-from-sqlite.js";
import { migratePostgres } from "../../src/ledger/postgres/migrate.js";
import { openPool } from "../../src/ledger/postgres/pool.js";
import { runCliInProcess } from "../support/cli-in-process.js";
import { createTestDatabase, postgresUrl } from "../support/postgres-db.js";
import { tempHome } from "../support/temp-ledger.js";

const T0 = Date.parse("2026-02-01T00:00:00Z");

/** A SQLite ledger with `n` actions: bodies, flags, audit states, a compressed tier, a NUL. */
function fillLedger(path: string, n: number): Ledger {
  const ledger = Ledger.open(path);
  const actions = Array.from({ length: n }, (_, i) => ({
    agent: `agent-${i % 4}`,
    actionType: "chat",
    startedAt: T0 + i * 7,
    status: i % 9 === 0 ? ("error" as const) : ("ok" as const),
    model: i === 5 ? "nul\u0000model" : "qwen2.5:7b",
    latencyMs: i / 3,
    request: { messages: [{ role: "user", content: `question ${i} ✓` }] },
    response: { message: { content: `answer ${i}` } },
    flags: i % 10 === 0 ? ["low_confidence", "needs_review"] : [],
    tokensIn: i,
    meta: { n: i },
  }));
  const written = ledger.actions.insert(actions);
  ledger.actions.setAuditStatus(
    written.filter((_, i) => i % 3 === 0).map((a) => a.id),
    "verified",
  );
  ledger.db
    .prepare("UPDATE actions SET tier = 'compressed', request = NULL WHERE rowid % 50 = 1")
    .run();
  return ledger;
}

describe.skipIf(postgresUrl === null)("nightshift ledger migrate --to postgres://", () => {
  const temp = tempHome();
  const path = join(temp.home, "nightshift.db");
  let ledger: Ledger;
  let url: string;
  let pool: pg.Pool;
  beforeAll(async () => {
    ledger = fillLedger(path, 2500);
    url = await createTestDatabase("migrate");
    pool = openPool(url);
    await migratePostgres(pool);
  });
  afterAll(async () => {
    await pool?.end();
    ledger?.close();
    temp.cleanup();
  });

  it("resumes an interrupted copy after its last batch and verifies every action", async () => {
    let batches = 0;
    await expect(
      copySqliteLedger({
        db: ledger.db,
        source: path,
        pool,
        batchSize: 400,
        onProgress: (p) => {
          if (p.phase === "copy" && ++batches === 3) throw new Error("interrupted");
        },
      }),
    ).rejects.toThrow("interrupted");
    const partial = await pool.query("SELECT count(*)::int AS n FROM actions");
    expect(partial.rows[0].n).toBe(1200);

    const result = await copySqliteLedger({ db: ledger.db, source: path, pool, batchSize: 400 });
    expect(result).toMatchObject({ total: 2500, resumedFrom: 1200, copied: 1300, verified: 2500 });
    expect(result.digest).toMatch(/^[0-9a-f]{64}$/);
    const flags = await pool.query("SELECT count(*)::int AS n FROM action_flags");
    expect(flags.rows[0].n).toBe(500);
    const audited = await pool.query(
      "SELECT count(*)::int AS n FROM actions WHERE audit_status = 'verified'",
    );
    expect(audited.rows[0].n).toBe(834);
  });

  it("copies actions written below the checkpoint after a copy, and refuses to hide a difference", async () => {
    ledger.actions.insert([
      {
        id: "00000000-0000-7000-8000-000000000001",
        agent: "late",
        actionType: "chat",
        startedAt: T0,
        status: "ok",
      },
    ]);
    const again = await copySqliteLedger({ db: ledger.db, source: path, pool, batchSize: 400 });
    expect(again).toMatchObject({ copied: 0, repaired: 1, verified: 2501 });

    await pool.query(
      "UPDATE actions SET agent = 'tampered' WHERE id = (SELECT max(id) FROM actions)",
    );
    await expect(
      copySqliteLedger({ db: ledger.db, source: path, pool, batchSize: 400 }),
    ).rejects.toThrow(/verification failed: 0 actions missing and 1 different/);
  });

  it("runs from the command line with progress, a summary and a masked password", async () => {
    const target = new URL(await createTestDatabase("migrate_cli"));
    target.password = "hunter2-secret";
    const result = await runCliInProcess(temp.home, [
      "ledger",
      "migrate",
      "--to",
      target.toString(),
    ]);
    expect(result.stderr).toMatch(/^copy: 2501 of 2501 actions \(100\.0%, \d+\/s\)$/m);
    expect(result.stderr).toMatch(/^verify: 2501 of 2501 actions/m);
    expect(result.stdout).toMatch(/^copied 2501 actions to postgres:\/\/nightshift:\*\*\*@/);
    expect(result.stdout).toMatch(
      /^verified 2501 of 2501 actions: sha256 [0-9a-f]{64} on both sides$/m,
    );
    expect(result.stdout + result.stderr).not.toContain("hunter2");
    expect(result.code).toBe(0);

    const bad = await runCliInProcess(temp.home, ["ledger", "migrate", "--to", "mysql://x@y/z"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      "nightshift: --to: mysql://x@y/z is not a PostgreSQL URL; it must start with postgres://\n",
    );
  }, 120_000);
});
