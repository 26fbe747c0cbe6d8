import type { Command } from "commander";
import type { App } from "../app.js";
import { type Clock, clockFromEnvironment } from "../clock.js";
import { ensureHome, type LoadedConfig, loadConfig } from "../config.js";
import { type LedgerSelection, openActionLedger, selectLedger } from "../ledger/select.js";
import type { LedgerStores } from "../ledger/stores/index.js";

/** What every command needs, loaded on first use so `--help` never touches the disk. */
export interface CliContext {
  loaded(): LoadedConfig;
  /** The time every command reads: the system clock, or NIGHTSHIFT_NOW's (see clock.ts). */
  clock(): Clock;
  /** Which ledger engine the config selects, and where. */
  selection(): LedgerSelection;
  /** The ledger's stores on the selected engine (the seam in ledger/stores/). */
  actionLedger(): Promise<LedgerStores>;
  /** The parts over that ledger (knowledge base, correction handlers, review queue): src/app.ts. */
  app(): Promise<App>;
  close(): void | Promise<void>;
}

export function createContext(
  program: Command,
  overrides?: (raw: Record<string, unknown>) => void,
): CliContext {
  let loaded: LoadedConfig | undefined;
  let clock: Clock | undefined;
  let actionLedger: Promise<LedgerStores> | undefined;
  let app: Promise<App> | undefined;
  const context: CliContext = {
    loaded() {
      if (!loaded) {
        const options = program.opts<{ config?: string }>();
        loaded = loadConfig({ configPath: options.config, overrides });
      }
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
      actionLedger ??= (async () => {
        const selection = context.selection();
        const { config, home } = context.loaded();
        // The SQLite file is made on first use, in the data dir.
        if (selection.engine === "sqlite") ensureHome(home);
        return openActionLedger(selection, {
          flushIntervalMs: config.ledger.flush_interval_ms,
          batchSize: config.ledger.batch_size,
          monitorHost: config.monitor.host,
        });
      })();
      return actionLedger;
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
    },
  };
  return context;
}
