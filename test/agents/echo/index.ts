import type { AgentDefinition } from "../../../src/agents/agent.js";
import type { CorrectionToApply } from "../../../src/audit/handlers.js";

/** What the echo agent's correction handler was given, in order. */
export const appliedToEcho: CorrectionToApply[] = [];
/** How often the CLI loaded the echo agent's command module (only when `echo` runs). */
export const echoLoads = { count: 0 };

/**
 * A second agent, defined only here, the way an agent folder under src/agents/ defines itself:
 * a command, a correction handler and a job. Nothing else in nightshift names it.
 */
export const echoAgent: AgentDefinition = {
  name: "echo",
  description: "says back what it is told",
  tables: { names: [], migrations: { sqlite: [], postgres: [] } },
  cli: {
    commands: { echo: "say the words back, and which ledger heard them" },
    load: async () => {
      echoLoads.count++;
      return (await import("./cli.js")).registerEcho;
    },
  },
  correctionHandler: ({ config }) => ({
    async apply(correction) {
      appliedToEcho.push(correction);
      return `echo took ${JSON.stringify(correction.corrected)} (currency ${config.finance.currency})`;
    },
  }),
  jobs: [
    () => ({
      name: "echo-tidy",
      description: "tidies the echo agent's notes",
      defaults: { requiresIdle: true, quietWindowOnly: true, minIntervalH: 24, minBacklog: 0 },
      run: async () => ({ status: "done", summary: { tidied: 0 } }),
    }),
  ],
};
