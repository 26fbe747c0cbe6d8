/**
 * The ledger as capabilities see it, whatever the engine: SQLite (ledger/sqlite/, the embedded
 * default) or PostgreSQL (ledger/postgres/, several daemons sharing one ledger). One file per
 * domain describes what its capability needs, in the ledger's own vocabulary; every method that
 * touches the store is async so a network engine fits behind it. Engine mechanics (checkpoints,
 * vacuum, full-text syntax, locks) stay inside the engine folders.
 *
 * `LedgerStores` is the whole ledger of one engine, opened: what the composition root hands out.
 * Each engine's class (SqliteActionLedger, PostgresActionLedger) implements it; one contract suite
 * (test/ledger/*-cases.ts) runs against both.
 */
import type { ActionLedger } from "./actions.js";
import type { AuditStore } from "./audit.js";
import type { DashboardReads, MetricsReads } from "./dashboard.js";
import type { FinanceStore } from "./finance.js";
import type { KnowledgeStore } from "./knowledge.js";
import type { MonitorStore } from "./monitor.js";
import type { RetentionStore } from "./retention.js";
import type { ReviewStores } from "./review.js";
import type { SchedulerStore } from "./scheduler.js";

export * from "./actions.js";
export * from "./audit.js";
export * from "./dashboard.js";
export * from "./finance.js";
export * from "./knowledge.js";
export * from "./monitor.js";
export * from "./retention.js";
export * from "./review.js";
export * from "./scheduler.js";

export interface LedgerStores extends ActionLedger {
  readonly audit: AuditStore;
  readonly dashboard: DashboardReads;
  readonly metrics: MetricsReads;
  readonly finance: FinanceStore;
  readonly knowledge: KnowledgeStore;
  readonly monitor: MonitorStore;
  readonly retention: RetentionStore;
  readonly review: ReviewStores;
  readonly scheduler: SchedulerStore;
}
