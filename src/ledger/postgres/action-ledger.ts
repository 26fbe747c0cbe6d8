import type pg from "pg";
import type { LedgerStores } from "../stores/index.js";
import { monitorHostName } from "../stores/monitor.js";
import { PostgresActionReads } from "./action-reads.js";
import { PostgresAuditStore } from "./audit.js";
import { PostgresDashboardReads } from "./dashboard.js";
import { PostgresFinanceStore } from "./finance.js";
import { PostgresKnowledgeStore } from "./knowledge.js";
import { PostgresMetricsReads } from "./metrics.js";
import { migratePostgres } from "./migrate.js";
import { PostgresMonitorStore } from "./monitor.js";
import { connectionError, maskUrl, openPool } from "./pool.js";
import { PostgresRetentionStore } from "./retention.js";
import { PostgresReviewStores } from "./review-stores.js";
import { PostgresSchedulerStore } from "./scheduler.js";
import { PostgresActionWriter, type PostgresWriterOptions } from "./writer.js";

export interface PostgresLedgerOptions extends PostgresWriterOptions {
  /** Told about errors on idle connections; the pool replaces the connection. */
  onPoolError?: (error: Error) => void;
  poolSize?: number;
  /** The machine whose monitor history `monitor` is: monitor.host, else this machine's hostname. */
  monitorHost?: string | undefined;
}

/** The action log on a PostgreSQL server that several daemons may share. */
export class PostgresActionLedger implements LedgerStores {
  readonly engine = "postgres" as const;
  readonly location: string;
  readonly actions: PostgresActionReads;
  readonly writer: PostgresActionWriter;
  readonly knowledge: PostgresKnowledgeStore;
  readonly review: PostgresReviewStores;
  readonly monitor: PostgresMonitorStore;
  readonly scheduler: PostgresSchedulerStore;
  readonly retention: PostgresRetentionStore;
  readonly dashboard: PostgresDashboardReads;
  readonly metrics: PostgresMetricsReads;
  readonly finance: PostgresFinanceStore;
  readonly audit: PostgresAuditStore;

  private constructor(
    readonly pool: pg.Pool,
    url: string,
    options: PostgresLedgerOptions,
  ) {
    this.location = maskUrl(url);
    this.actions = new PostgresActionReads(pool);
    this.writer = new PostgresActionWriter(pool, options);
    this.knowledge = new PostgresKnowledgeStore(pool);
    this.review = new PostgresReviewStores(pool);
    this.monitor = new PostgresMonitorStore(pool, monitorHostName(options.monitorHost));
    this.scheduler = new PostgresSchedulerStore(pool);
    this.retention = new PostgresRetentionStore(pool);
    this.dashboard = new PostgresDashboardReads(pool);
    this.metrics = new PostgresMetricsReads(pool);
    this.finance = new PostgresFinanceStore(pool);
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
