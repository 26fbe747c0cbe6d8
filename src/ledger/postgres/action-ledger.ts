import type pg from "pg";
import type { LedgerStores } from "../stores/index.js";
import { PostgresActionReads } from "./action-reads.js";
import { PostgresAuditStore } from "./audit.js";
import { migratePostgres } from "./migrate.js";
import { connectionError, maskUrl, openPool } from "./pool.js";
import { PostgresActionWriter, type PostgresWriterOptions } from "./writer.js";

export interface PostgresLedgerOptions extends PostgresWriterOptions {
  /** Told about errors on idle connections; the pool replaces the connection. */
  onPoolError?: (error: Error) => void;
  poolSize?: number;
}

/** The action log on a PostgreSQL server that several daemons may share. */
export class PostgresActionLedger implements LedgerStores {
  readonly engine = "postgres" as const;
  readonly location: string;
  readonly actions: PostgresActionReads;
  readonly writer: PostgresActionWriter;
  readonly audit: PostgresAuditStore;

  private constructor(
    readonly pool: pg.Pool,
    url: string,
    options: PostgresLedgerOptions,
  ) {
    this.location = maskUrl(url);
    this.actions = new PostgresActionReads(pool);
    this.writer = new PostgresActionWriter(pool, options);
    this.audit = new PostgresAuditStore(pool);
  }

  /** Connects and brings the schema up to date (once, whichever daemon starts first). */
  static async open(
    url: string,
    options: PostgresLedgerOptions = {},
  ): Promise<PostgresActionLedger> {
    const pool = openPool(url, {
      ...(options.poolSize !== undefined ? { max: options.poolSize } : {}),
      ...(options.onPoolError ? { onError: options.onPoolError } : {}),
    });
    try {
      await migratePostgres(pool);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw connectionError(url, error);
    }
    return new PostgresActionLedger(pool, url, options);
  }

  /** Commits what the writer holds, then closes the connections (even if that commit failed). */
  async close(): Promise<void> {
    try {
      await this.writer.close();
    } finally {
      await this.pool.end();
    }
  }
}
