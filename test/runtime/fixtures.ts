import { parseConfig } from "../../src/config.js";
import type { Ledger } from "../../src/ledger/ledger.js";
import { sqliteStores } from "../../src/ledger/select.js";
import { Runtime } from "../../src/runtime/index.js";
import {
  type Script,
  type ScriptedUpstream,
  startScriptedUpstream,
} from "../support/scripted-upstream.js";
import { tempLedger } from "../support/temp-ledger.js";

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
