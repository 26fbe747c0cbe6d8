import { embedderFromConfig } from "../../knowledge/embedder-config.js";
import { KnowledgeBase } from "../../knowledge/kb.js";
import type { FinanceAgentParts } from "../../finance/agent.js";
import { buildCorrectionHandlers } from "../../review/agent-handlers.js";
import { ReviewQueue } from "../../review/queue.js";
import { Runtime } from "../../runtime/index.js";
import type { AgentCliContext } from "../agent.js";

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
  const base = { store: stores.finance, config, clock };
  if (stores.engine !== "sqlite") return base;
  const ledger = context.ledger();
  const embedder = embedderFromConfig(config);
  const kb = new KnowledgeBase(ledger, { clock, ...(embedder ? { embedder } : {}) });
  const handlers = buildCorrectionHandlers({ ledger, config, clock, stores, knowledge: kb });
  return {
    ...base,
    kb,
    review: new ReviewQueue(ledger, { handlers, clock }),
    runtime: () => new Runtime({ config, ledger, knowledge: kb, clock }),
  };
}
