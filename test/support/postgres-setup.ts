import type { TestProject } from "vitest/node";
import { findPostgresBin, startPostgres } from "./postgres.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The test cluster's superuser URL, or null where PostgreSQL is not installed (never in CI). */
    postgresUrl: string | null;
  }
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
    return async () => {};
  }
  const cluster = await startPostgres(bin);
  project.provide("postgresUrl", cluster.url);
  return () => cluster.stop();
}
