import type { Command } from "commander";
import type { App } from "../app.js";
import { type Clock, clockFromEnvironment } from "../clock.js";
import type { LoadedConfig } from "../config.js";
import { ensureHome } from "../home.js";
import { Ledger } from "../ledger/ledger.js";
import { type LedgerSelection, selectLedger } from "../ledger/selection.js";
import type { ActionReads, LedgerStores } from "../ledger/stores/index.js";
import { ConfigLoader } from "./config-loader.js";

/** What every command needs, loaded on first use so `--help` never touches the disk. */
export interface CliContext {
  loaded(): LoadedConfig;
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
  /** Opened by actionReads() alone, without the other stores (CLI start-up); closed by close(). */
  let readsLedger: Ledger | undefined;
  let clock: Clock | undefined;
  let actionLedger: Promise<LedgerStores> | undefined;
  let app: Promise<App> | undefined;
  const config = new ConfigLoader();
  program.hook("preAction", async () => {
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
      actionLedger ??= (async () => {
        const selection = context.selection();
        const { config, home } = context.loaded();
        // The SQLite file is made on first use, in the data dir.
        if (selection.engine === "sqlite") ensureHome(home);
        // The stores' modules load on first use: `nightshift actions` reads only the action log.
        const { openActionLedger } = await import("../ledger/select.js");
        return openActionLedger(selection, {
          flushIntervalMs: config.ledger.flush_interval_ms,
          batchSize: config.ledger.batch_size,
          monitorHost: config.monitor.host,
        });
      })();
      return actionLedger;
    },
    async actionReads() {
      if (actionLedger || context.selection().engine !== "sqlite") {
        return (await context.actionLedger()).actions;
      }
      if (!readsLedger) {
        const { home, dbPath, config } = context.loaded();
        ensureHome(home);
        readsLedger = Ledger.open(dbPath, {
          flushIntervalMs: config.ledger.flush_interval_ms,
          batchSize: config.ledger.batch_size,
        });
      }
      const { SqliteActionReads } = await import("../ledger/sqlite/action-reads.js");
      return new SqliteActionReads(readsLedger.actions);
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
      readsLedger?.close();
      readsLedger = undefined;
    },
  };
  return context;
}
