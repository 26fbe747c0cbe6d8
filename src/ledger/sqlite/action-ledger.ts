import type { Action, NewAction } from "../actions.js";
import type { Ledger } from "../ledger.js";
import type { ActionAppender, LedgerStores } from "../stores/index.js";
import { monitorHostName } from "../stores/monitor.js";
import type { ActionWriter } from "../writer.js";
import { SqliteActionReads } from "./action-reads.js";
import { SqliteAuditStore } from "./audit.js";
import { SqliteDashboardReads } from "./dashboard.js";
import { SqliteFinanceStore } from "./finance.js";
import { type SqliteKnowledgeStore, sqliteKnowledgeStore } from "./knowledge.js";
import { SqliteMetricsReads } from "./metrics.js";
import { SqliteMonitorStore } from "./monitor.js";
import { SqliteRetentionStore } from "./retention.js";
import { SqliteReviewStores } from "./review-stores.js";
import { SqliteSchedulerStore } from "./scheduler.js";

/** The SQLite ActionWriter behind the async appender seam; `write` is the writer's own call. */
export class SqliteActionAppender implements ActionAppender {
  constructor(private readonly writer: ActionWriter) {}

  get pending(): number {
    return this.writer.pending;
  }

  write(action: NewAction): Action {
    return this.writer.write(action);
  }

  async flush(): Promise<number> {
    return this.writer.flush();
  }

  async close(): Promise<void> {
    this.writer.close();
  }
}

/** The action log of a SQLite `Ledger` as an ActionLedger; closing it closes the ledger. */
export class SqliteActionLedger implements LedgerStores {
  readonly engine = "sqlite" as const;
  readonly location: string;
  readonly actions: SqliteActionReads;
  readonly writer: SqliteActionAppender;
  readonly knowledge: SqliteKnowledgeStore;
  readonly review: SqliteReviewStores;
  readonly monitor: SqliteMonitorStore;
  readonly scheduler: SqliteSchedulerStore;
  readonly retention: SqliteRetentionStore;
  readonly dashboard: SqliteDashboardReads;
  readonly metrics: SqliteMetricsReads;
  readonly finance: SqliteFinanceStore;
  readonly audit: SqliteAuditStore;

  constructor(
    readonly ledger: Ledger,
    private readonly owned = true,
    options: { monitorHost?: string | undefined } = {},
  ) {
    this.location = ledger.path;
    this.actions = new SqliteActionReads(ledger.actions);
    this.writer = new SqliteActionAppender(ledger.writer);
    this.knowledge = sqliteKnowledgeStore(ledger);
    this.review = new SqliteReviewStores(ledger);
    this.monitor = new SqliteMonitorStore(ledger.db, monitorHostName(options.monitorHost));
    this.scheduler = new SqliteSchedulerStore(ledger.db);
    this.retention = new SqliteRetentionStore(ledger);
    this.dashboard = new SqliteDashboardReads(ledger.db);
    this.metrics = new SqliteMetricsReads(ledger.db, ledger.path);
    this.finance = new SqliteFinanceStore(ledger.db);
    this.audit = new SqliteAuditStore(ledger.db);
  }

  async close(): Promise<void> {
    if (this.owned) this.ledger.close();
    else this.ledger.writer.flush();
  }
}
