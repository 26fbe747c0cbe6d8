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

export * from "./actions.js";
export * from "./audit.js";

export interface LedgerStores extends ActionLedger {
  readonly audit: AuditStore;
}
