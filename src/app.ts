import type { App } from "./app-parts.js";
import type { Clock } from "./clock.js";
import type { Config } from "./config.js";
import { embedderFromConfig } from "./knowledge/embedder-config.js";
import { KnowledgeBase } from "./knowledge/kb.js";
import type { LedgerStores } from "./ledger/stores/index.js";
import { buildCorrectionHandlers } from "./review/agent-handlers.js";
import type { CorrectionHandlers } from "./review/handlers.js";
import { ReviewQueue } from "./review/queue.js";

export type { App };

export interface AppOptions {
  clock: Clock;
  /** Told when a knowledge search falls back to full text; the search still answers. */
  onWarning?: (message: string) => void;
  /** Handlers to use instead of the registry's (tests, and the audit's own when given). */
  handlers?: CorrectionHandlers;
}

/**
 * The composition root: what runs over the ledger, built once from the config for whichever
 * engine it selects. The daemon, the CLI (CliContext.app) and the audit take their knowledge
 * base, correction handlers and review queue from here, so a capability is wired in one place
 * and every caller applies a decision, teaches a rule or searches the same way.
 */
export function assembleApp(stores: LedgerStores, config: Config, options: AppOptions): App {
  const { clock } = options;
  const embedder = embedderFromConfig(config);
  const kb = new KnowledgeBase(stores.knowledge, {
    clock,
    ...(embedder ? { embedder } : {}),
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
  });
  const handlers =
    options.handlers ?? buildCorrectionHandlers({ stores, config, clock, knowledge: kb });
  const review = new ReviewQueue(stores, { handlers, clock });
  return { config, clock, stores, kb, handlers, review };
}
