import { CorrectionHandlers } from "../../audit/handlers.js";
import type { Clock } from "../../clock.js";
import type { Config } from "../../config.js";
import type { FinanceAgentParts } from "../../finance/agent.js";
import { financeCorrectionHandler } from "../../finance/corrections.js";
import { embedderFromConfig } from "../../knowledge/embedder-config.js";
import { KnowledgeBase } from "../../knowledge/kb.js";
import type { LedgerStores } from "../../ledger/stores/index.js";
import { ReviewQueue } from "../../review/queue.js";
import { Runtime } from "../../runtime/index.js";
import type { AgentCliContext } from "../agent.js";

/**
 * The finance agent's parts for one CLI command, over the selected ledger: its store, the
 * knowledge base, the review queue and the runtime (categorize and ask talk to models, and log
 * each stage to the same ledger) are on either engine.
 */
export async function financeParts(context: AgentCliContext): Promise<FinanceAgentParts> {
  const app = await context.app();
  const { config, clock, kb, stores } = app;
  return {
    store: stores.finance,
    config,
    clock,
    kb,
    review: app.review,
    runtime: () => new Runtime({ config, ledger: stores, knowledge: kb, clock }),
  };
}

/** The parts over a ledger's stores (either engine), built here rather than from the app. */
export function financePartsOver(
  stores: LedgerStores,
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
    runtime: () => new Runtime({ config, ledger: stores, knowledge: kb, clock }),
  };
}
