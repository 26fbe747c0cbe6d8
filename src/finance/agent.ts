import { type Clock, systemClock } from "../clock.js";
import type { Config } from "../config.js";
import { embedderFromConfig } from "../knowledge/embedder-config.js";
import { KnowledgeBase } from "../knowledge/kb.js";
import { FinanceStore } from "../ledger/finance-store.js";
import type { Ledger } from "../ledger/ledger.js";
import { SqliteActionLedger } from "../ledger/sqlite/action-ledger.js";
import { buildCorrectionHandlers } from "../review/agent-handlers.js";
import { ReviewQueue } from "../review/queue.js";
import { Runtime } from "../runtime/index.js";
import { settleRejectedDuplicates } from "./corrections.js";

/** Everything the finance commands use, built over one ledger. */
export interface FinanceAgent {
  store: FinanceStore;
  kb: KnowledgeBase;
  review: ReviewQueue;
  config: Config;
  clock: Clock;
  /** Made on first use: only categorize and ask talk to models. */
  runtime(): Runtime;
  close(): Promise<void>;
}

export async function openFinanceAgent(
  ledger: Ledger,
  config: Config,
  clock: Clock = systemClock,
): Promise<FinanceAgent> {
  const store = new FinanceStore(ledger.db);
  const embedder = embedderFromConfig(config);
  const stores = new SqliteActionLedger(ledger, false);
  const kb = new KnowledgeBase(stores.knowledge, {
    clock,
    ...(embedder ? { embedder } : {}),
  });
  const review = new ReviewQueue(stores, {
    handlers: buildCorrectionHandlers({ ledger, config }),
    clock,
  });
  await settleRejectedDuplicates(store, review);
  let runtime: Runtime | undefined;
  return {
    store,
    kb,
    review,
    config,
    clock,
    runtime() {
      runtime ??= new Runtime({ config, ledger, knowledge: kb, clock });
      return runtime;
    },
    async close() {
      await runtime?.close();
    },
  };
}
