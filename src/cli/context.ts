import type { Command } from "commander";
import type { App } from "../app.js";
import { type Clock, clockFromEnvironment } from "../clock.js";
import type { LoadedConfig } from "../config.js";
import { ensureHome } from "../home.js";
import { Ledger } from "../ledger/ledger.js";
import type { OpenActionLedgerOptions } from "../ledger/select.js";
import { type LedgerSelection, needsSqliteLedger, selectLedger } from "../ledger/selection.js";
import type { ActionReads, LedgerStores } from "../ledger/stores/index.js";
import { ConfigLoader } from "./config-loader.js";

/** What every command needs, loaded on first use so `--help` never touches the disk. */
export interface CliContext {
  loaded(): LoadedConfig;
  /** The SQLite ledger; an error naming the command when the config selects PostgreSQL. */
  ledger(): Ledger;
  /** The time every command reads: the system clock, or NIGHTSHIFT_NOW's (see clock.ts). */
  clock(): Clock;
  /** Which ledger engine the config selects, and where. */
  selection(): LedgerSelection;
  /** The ledger's stores on the selected engine (the seam in ledger/stores/). */
  actionLedger(): Promise<LedgerStores>;
  /** Only the action log's reads: on SQLite without loading every other store's module. */
  actionReads(): Promise<ActionReads>;
  /** The parts over that ledger (knowledge base, correction handlers, review queue): src/app.ts. */
  app(): Promise<App>;
  close(): void | Promise<void>;
}

export function createContext(
  program: Command,
  overrides?: (raw: Record<string, unknown>) => void,
): CliContext {
  let loaded: LoadedConfig | undefined;
  let ledger: Ledger | undefined;
  let clock: Clock | undefined;
  let actionLedger: Promise<LedgerStores> | undefined;
  let app: Promise<App> | undefined;
  let command = "this command";
  const config = new ConfigLoader();
  program.hook("preAction", async (_program, action) => {
    const names: string[] = [];
    for (let c: typeof action | null = action; c?.parent; c = c.parent) names.unshift(c.name());
    command = `nightshift ${names.join(" ")}`;
    await config.prepare({ configPath: program.opts<{ config?: string }>().config, overrides });
  });
  const context: CliContext = {
    loaded() {
      loaded ??= config.load();
      return loaded;
    },
    selection() {
      const { config, dbPath } = context.loaded();
      return selectLedger(config.ledger, dbPath);
    },
    app() {
      app ??= (async () => {
        // Loaded on first use: `nightshift actions` needs none of it.
        const { assembleApp } = await import("../app.js");
        return assembleApp(await context.actionLedger(), context.loaded().config, {
          clock: context.clock(),
          onWarning: (message) => process.stderr.write(`nightshift: ${message}\n`),
        });
      })();
      return app;
    },
    actionLedger() {
      const selection = context.selection();
      const { config } = context.loaded();
      // The stores' modules load on first use: `nightshift actions` reads only the action log.
      const open = async (options: OpenActionLedgerOptions) =>
        (await import("../ledger/select.js")).openActionLedger(selection, options);
      if (selection.engine === "sqlite") {
        actionLedger ??= open({ sqlite: context.ledger(), monitorHost: config.monitor.host });
      } else {
        actionLedger ??= open({
          flushIntervalMs: config.ledger.flush_interval_ms,
          batchSize: config.ledger.batch_size,
          monitorHost: config.monitor.host,
        });
      }
      return actionLedger;
    },
    async actionReads() {
      if (actionLedger || context.selection().engine !== "sqlite") {
        return (await context.actionLedger()).actions;
      }
      const { SqliteActionReads } = await import("../ledger/sqlite/action-reads.js");
      return new SqliteActionReads(context.ledger().actions);
    },
    ledger() {
      if (!ledger) {
        const selection = context.selection();
        if (selection.engine === "postgres") throw needsSqliteLedger(command, selection);
        const { home, dbPath, config } = context.loaded();
        ensureHome(home);
        ledger = Ledger.open(dbPath, {
          flushIntervalMs: config.ledger.flush_interval_ms,
          batchSize: config.ledger.batch_size,
        });
      }
      return ledger;
    },
    clock() {
      clock ??= clockFromEnvironment();
      return clock;
    },
    async close() {
      const opened = actionLedger;
      app = undefined;
      actionLedger = undefined;
      if (opened) await (await opened.catch(() => undefined))?.close();
      ledger?.close();
      ledger = undefined;
    },
  };
  return context;
}
