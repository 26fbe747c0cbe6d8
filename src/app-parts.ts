import type { Clock } from "./clock.js";
import type { Config } from "./config.js";
import type { KnowledgeBase } from "./knowledge/kb.js";
import type { LedgerStores } from "./ledger/stores/index.js";
import type { CorrectionHandlers } from "./review/handlers.js";
import type { ReviewQueue } from "./review/queue.js";

// What the composition root (app.ts) builds, apart from how: agents' commands receive it
// (agents/agent.ts), and app.ts reaches the agents through the registry, so the type lives here.

/** The parts built over the ledger; see assembleApp in app.ts. */
export interface App {
  readonly config: Config;
  readonly clock: Clock;
  /** The ledger of the selected engine (SQLite or PostgreSQL), every domain's store. */
  readonly stores: LedgerStores;
  readonly kb: KnowledgeBase;
  /** Every registered agent's correction handler (src/agents/registry.ts), plain agents' delivery. */
  readonly handlers: CorrectionHandlers;
  /** The human review queue, applying decisions through `handlers`. */
  readonly review: ReviewQueue;
}
