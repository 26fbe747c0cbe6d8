import { CorrectionHandlers } from "../../audit/handlers.js";
import type { Clock } from "../../clock.js";
import type { Config } from "../../config.js";
import type { FinanceAgentParts } from "../../finance/agent.js";
import { financeCorrectionHandler } from "../../finance/corrections.js";
import { embedderFromConfig } from "../../knowledge/embedder-config.js";
import { KnowledgeBase } from "../../knowledge/kb.js";
import type { Ledger } from "../../ledger/ledger.js";
import type { LedgerStores } from "../../ledger/stores/index.js";
import { ReviewQueue } from "../../review/queue.js";
import { Runtime } from "../../runtime/index.js";
import type { AgentCliContext } from "../agent.js";

/**
 * The finance agent's parts for one CLI command, over the selected ledger: its store, the
 * knowledge base and the review queue are on either engine. The runtime (categorize and ask
 * talk to models) still logs its stages through the SQLite ledger, so on PostgreSQL it is left
 * out and the commands that need models say so.
 */
export async function financeParts(context: AgentCliContext): Promise<FinanceAgentParts> {
  const app = await context.app();
  const ledger = app.stores.engine === "sqlite" ? context.ledger() : undefined;
  const { config, clock, kb } = app;
  return {
    store: app.stores.finance,
    config,
    clock,
    kb,
    review: app.review,
    ...(ledger ? { runtime: () => new Runtime({ config, ledger, knowledge: kb, clock }) } : {}),
  };
}

/** The parts over a ledger's stores; `ledger` (SQLite) gives the runtime its action log. */
export function financePartsOver(
  stores: LedgerStores,
  ledger: Ledger | undefined,
  config: Config,
  clock: Clock,
): FinanceAgentParts {
  const embedder = embedderFromConfig(config);
  const kb = new KnowledgeBase(stores.knowledge, { clock, ...(embedder ? { embedder } : {}) });
  // A decision taken through the agent's own queue applies as `nightshift review` applies it.
  // Built here rather than from the registry, whose finance entry loads this module's caller.
  const handlers = new CorrectionHandlers();
  handlers.register("finance", financeCorrectionHandler({ store: stores.finance, kb }));
  return {
    store: stores.finance,
    config,
    clock,
    kb,
    review: new ReviewQueue(stores, { handlers, clock }),
    ...(ledger ? { runtime: () => new Runtime({ config, ledger, knowledge: kb, clock }) } : {}),
  };
}
