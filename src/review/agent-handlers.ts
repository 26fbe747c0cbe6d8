import { agents } from "../agents/registry.js";
import { CorrectionHandlers } from "../audit/handlers.js";
import { type Clock, systemClock } from "../clock.js";
import type { Config } from "../config.js";
import { KnowledgeBase } from "../knowledge/kb.js";
import type { LedgerStores } from "../ledger/stores/index.js";
import { deliveryHandler } from "../plain-agents/delivery.js";

/** What the agents' correction handlers work over. */
export interface HandlerDeps {
  config: Config;
  clock?: Clock;
  /** The ledger of the selected engine: the agents' own data, the plain agents' deliveries. */
  stores: LedgerStores;
  /** The knowledge base corrections teach; without it, one over the SQLite ledger. */
  knowledge?: KnowledgeBase;
}

/**
 * The correction handlers of every registered agent (src/agents/registry.ts), so the daemon,
 * `nightshift review accept` and the audit apply a decision the same way. Agents without a
 * handler of their own (plain agents) receive their corrections by delivery.
 */
export function buildCorrectionHandlers(deps: HandlerDeps): CorrectionHandlers {
  const handlers = new CorrectionHandlers();
  const clock = deps.clock ?? systemClock;
  const { stores } = deps;
  const agentDeps = {
    stores,
    knowledge: deps.knowledge ?? new KnowledgeBase(stores.knowledge, { clock }),
    config: deps.config,
    clock,
  };
  for (const agent of agents()) {
    if (agent.correctionHandler) handlers.register(agent.name, agent.correctionHandler(agentDeps));
  }
  handlers.registerFallback(deliveryHandler(stores, deps.clock));
  return handlers;
}
