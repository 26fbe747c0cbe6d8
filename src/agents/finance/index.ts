import type { CorrectionHandler } from "../../audit/handlers.js";
import type { AgentDefinition, AgentDeps } from "../agent.js";

/**
 * The finance agent: imports bank and card statements, reconciles and categorizes them, answers
 * questions with figures computed from the data. Its logic lives in src/finance/, its store in
 * the ledger (src/ledger/stores/finance.ts, one implementation per engine).
 */
export const financeAgent: AgentDefinition = {
  name: "finance",
  description: "imports statements, categorizes spending, answers questions about it",
  tables: {
    names: ["finance_accounts", "finance_statements", "finance_transactions"],
    migrations: { sqlite: ["0008-finance.sql"], postgres: ["0009-finance.sql"] },
  },
  cli: {
    commands: {
      finance: "the finance agent: import statements, categorize spending, ask questions",
    },
    load: async () => (await import("./cli.js")).registerFinance,
  },
  correctionHandler: financeCorrections,
  jobs: [],
};

/** The handler's code (zod, the rules) is loaded by its first correction, not by `--help`. */
function financeCorrections(deps: AgentDeps): CorrectionHandler {
  let handler: Promise<CorrectionHandler> | undefined;
  return {
    async apply(correction) {
      handler ??= import("../../finance/corrections.js").then((m) =>
        m.financeCorrectionHandler({ store: deps.stores.finance, kb: deps.knowledge }),
      );
      return (await handler).apply(correction);
    },
  };
}
