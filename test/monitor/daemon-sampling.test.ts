import { Ollama } from "ollama";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/config.js";
import { startDaemon } from "../../src/daemon.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { MONITOR_ENGINES, type MonitorHome } from "./engines.js";

for (const engine of MONITOR_ENGINES) {
  describe.skipIf(!engine.available)(`sampling inside nightshift serve on ${engine.name}`, () => {
    let upstream: ScriptedUpstream;
    let temp: MonitorHome;
    beforeAll(async () => {
      upstream = await startScriptedUpstream();
      temp = await engine.open();
    });
    afterAll(async () => {
      await upstream.close();
      await temp.cleanup();
    });

    it("stores samples, and marks the user active after an interactive chat but not the auditor's", async () => {
      const loaded = loadConfig({
        env: { NIGHTSHIFT_HOME: temp.home, NIGHTSHIFT_UPSTREAM: upstream.url },
      });
      loaded.config.monitor.interval_s = 0.3;
      loaded.config.monitor.logind = false;
      const daemon = await startDaemon(loaded, { port: 0, log: () => {} });
      try {
        const store = temp.stores.monitor;
        await vi.waitFor(async () => expect(await store.count()).toBeGreaterThanOrEqual(2), {
          timeout: 10_000,
        });
        const first = await store.between(0, Number.MAX_SAFE_INTEGER);
        expect(first.every((s) => s.userActive === false && s.cpuPct !== null)).toBe(true);

        const auditor = new Ollama({ host: `${daemon.url}/agents/auditor` });
        await auditor.chat({
          model: "qwen2.5:14b",
          messages: [{ role: "user", content: "review" }],
        });
        const afterAuditor = Date.now();
        await vi.waitFor(
          async () =>
            expect(
              (await store.between(afterAuditor + 400, Number.MAX_SAFE_INTEGER)).length,
            ).toBeGreaterThan(0),
          { timeout: 10_000 },
        );
        expect(await store.lastActivityBefore(Number.MAX_SAFE_INTEGER)).toBeNull();

        const chat = new Ollama({ host: `${daemon.url}/agents/chat` });
        await chat.chat({ model: "qwen2.5:7b", messages: [{ role: "user", content: "hello" }] });
        await vi.waitFor(
          async () =>
            expect(
              (await store.between(0, Number.MAX_SAFE_INTEGER)).some((s) => s.userActive),
            ).toBe(true),
          { timeout: 10_000 },
        );
      } finally {
        await daemon.stop();
      }
    });
  });
}
