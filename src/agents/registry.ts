import { NightshiftError } from "../errors.js";
import type { JobFactory } from "../scheduler/job.js";
import type { AgentCommands, AgentDefinition } from "./agent.js";
import { financeAgent } from "./finance/index.js";

export type { AgentDefinition } from "./agent.js";

/**
 * Every agent nightshift ships. To add one: a folder under src/agents/ with its definition
 * (see finance/index.ts), and one entry here. Definitions load nothing heavy: their commands,
 * handlers and jobs import their code when used, so `nightshift --help` stays fast.
 */
const registered: AgentDefinition[] = [financeAgent];

/** The registered agents, in registration order. */
export function agents(): readonly AgentDefinition[] {
  return registered;
}

/**
 * Adds an agent at run time (a plugin, a test); returns the function that removes it again.
 * Refused when its name or one of its commands is taken: two agents cannot answer to one name.
 */
export function registerAgent(agent: AgentDefinition): () => void {
  if (registered.some((a) => a.name === agent.name)) {
    throw new NightshiftError(`an agent named "${agent.name}" is already registered`);
  }
  for (const command of Object.keys(agent.cli?.commands ?? {})) {
    const owner = registered.find((a) => a.cli && command in a.cli.commands);
    if (owner) {
      throw new NightshiftError(
        `agent "${agent.name}" cannot add the command "${command}": agent "${owner.name}" has it`,
      );
    }
  }
  registered.push(agent);
  return () => {
    const at = registered.indexOf(agent);
    if (at >= 0) registered.splice(at, 1);
  };
}

/** The agents' command groups, for the CLI's lazy command registry (src/cli/commands.ts). */
export function agentCommandGroups(): AgentCommands[] {
  return registered.flatMap((agent) => (agent.cli ? [agent.cli] : []));
}

/** The agents' background jobs, for the scheduler beside its built-in ones. */
export function agentJobs(): JobFactory[] {
  return registered.flatMap((agent) => agent.jobs ?? []);
}
