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

        // The /v0 monitor routes read the same history, on either engine.
        const get = async (path: string) => {
          const response = await fetch(`${daemon.url}/v0/monitor/${path}`);
          return {
            status: response.status,
            body: (await response.json()) as {
              ts?: number[];
              values?: { samples: number };
              error?: string;
            },
          };
        };
        const series = await get("series?range=1h");
        expect(series.status).toBe(200);
        expect(series.body.ts?.length).toBeGreaterThanOrEqual(2);
        expect((await get("idle")).body.values?.samples).toBeGreaterThanOrEqual(2);
        const other = await get("series?range=1h&host=another-box");
        if (engine.name === "PostgreSQL") expect(other.body.ts).toEqual([]);
        else
          expect(other).toMatchObject({
            status: 404,
            body: { error: expect.stringMatching(/one machine.s/) },
          });

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
