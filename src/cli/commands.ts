import type { Command } from "commander";
import { agentCommandGroups } from "../agents/registry.js";
import type { CliContext } from "./context.js";

/** Adds one group's commands (and their options) to the program. */
export type Register = (program: Command, context: CliContext) => void;

/**
 * Every command group, loaded only when its command runs: `nightshift --version` or `actions`
 * must not pay for pdf.js, the audit or the gateway. `commands` maps each top-level command the
 * group registers to its one-line description (shown by `nightshift --help` without loading the
 * group; a test checks it matches the group's own). To add a command: one entry here.
 */
export interface CommandGroup {
  commands: Record<string, string>;
  load: () => Promise<Register>;
}

export const commandGroups: CommandGroup[] = [
  {
    commands: { audit: "the night shift: review the day's uncertain work with the big model" },
    load: async () => (await import("./audit.js")).registerAudit,
  },
  {
    commands: {
      serve: "start the daemon: the logging gateway (Ollama and OpenAI APIs) and its services",
    },
    load: async () => (await import("./serve.js")).registerServe,
  },
  {
    commands: { actions: "list logged actions, newest first" },
    load: async () => {
      const [list, flag] = await Promise.all([import("./actions.js"), import("./actions-flag.js")]);
      return (program, context) => {
        list.registerActions(program, context);
        flag.registerActionsFlag(program, context);
      };
    },
  },
  {
    commands: {
      status: "version, data dir, the gateway, each upstream and whether it answers, the ledger",
    },
    load: async () => (await import("./status.js")).registerStatus,
  },
  {
    commands: { kb: "the knowledge base the agents read (versioned)" },
    load: async () => (await import("./kb.js")).registerKb,
  },
  {
    commands: { review: "the human review queue: what the audit could not settle alone" },
    load: async () => (await import("./review.js")).registerReview,
  },
  {
    commands: {
      monitor: "resource samples (CPU, RAM, disk, GPUs, user activity) and the idle gate",
      "quiet-hours":
        "the learned weekly pattern of idle hours, as a heatmap, and the usual quiet windows",
    },
    load: async () => (await import("./monitor.js")).registerMonitor,
  },
  {
    commands: {
      trace:
        "show the whole tree of a run: stages, attempts (the kept one starred), checks, confidence, flags",
    },
    load: async () => (await import("./trace.js")).registerTrace,
  },
  {
    commands: {
      replay:
        "re-run a logged gateway call, stage or attempt against the same or another model, and show the difference",
    },
    load: async () => (await import("./replay.js")).registerReplay,
  },
  {
    commands: {
      prune:
        "move audited actions past their retention to the compressed and aggregated tiers, roll up old resource samples, and reclaim space",
    },
    load: async () => (await import("./prune.js")).registerPrune,
  },
  {
    commands: {
      jobs: "background jobs: whether each could run now, what blocks it, its last runs",
    },
    load: async () => (await import("./jobs.js")).registerJobs,
  },
  {
    commands: { service: "run nightshift as a systemd service" },
    load: async () => (await import("./service.js")).registerService,
  },
  {
    commands: { ledger: "the ledger's engine: SQLite or PostgreSQL" },
    load: async () => (await import("./ledger.js")).registerLedger,
  },
];

/** The built-in groups, then each registered agent's (src/agents/registry.ts). */
export const allCommandGroups = (): CommandGroup[] => [...commandGroups, ...agentCommandGroups()];

/**
 * Registers the group that `argv` names, fully; every other command only by name and
 * description, so help and "unknown command" still list them all.
 */
export async function registerCommands(
  program: Command,
  context: CliContext,
  argv: string[],
): Promise<void> {
  const name = commandName(argv);
  const groups = allCommandGroups();
  const chosen = groups.find((group) => name !== undefined && name in group.commands);
  for (const group of groups) {
    if (group === chosen) continue;
    for (const [command, description] of Object.entries(group.commands)) {
      program.command(command).description(description);
    }
  }
  if (chosen) (await chosen.load())(program, context);
}

/** The top-level command in the user's arguments (`help X` names X), past the global options. */
export function commandName(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "-c" || arg === "--config") {
      i++;
      continue;
    }
    if (arg.startsWith("-")) continue;
    return arg === "help" ? argv[i + 1] : arg;
  }
  return undefined;
}
