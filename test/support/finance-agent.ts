import { financePartsOver } from "../../src/agents/finance/parts.js";
import { type Clock, systemClock } from "../../src/clock.js";
import type { Config } from "../../src/config.js";
import { type FinanceAgent, openFinanceAgent } from "../../src/finance/agent.js";
import type { Ledger } from "../../src/ledger/ledger.js";
import { SqliteActionLedger } from "../../src/ledger/sqlite/action-ledger.js";
import type { FinanceStore } from "../../src/ledger/stores/finance.js";

/** The finance agent over a SQLite test ledger, wired as `nightshift finance` wires it. */
export function openTestFinanceAgent(
  ledger: Ledger,
  config: Config,
  clock: Clock = systemClock,
): Promise<FinanceAgent> {
  return openFinanceAgent(financePartsOver(sqliteStores(ledger), config, clock));
}

/** The finance store of a SQLite test ledger. */
export function sqliteFinanceStore(ledger: Ledger): FinanceStore {
  return sqliteStores(ledger).finance;
}

function sqliteStores(ledger: Ledger) {
  return new SqliteActionLedger(ledger, false);
}
