import { CorrectionHandlers } from "../audit/handlers.js";
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import { registerFinanceHandler } from "../finance/corrections.js";
import type { Ledger } from "../ledger/ledger.js";
import { deliveryHandler } from "../plain-agents/delivery.js";

/** What an agent's correction handler may need to do its work. */
export interface HandlerDeps {
  ledger: Ledger;
  config: Config;
  clock?: Clock;
}

/** Registers one agent's correction handler (e.g. finance re-categorizing a transaction). */
export type RegisterHandler = (handlers: CorrectionHandlers, deps: HandlerDeps) => void;

/**
 * Every agent that can apply corrections adds its register function here (one import, one
 * entry), so the daemon, `nightshift review accept` and the audit apply a decision the same way.
 */
const agents: RegisterHandler[] = [registerFinanceHandler];

/** The correction handlers of every agent nightshift knows, built over one ledger. */
export function buildCorrectionHandlers(deps: HandlerDeps): CorrectionHandlers {
  const handlers = new CorrectionHandlers();
  for (const register of agents) register(handlers, deps);
  handlers.registerFallback(deliveryHandler(deps.ledger, deps.clock));
  return handlers;
}
