import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import { NightshiftError } from "../errors.js";
import type { KnowledgeBase } from "../knowledge/kb.js";
import type { FinanceStore } from "../ledger/stores/finance.js";
import type { ReviewQueue } from "../review/queue.js";
import type { Runtime } from "../runtime/index.js";
import { settleRejectedDuplicates } from "./corrections.js";

/** What the finance commands work with, built by the caller over one ledger. */
export interface FinanceAgentParts {
  store: FinanceStore;
  config: Config;
  clock: Clock;
  /** The rules and remembered layouts; absent where the ledger has no knowledge base yet. */
  kb?: KnowledgeBase | undefined;
  /** Where possible duplicates go for a person; absent: they are only flagged. */
  review?: ReviewQueue | undefined;
  /** Made on first use: only categorize, ask and a layout proposal talk to models. */
  runtime: () => Runtime;
  close?: () => Promise<void>;
}

export interface FinanceAgent {
  store: FinanceStore;
  config: Config;
  clock: Clock;
  kb: KnowledgeBase | undefined;
  review: ReviewQueue | undefined;
  /** The knowledge base, or an error naming `what` needs it. */
  requireKb(what: string): KnowledgeBase;
  /** The runtime over the agent's ledger, made on first call; closed with the agent. */
  runtime(): Runtime;
  close(): Promise<void>;
}

/** The finance agent over its parts, with people's rejected duplicates settled first. */
export async function openFinanceAgent(parts: FinanceAgentParts): Promise<FinanceAgent> {
  if (parts.review) await settleRejectedDuplicates(parts.store, parts.review);
  let runtime: Runtime | undefined;
  return {
    store: parts.store,
    config: parts.config,
    clock: parts.clock,
    kb: parts.kb,
    review: parts.review,
    requireKb(what) {
      if (parts.kb) return parts.kb;
      throw new NightshiftError(
        `${what} needs the knowledge base (the finance rules), which this ledger does not have yet`,
        { status: 501, code: "needs_knowledge_base" },
      );
    },
    runtime() {
      runtime ??= parts.runtime();
      return runtime;
    },
    async close() {
      await runtime?.close();
      await parts.close?.();
    },
  };
}
