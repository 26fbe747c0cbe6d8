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
