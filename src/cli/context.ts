import type { Command } from "commander";
import { type Clock, clockFromEnvironment } from "../clock.js";
import { ensureHome, type LoadedConfig, loadConfig } from "../config.js";
import { Ledger } from "../ledger/ledger.js";

/** What every command needs, loaded on first use so `--help` never touches the disk. */
export interface CliContext {
  loaded(): LoadedConfig;
  ledger(): Ledger;
  /** The time every command reads: the system clock, or NIGHTSHIFT_NOW's (see clock.ts). */
  clock(): Clock;
  close(): void;
}

export function createContext(
  program: Command,
  overrides?: (raw: Record<string, unknown>) => void,
): CliContext {
  let loaded: LoadedConfig | undefined;
  let ledger: Ledger | undefined;
  let clock: Clock | undefined;
  const context: CliContext = {
    loaded() {
      if (!loaded) {
        const options = program.opts<{ config?: string }>();
        loaded = loadConfig({ configPath: options.config, overrides });
      }
      return loaded;
    },
    ledger() {
      if (!ledger) {
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
    close() {
      ledger?.close();
      ledger = undefined;
    },
  };
  return context;
}
