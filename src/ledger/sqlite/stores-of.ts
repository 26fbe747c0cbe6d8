import type { Ledger } from "../ledger.js";
import type { LedgerStores } from "../stores/index.js";
import { SqliteActionLedger } from "./action-ledger.js";

const opened = new WeakMap<Ledger, SqliteActionLedger>();

/**
 * The stores over an open SQLite `Ledger` that its owner keeps (closing them does not close it),
 * built once per ledger: for the wiring that still holds a `Ledger` until the composition root
 * hands out `LedgerStores` everywhere.
 */
export function sqliteStoresOf(ledger: Ledger): LedgerStores {
  let stores = opened.get(ledger);
  if (!stores) {
    stores = new SqliteActionLedger(ledger, false);
    opened.set(ledger, stores);
  }
  return stores;
}
