import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { Ledger } from "../src/ledger/ledger.js";
import { PostgresActionLedger } from "../src/ledger/postgres/action-ledger.js";
import { copySqliteLedger } from "../src/ledger/postgres/copy-from-sqlite.js";
import { migratePostgres } from "../src/ledger/postgres/migrate.js";
import { openPool } from "../src/ledger/postgres/pool.js";
import { SqliteActionLedger } from "../src/ledger/sqlite/action-ledger.js";
import type { ActionLedger } from "../src/ledger/stores/index.js";
import { findPostgresBin, type PostgresCluster, startPostgres } from "../test/support/postgres.js";
import { freshDatabase } from "./fresh-database.js";
import { sampleAction } from "./sample-action.js";

/**
 * The two ledger engines side by side, in one run on one machine: ingest through each engine's
 * batched writer (goals: SQLite ≥ 20,000 actions/s, PostgreSQL ≥ 10,000), then `ledger migrate`
 * of a 1,000,000-action SQLite ledger into PostgreSQL (copy, then verification by sha256).
 * PostgreSQL runs with its own durable defaults (fsync, synchronous commit) on a cluster made for
 * the run, or on NIGHTSHIFT_BENCH_PG_URL (a database it may fill).
 */

const INGEST = Number(process.env.BENCH_INGEST_ACTIONS ?? 100_000);
const MIGRATE = Number(process.env.BENCH_MIGRATE_ACTIONS ?? 1_000_000);
const ROUNDS = 2;

const home = mkdtempSync(join(tmpdir(), "nightshift-engines-"));
let cluster: PostgresCluster | undefined;
const out = (line: string) => process.stdout.write(`${line}\n`);

async function ingest(ledger: ActionLedger): Promise<{ rate: number; cpuRate: number }> {
  const base = Date.now();
  const inputs = Array.from({ length: INGEST }, (_, i) => sampleAction(i, base + i));
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (const input of inputs) ledger.writer.write(input);
  await ledger.writer.flush();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const count = await ledger.actions.count({ since: base });
  if (count !== INGEST)
    throw new Error(`${ledger.engine}: expected ${INGEST} rows, found ${count}`);
  return { rate: INGEST / seconds, cpuRate: INGEST / ((cpu.user + cpu.system) / 1e6) };
}

async function ingestSideBySide(admin: string): Promise<void> {
  for (let round = 1; round <= ROUNDS; round++) {
    const sqlite = new SqliteActionLedger(
      Ledger.open(join(home, `ingest-${round}.db`), { flushIntervalMs: 50, batchSize: 512 }),
    );
    const lite = await ingest(sqlite);
    await sqlite.close();
    const postgres = await PostgresActionLedger.open(
      await freshDatabase(admin, `ingest_${round}`),
      {
        flushIntervalMs: 50,
        batchSize: 512,
      },
    );
    const pgRate = await ingest(postgres);
    await postgres.close();
    out(
      `round ${round}: SQLite ${Math.round(lite.rate)} actions/s (goal 20000), PostgreSQL ${Math.round(pgRate.rate)} actions/s (goal 10000)` +
        ` [nightshift's own CPU: ${Math.round(lite.cpuRate)} and ${Math.round(pgRate.cpuRate)} per CPU-second]`,
    );
    out(
      JSON.stringify({
        bench: "ledger-engines-ingest",
        round,
        actions: INGEST,
        sqlite_actions_per_s: Math.round(lite.rate),
        postgres_actions_per_s: Math.round(pgRate.rate),
      }),
    );
  }
}

function buildSqliteLedger(path: string): Ledger {
  const ledger = Ledger.open(path);
  const base = Date.parse("2026-06-01T00:00:00Z");
  for (let i = 0; i < MIGRATE; i += 5000) {
    const n = Math.min(5000, MIGRATE - i);
    ledger.actions.insert(
      Array.from({ length: n }, (_, k) => sampleAction(i + k, base + (i + k) * 10)),
    );
  }
  return ledger;
}

async function migrateMillion(admin: string): Promise<void> {
  const t0 = performance.now();
  const path = join(home, "migrate.db");
  const ledger = buildSqliteLedger(path);
  out(
    `generated a ${MIGRATE}-action SQLite ledger (${(ledger.sizeBytes() / 2 ** 20).toFixed(0)} MiB) in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
  );
  const pool = openPool(await freshDatabase(admin, "migrate"), { max: 2 });
  try {
    await migratePostgres(pool);
    let verifyStart = 0;
    const started = performance.now();
    const result = await copySqliteLedger({
      db: ledger.db,
      source: path,
      pool,
      onProgress: (p) => {
        if (p.phase === "verify" && verifyStart === 0) verifyStart = performance.now();
      },
    });
    const total = (performance.now() - started) / 1000;
    const verifySeconds = (performance.now() - verifyStart) / 1000;
    out(
      `ledger migrate: ${result.copied} actions copied in ${result.copySeconds.toFixed(1)} s (${Math.round(result.copyRate)}/s), ` +
        `verified in ${verifySeconds.toFixed(1)} s (${Math.round(result.verified / verifySeconds)}/s); ${total.toFixed(1)} s in all, ${Math.round(result.verified / total)} actions/s end to end`,
    );
    out(
      JSON.stringify({
        bench: "ledger-migrate",
        actions: result.verified,
        copy_per_s: Math.round(result.copyRate),
        verify_per_s: Math.round(result.verified / verifySeconds),
        end_to_end_per_s: Math.round(result.verified / total),
      }),
    );
  } finally {
    await pool.end();
    ledger.close();
  }
}

try {
  let admin = process.env.NIGHTSHIFT_BENCH_PG_URL;
  if (!admin) {
    const bin = findPostgresBin();
    if (!bin)
      throw new Error(
        "PostgreSQL is not installed (see .ci/postgres.sh), and NIGHTSHIFT_BENCH_PG_URL is not set",
      );
    cluster = await startPostgres(bin, true);
    admin = cluster.url;
  }
  out(
    `ledger engines (${cpus().length} cores, ${cpus()[0]?.model ?? "?"}, node ${process.version}), ${INGEST} actions of ~2.6 KB per ingest`,
  );
  await ingestSideBySide(admin);
  if (MIGRATE > 0) await migrateMillion(admin);
} finally {
  await cluster?.stop();
  rmSync(home, { recursive: true, force: true });
}
