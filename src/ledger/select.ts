import { Ledger } from "./ledger.js";
import type { PostgresLedgerOptions } from "./postgres/action-ledger.js";
import type { LedgerSelection } from "./selection.js";
import { SqliteActionLedger } from "./sqlite/action-ledger.js";
import type { LedgerStores } from "./stores/index.js";

// Here for their many importers; selection.ts loads no store (CLI start-up).
export { type LedgerSelection, selectLedger } from "./selection.js";

export interface OpenActionLedgerOptions extends PostgresLedgerOptions {
  /** The SQLite ledger already open, when the caller has one (it stays the caller's). */
  sqlite?: Ledger;
}

/** The stores over a SQLite ledger someone else opened (and closes). */
export function sqliteStores(ledger: Ledger): LedgerStores {
  return new SqliteActionLedger(ledger, false);
}

/** Opens the action log of the selected engine. */
export async function openActionLedger(
  selection: LedgerSelection,
  options: OpenActionLedgerOptions = {},
): Promise<LedgerStores> {
  if (selection.engine === "postgres" && selection.url) {
    // Loaded only when selected: the pg client is not part of every command's start-up.
    const { PostgresActionLedger } = await import("./postgres/action-ledger.js");
    return PostgresActionLedger.open(selection.url, options);
  }
  const monitor = { monitorHost: options.monitorHost };
  if (options.sqlite) return new SqliteActionLedger(options.sqlite, false, monitor);
  return new SqliteActionLedger(
    Ledger.open(selection.path, {
      ...(options.flushIntervalMs !== undefined
        ? { flushIntervalMs: options.flushIntervalMs }
        : {}),
      ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    }),
    true,
    monitor,
  );
}
