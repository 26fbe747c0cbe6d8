import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";

/** The run's PostgreSQL cluster (test/support/postgres-setup.ts), or null where none is installed. */
export const postgresUrl: string | null = inject("postgresUrl");

/** Why PostgreSQL tests are skipped here; CI never skips them (postgres-setup fails instead). */
export const POSTGRES_SKIP = "PostgreSQL not installed (initdb/pg_ctl); see .ci/postgres.sh";

/** A fresh, empty database on the run's cluster; returns its URL. */
export async function createTestDatabase(label: string): Promise<string> {
  if (!postgresUrl) throw new Error(POSTGRES_SKIP);
  const name = `ns_${label.replace(/\W/g, "_")}_${randomBytes(4).toString("hex")}`.toLowerCase();
  const admin = new pg.Client(postgresUrl);
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(postgresUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
