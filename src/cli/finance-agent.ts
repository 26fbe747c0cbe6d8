import type { AgentCliContext } from "../agents/agent.js";
import { CorrectionHandlers } from "../audit/handlers.js";
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import type { FinanceAgentParts } from "../finance/agent.js";
import { financeCorrectionHandler } from "../finance/corrections.js";
import { embedderFromConfig } from "../knowledge/embedder-config.js";
import { KnowledgeBase } from "../knowledge/kb.js";
import type { Ledger } from "../ledger/ledger.js";
import type { LedgerStores } from "../ledger/stores/index.js";
import { ReviewQueue } from "../review/queue.js";
import { Runtime } from "../runtime/index.js";

/**
 * The finance agent's parts for one CLI command, over the selected ledger. Its own data is on
 * either engine. On PostgreSQL, the knowledge base, the review queue and the runtime are left
 * out until their stores are on the seam as well: imports then remember no layouts and only flag
 * possible duplicates, and the commands that need rules or models say so.
 */
export async function financeParts(context: AgentCliContext): Promise<FinanceAgentParts> {
  const stores = await context.actionLedger();
  const { config } = context.loaded();
  const clock = context.clock();
  if (stores.engine !== "sqlite") return { store: stores.finance, config, clock };
  return sqliteFinanceParts(stores, context.ledger(), config, clock);
}

/** The parts over the SQLite ledger: the finance store, its knowledge base, queue and models. */
export function sqliteFinanceParts(
  stores: LedgerStores,
  ledger: Ledger,
  config: Config,
  clock: Clock,
): FinanceAgentParts {
  const embedder = embedderFromConfig(config);
  const kb = new KnowledgeBase(ledger, { clock, ...(embedder ? { embedder } : {}) });
  // A decision taken through the agent's own queue applies as `nightshift review` applies it.
  // Built here rather than from the registry, whose finance entry loads this module's caller.
  const handlers = new CorrectionHandlers();
  handlers.register("finance", financeCorrectionHandler({ store: stores.finance, kb }));
  return {
    store: stores.finance,
    config,
    clock,
    kb,
    review: new ReviewQueue(ledger, { handlers, clock }),
    runtime: () => new Runtime({ config, ledger, knowledge: kb, clock }),
  };
}
