import { maskUrl, openPool } from "./pool.js";

export interface PostgresLedgerInfo {
  /** Whether the ledger's tables exist in that database yet (a daemon creates them on start). */
  exists: boolean;
  size_bytes: number | null;
  actions: number | null;
  error: string | null;
}

/** What `nightshift status` says of a PostgreSQL ledger; reads only, never migrates. */
export async function inspectPostgresLedger(url: string): Promise<PostgresLedgerInfo> {
  // As quick to give up as status's upstream probes: a status must not hang on a dead server.
  const pool = openPool(url, { max: 1, connectTimeoutMs: 3000 });
  try {
    const { rows } = await pool.query<{ present: boolean; size: number }>(
      "SELECT to_regclass('actions') IS NOT NULL AS present, pg_database_size(current_database()) AS size",
    );
    const present = rows[0]?.present === true;
    const size = rows[0] ? Number(rows[0].size) : null;
    if (!present) return { exists: false, size_bytes: size, actions: null, error: null };
    const count = await pool.query<{ n: number }>("SELECT count(*) AS n FROM actions");
    return { exists: true, size_bytes: size, actions: Number(count.rows[0]?.n ?? 0), error: null };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { exists: false, size_bytes: null, actions: null, error: `${maskUrl(url)}: ${detail}` };
  } finally {
    await pool.end();
  }
}
