import pg from "pg";
import type { TestProject } from "vitest/node";
import { migratePostgres } from "../../src/ledger/postgres/migrate.js";
import { findPostgresBin, startPostgres } from "./postgres.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The test cluster's superuser URL, or null where PostgreSQL is not installed (never in CI). */
    postgresUrl: string | null;
    /** A database on that cluster with every migration applied, to copy (postgres-db.ts). */
    postgresTemplate: string | null;
  }
}

/** The migrated database that `createTestDatabase(label, { migrated: true })` copies. */
const TEMPLATE = "ns_template_migrated";

/**
 * Migrates one database once per run: copying it (CREATE DATABASE … TEMPLATE) costs about half
 * of creating an empty one and applying every migration in it, which most test files did per
 * test. Tests of the migrations themselves still get empty databases.
 */
async function createMigratedTemplate(url: string): Promise<string> {
  const admin = new pg.Client(url);
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${TEMPLATE}`);
  } finally {
    await admin.end();
  }
  const target = new URL(url);
  target.pathname = `/${TEMPLATE}`;
  const pool = new pg.Pool({ connectionString: target.toString(), max: 1 });
  try {
    await migratePostgres(pool);
  } finally {
    await pool.end();
  }
  return TEMPLATE;
}

/**
 * vitest globalSetup: one PostgreSQL cluster for the whole run, each test file making its own
 * database on it (see test/support/postgres-db.ts). In CI a missing PostgreSQL is a failure, not
 * a skip: .ci/postgres.sh installs it.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const bin = findPostgresBin();
  if (!bin) {
    if (process.env.CI) {
      throw new Error("PostgreSQL (initdb, pg_ctl) is not installed; run .ci/postgres.sh");
    }
    process.stderr.write(
      "PostgreSQL tests skipped: initdb/pg_ctl not found (apt-get install postgresql, or set PG_BIN)\n",
    );
    project.provide("postgresUrl", null);
    project.provide("postgresTemplate", null);
    return async () => {};
  }
  const cluster = await startPostgres(bin);
  try {
    project.provide("postgresTemplate", await createMigratedTemplate(cluster.url));
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  project.provide("postgresUrl", cluster.url);
  return () => cluster.stop();
}
