import type { Command } from "commander";
import type { App } from "../app-parts.js";
import type { CorrectionHandler } from "../audit/handlers.js";
import type { Clock } from "../clock.js";
import type { Config, LoadedConfig } from "../config.js";
import type { KnowledgeBase } from "../knowledge/kb.js";
import type { LedgerSelection } from "../ledger/select.js";
import type { LedgerStores } from "../ledger/stores/index.js";
import type { JobFactory } from "../scheduler/job.js";

/**
 * An agent (finance today, others soon) is a folder under src/agents/ that describes what it
 * brings: its tables, CLI commands, correction handler and jobs. The registry (registry.ts) is
 * how the CLI, the review queue, the audit and the scheduler learn about it, so none of them
 * imports an agent, and adding one touches its folder and one registry line.
 */
export interface AgentDefinition {
  /** The agent's name in the ledger (X-Nightshift-Agent, review items, corrections). */
  name: string;
  description: string;
  /** Its tables, and the migration files that make them on each engine. */
  tables: AgentTables;
  /** Its top-level CLI commands, if any. */
  cli?: AgentCommands;
  /** Applies the audit's and people's corrections to its own data; async, built on demand. */
  correctionHandler?: (deps: AgentDeps) => CorrectionHandler;
  /** Background jobs the scheduler runs (by name, under its conditions). */
  jobs?: readonly JobFactory[];
}

export interface AgentTables {
  names: readonly string[];
  /** File names in src/ledger/migrations/ (SQLite) and src/ledger/postgres/migrations/. */
  migrations: { sqlite: readonly string[]; postgres: readonly string[] };
}

/** What an agent's correction handler works over: the ledger of the selected engine. */
export interface AgentDeps {
  stores: LedgerStores;
  /** The knowledge base corrections teach (a finance correction becomes a payee rule). */
  knowledge: KnowledgeBase;
  config: Config;
  clock: Clock;
}

export interface AgentCommands {
  /** Each top-level command → its one-line description, shown by `--help` without loading it. */
  commands: Record<string, string>;
  /** Loads the module that registers the commands, only when one of them runs. */
  load(): Promise<RegisterAgentCommands>;
}

export type RegisterAgentCommands = (program: Command, context: AgentCliContext) => void;

/** What an agent's commands get from the CLI (src/cli/context.ts gives all of it). */
export interface AgentCliContext {
  loaded(): LoadedConfig;
  clock(): Clock;
  selection(): LedgerSelection;
  /** The ledger of the selected engine, opened once per command. */
  actionLedger(): Promise<LedgerStores>;
  /** The knowledge base, correction handlers and review queue over that ledger (src/app.ts). */
  app(): Promise<App>;
}
