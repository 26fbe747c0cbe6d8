import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";

/** The run's PostgreSQL cluster (test/support/postgres-setup.ts), or null where none is installed. */
export const postgresUrl: string | null = inject("postgresUrl");

/** Why PostgreSQL tests are skipped here; CI never skips them (postgres-setup fails instead). */
export const POSTGRES_SKIP = "PostgreSQL not installed (initdb/pg_ctl); see .ci/postgres.sh";

export interface TestDatabaseOptions {
  /**
   * A copy of the run's migrated template (every migration applied, no rows) instead of an empty
   * database: for tests that open a ledger on it, which would migrate it anyway. Tests of the
   * migrations themselves leave it off.
   */
  migrated?: boolean;
}

/** A fresh database on the run's cluster, empty unless `migrated`; returns its URL. */
export async function createTestDatabase(
  label: string,
  options: TestDatabaseOptions = {},
): Promise<string> {
  if (!postgresUrl) throw new Error(POSTGRES_SKIP);
  const name = `ns_${label.replace(/\W/g, "_")}_${randomBytes(4).toString("hex")}`.toLowerCase();
  const template = options.migrated ? inject("postgresTemplate") : null;
  const admin = new pg.Client(postgresUrl);
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ""}`);
  } finally {
    await admin.end();
  }
  const url = new URL(postgresUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
