import { join } from "node:path";
import { Ollama } from "ollama";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { startDaemon } from "../../src/daemon.js";
import { Ledger } from "../../src/ledger/ledger.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { tempHome } from "../support/temp-ledger.js";

describe("startDaemon", () => {
  let upstream: ScriptedUpstream;
  const temp = tempHome();
  beforeAll(async () => {
    upstream = await startScriptedUpstream();
  });
  afterAll(async () => {
    await upstream.close();
    temp.cleanup();
  });

  it("serves on a free port, and on stop flushes every logged call and stops listening", async () => {
    const loaded = loadConfig({
      env: { NIGHTSHIFT_HOME: temp.home, NIGHTSHIFT_UPSTREAM: upstream.url },
    });
    loaded.config.monitor.enabled = false;
    // A long flush interval, so only the shutdown's flush can have written the action.
    loaded.config.ledger.flush_interval_ms = 1000;
    const lines: string[] = [];
    const daemon = await startDaemon(loaded, { port: 0, log: (line) => lines.push(line) });
    expect(lines).toContain(`nightshift gateway listening on ${daemon.url}`);
    expect(daemon.url).not.toMatch(/:0$/);
    let id = "";
    const client = new Ollama({
      host: daemon.url,
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        id = response.headers.get("x-nightshift-action") ?? "";
        return response;
      },
    });
    await client.chat({ model: "qwen2.5:7b", messages: [{ role: "user", content: "hi" }] });
    await daemon.stop();
    await daemon.stopped;
    await expect(fetch(daemon.url)).rejects.toThrow();
    const ledger = Ledger.open(join(temp.home, "nightshift.db"));
    try {
      expect(ledger.actions.get(id)).toMatchObject({ actionType: "chat", status: "ok" });
    } finally {
      ledger.close();
    }
  });
});
