import { Ollama } from "ollama";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/config.js";
import { startDaemon } from "../../src/daemon.js";
import { MonitorStore } from "../../src/ledger/monitor-store.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { tempHome } from "../support/temp-ledger.js";

describe("sampling inside nightshift serve", () => {
  let upstream: ScriptedUpstream;
  const temp = tempHome();
  beforeAll(async () => {
    upstream = await startScriptedUpstream();
  });
  afterAll(async () => {
    await upstream.close();
    temp.cleanup();
  });

  it("stores samples, and marks the user active after an interactive chat but not the auditor's", async () => {
    const loaded = loadConfig({
      env: { NIGHTSHIFT_HOME: temp.home, NIGHTSHIFT_UPSTREAM: upstream.url },
    });
    loaded.config.monitor.interval_s = 0.3;
    loaded.config.monitor.logind = false;
    const daemon = await startDaemon(loaded, { port: 0, log: () => {} });
    try {
      const store = new MonitorStore(daemon.ledger.db);
      await vi.waitFor(() => expect(store.count()).toBeGreaterThanOrEqual(2), { timeout: 10_000 });
      const first = store.between(0, Number.MAX_SAFE_INTEGER);
      expect(first.every((s) => s.userActive === false && s.cpuPct !== null)).toBe(true);

      const auditor = new Ollama({ host: `${daemon.url}/agents/auditor` });
      await auditor.chat({ model: "qwen2.5:14b", messages: [{ role: "user", content: "review" }] });
      const afterAuditor = Date.now();
      await vi.waitFor(
        () =>
          expect(store.between(afterAuditor + 400, Number.MAX_SAFE_INTEGER).length).toBeGreaterThan(
            0,
          ),
        { timeout: 10_000 },
      );
      expect(store.lastActivityBefore(Number.MAX_SAFE_INTEGER)).toBeNull();

      const chat = new Ollama({ host: `${daemon.url}/agents/chat` });
      await chat.chat({ model: "qwen2.5:7b", messages: [{ role: "user", content: "hello" }] });
      await vi.waitFor(
        () =>
          expect(store.between(0, Number.MAX_SAFE_INTEGER).some((s) => s.userActive)).toBe(true),
        { timeout: 10_000 },
      );
    } finally {
      await daemon.stop();
    }
  });
});
