import type { Action } from "./actions.js";
import type { Ledger } from "./ledger.js";
import { PostgresActionLedger } from "./postgres/action-ledger.js";
import type { LedgerSelection } from "./select.js";

export interface SharedLedgerOptions {
  selection: LedgerSelection;
  /** The daemon's SQLite ledger: where actions go that the PostgreSQL server refuses or cannot take. */
  local: Ledger;
  flushIntervalMs: number;
  batchSize: number;
  /** The machine whose monitor history the ledger's `monitor` reads and writes (monitor.host). */
  monitorHost?: string | undefined;
  log: (line: string) => void;
  /** Told of each committed batch (the daemon's metrics and spans count them). */
  onCommit?: (actions: readonly Action[]) => void;
}

/**
 * The daemon's action log on PostgreSQL, for the gateway. Nothing logged is lost: rows the server
 * refuses on their own are kept in the local SQLite file instead, and so are rows still queued
 * when the server stays unreachable through shutdown (`closeSharedLedger`); `nightshift ledger
 * migrate --to` copies them over later.
 */
export async function openSharedLedger(
  options: SharedLedgerOptions,
): Promise<PostgresActionLedger> {
  const { selection, local, log } = options;
  return PostgresActionLedger.open(selection.url!, {
    flushIntervalMs: options.flushIntervalMs,
    batchSize: options.batchSize,
    monitorHost: options.monitorHost,
    onError: (error, pending) =>
      log(
        `nightshift: PostgreSQL ledger write failed, ${pending} actions kept for retry: ${String(error)}`,
      ),
    onRejected: (actions, error) => keepLocally(local, actions, log, `refused (${String(error)})`),
    onPoolError: (error) => log(`nightshift: PostgreSQL ledger connection lost: ${error.message}`),
    ...(options.onCommit ? { onCommit: options.onCommit } : {}),
  });
}

/** Commits what is queued; if the server stays unreachable, keeps the rest in the SQLite file. */
export async function closeSharedLedger(
  shared: PostgresActionLedger,
  local: Ledger,
  log: (line: string) => void,
): Promise<void> {
  try {
    await shared.close();
  } catch (error) {
    keepLocally(local, shared.writer.takePending(), log, String(error));
  }
}

function keepLocally(local: Ledger, actions: Action[], log: (line: string) => void, why: string) {
  if (actions.length === 0) return;
  local.actions.insert(actions);
  log(
    `nightshift: ${actions.length} actions not written to the PostgreSQL ledger (${why}); kept in ${local.path} ` +
      "(nightshift ledger migrate --to <url> copies them)",
  );
}
