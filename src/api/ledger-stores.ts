import type { Ledger } from "../ledger/ledger.js";
import { SqliteActionLedger } from "../ledger/sqlite/action-ledger.js";
import type { LedgerStores } from "../ledger/stores/index.js";

const sqliteStores = new WeakMap<Ledger, LedgerStores>();

/**
 * The selected engine's stores: `stores` as the daemon passes them, or else the SQLite ledger's
 * (built once per ledger, left open: the ledger is the caller's).
 */
export function ledgerStores(deps: {
  ledger: Ledger;
  stores?: LedgerStores | undefined;
}): LedgerStores {
  if (deps.stores) return deps.stores;
  let stores = sqliteStores.get(deps.ledger);
  if (!stores) {
    stores = new SqliteActionLedger(deps.ledger, false);
    sqliteStores.set(deps.ledger, stores);
  }
  return stores;
}
