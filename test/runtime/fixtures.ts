import { parseConfig } from "../../src/config.js";
import type { Ledger } from "../../src/ledger/ledger.js";
import { sqliteStores } from "../../src/ledger/select.js";
import type { LedgerStores } from "../../src/ledger/stores/index.js";
import { Runtime } from "../../src/runtime/index.js";
import type { TestEngine } from "../support/engines.js";
import {
  type Script,
  type ScriptedUpstream,
  startScriptedUpstream,
} from "../support/scripted-upstream.js";
import { tempHome, tempLedger } from "../support/temp-ledger.js";

export interface RuntimeFixture {
  runtime: Runtime;
  ledger: Ledger;
  upstream: ScriptedUpstream;
  home: string;
  close(): Promise<void>;
}

/**
 * A runtime whose roles point straight at a scripted Ollama-protocol upstream (no gateway), so the
 * runtime logs each model call itself. `reasoner` and `expert` are two models on that upstream.
 */
export async function runtimeFixture(
  script: Script,
  runtimeSection: Record<string, unknown> = {},
  backend: "ollama" | "openai" = "ollama",
): Promise<RuntimeFixture> {
  const upstream = await startScriptedUpstream({ models: ["small:1b", "big:14b"], script });
  const { ledger, home, cleanup } = tempLedger();
  const config = parseConfig({
    models: {
      reasoner: { model: "small:1b", backend, url: upstream.url },
      expert: { model: "big:14b", backend, url: upstream.url },
    },
    runtime: runtimeSection,
  });
  const runtime = new Runtime({ config, ledger: sqliteStores(ledger) });
  return {
    runtime,
    ledger,
    upstream,
    home,
    async close() {
      await runtime.close();
      await upstream.close();
      cleanup();
    },
  };
}

/** The JSON a scripted model answers with. */
export function reply(value: unknown): { content: string } {
  return { content: JSON.stringify(value) };
}

export interface EngineRuntimeFixture {
  /** Makes a runtime over the ledger, as another process or machine would (closed with close()). */
  runtime(): Runtime;
  stores: LedgerStores;
  upstream: ScriptedUpstream;
  home: string;
  /** The PostgreSQL URL, for a CLI's config; null on SQLite (the CLI finds the file in `home`). */
  ledgerUrl: string | null;
  /** `models` as the runtime's config has them, for a CLI's nightshift.yaml. */
  models: Record<string, unknown>;
  close(): Promise<void>;
}

/**
 * runtimeFixture over one ledger engine's stores: on SQLite the file nightshift.db in `home`, on
 * PostgreSQL a fresh database. Each `runtime()` has its own writer overlay, as a separate process.
 */
export async function engineRuntimeFixture(
  engine: TestEngine,
  label: string,
  script: Script,
): Promise<EngineRuntimeFixture> {
  const upstream = await startScriptedUpstream({ models: ["small:1b", "big:14b"], script });
  const { home, cleanup } = tempHome();
  const opened = await engine.open(label, home);
  const models = {
    reasoner: { model: "small:1b", url: upstream.url },
    expert: { model: "big:14b", url: upstream.url },
  };
  const config = parseConfig({ models });
  const runtimes: Runtime[] = [];
  return {
    runtime() {
      const runtime = new Runtime({ config, ledger: opened.stores });
      runtimes.push(runtime);
      return runtime;
    },
    stores: opened.stores,
    upstream,
    home,
    ledgerUrl: opened.url,
    models,
    async close() {
      for (const runtime of runtimes) await runtime.close();
      await opened.close();
      await upstream.close();
      cleanup();
    },
  };
}
