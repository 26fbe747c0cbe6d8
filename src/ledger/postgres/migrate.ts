import { fileURLToPath } from "node:url";
import type pg from "pg";
import { NightshiftError } from "../../errors.js";
import { loadMigrations, type Migration } from "../db.js";

// src/ledger/postgres (tsx) and dist/ledger/postgres (built) are three levels below the package
// root; the SQL files ship in src/ledger/postgres/migrations either way.
const MIGRATIONS_DIR = fileURLToPath(
  new URL("../../../src/ledger/postgres/migrations/", import.meta.url),
);

/**
 * One key for nightshift's schema changes, so two daemons starting at once against one database
 * take turns: the second waits, then finds the migrations recorded and applies nothing.
 */
const MIGRATION_LOCK = 0x6e_73_6d_67; // "nsmg"

export function postgresMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return loadMigrations(dir);
}

/** Applies each migration not yet recorded, in order, each in its own transaction. */
export async function migratePostgres(
  pool: pg.Pool,
  migrations = postgresMigrations(),
): Promise<number[]> {
  const client = await pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    try {
      return await applyPending(client, migrations);
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
}

async function applyPending(client: pg.PoolClient, migrations: Migration[]): Promise<number[]> {
  await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`);
  const { rows } = await client.query<{ version: number }>("SELECT version FROM schema_migrations");
  const applied = new Set(rows.map((r) => Number(r.version)));
  const done: number[] = [];
  for (const migration of migrations) {
    if (applied.has(migration.version)) continue;
    await client.query("BEGIN");
    try {
      await client.query(migration.sql);
      await client.query(
        `INSERT INTO schema_migrations (version, name, applied_at)
         VALUES ($1, $2, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)`,
        [migration.version, migration.name],
      );
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK");
      const file = `${String(migration.version).padStart(4, "0")}-${migration.name}.sql`;
      throw new NightshiftError(
        `PostgreSQL migration ${file} failed: ${(error as Error).message}`,
        { status: 500, code: "ledger", cause: error },
      );
    }
    done.push(migration.version);
  }
  return done;
}
