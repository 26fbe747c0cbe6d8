import { NightshiftError } from "../errors.js";
import { maskUrl } from "./postgres/url.js";
import type { LedgerEngine } from "./stores/index.js";

/** Which engine the config selects, and where it is (a URL's password masked). */
export interface LedgerSelection {
  engine: LedgerEngine;
  location: string;
  /** The PostgreSQL URL as configured (with its password), when that engine is selected. */
  url?: string;
  /** The SQLite file: the ledger itself, or what the capabilities not on the seam still use. */
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

/** The error for a capability that still reads the SQLite ledger when PostgreSQL is selected. */
export function needsSqliteLedger(what: string, selection: LedgerSelection): NightshiftError {
  return new NightshiftError(
    `${what} works only on the SQLite ledger so far, and this config selects the PostgreSQL ledger at ${selection.location} ` +
      "(ledger.url or NIGHTSHIFT_LEDGER_URL). Everything else is on PostgreSQL; replaying a stage and the finance commands that ask models (categorize, ask) still log through the runtime's SQLite ledger; " +
      `to use ${what}, run it without ledger.url against the SQLite file ${selection.path}.`,
    { status: 501, code: "needs_sqlite_ledger" },
  );
}
