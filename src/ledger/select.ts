import { Ledger } from "./ledger.js";
import type { PostgresLedgerOptions } from "./postgres/action-ledger.js";
import { maskUrl } from "./postgres/url.js";
import { SqliteActionLedger } from "./sqlite/action-ledger.js";
import type { LedgerEngine, LedgerStores } from "./stores/index.js";

/** Which engine the config selects, and where it is (a URL's password masked). */
export interface LedgerSelection {
  engine: LedgerEngine;
  location: string;
  /** The PostgreSQL URL as configured (with its password), when that engine is selected. */
  url?: string;
  /** The SQLite file: the ledger itself when SQLite is selected; `ledger migrate`'s source. */
  path: string;
}

/** ledger.url (or NIGHTSHIFT_LEDGER_URL, applied by the config loader) selects PostgreSQL. */
export function selectLedger(
  ledger: { url?: string | undefined },
  dbPath: string,
): LedgerSelection {
  if (ledger.url) {
    return { engine: "postgres", location: maskUrl(ledger.url), url: ledger.url, path: dbPath };
  }
  return { engine: "sqlite", location: dbPath, path: dbPath };
}

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
