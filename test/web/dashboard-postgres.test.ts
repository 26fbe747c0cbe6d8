import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { type Daemon, startDaemon } from "../../src/daemon.js";
import { createTestDatabase, postgresUrl } from "../support/postgres-db.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { tempHome } from "../support/temp-ledger.js";

/**
 * The dashboard's reads and the Prometheus scrape with ledger.url set: the daemon's gateway logs
 * into PostgreSQL, and /ui, /v0/actions, /v0/overview, /v0/events and /metrics read it there.
 */
describe.skipIf(postgresUrl === null)("the dashboard and /metrics on the PostgreSQL ledger", () => {
  const temp = tempHome();
  let upstream: ScriptedUpstream;
  let daemon: Daemon;
  const long = `${"a long question ".repeat(400)}end`;

  async function chat(content: string): Promise<string> {
    const response = await fetch(`${daemon.url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-nightshift-agent": "pg-agent" },
      body: JSON.stringify({ model: "qwen2.5:7b", messages: [{ role: "user", content }] }),
    });
    await response.text();
    expect(response.status).toBe(200);
    return response.headers.get("x-nightshift-action")!;
  }

  async function get(path: string): Promise<Record<string, unknown>> {
    const response = await fetch(`${daemon.url}${path}`);
    const body = (await response.json()) as Record<string, unknown>;
    expect(response.status, JSON.stringify(body)).toBe(200);
    return body;
  }

  beforeAll(async () => {
    upstream = await startScriptedUpstream();
    const loaded = loadConfig({
      env: {
        NIGHTSHIFT_HOME: temp.home,
        NIGHTSHIFT_UPSTREAM: upstream.url,
        NIGHTSHIFT_LEDGER_URL: await createTestDatabase("dashboard", { migrated: true }),
      },
    });
    loaded.config.monitor.enabled = false;
    loaded.config.scheduler.enabled = false;
    loaded.config.ledger.flush_interval_ms = 20;
    daemon = await startDaemon(loaded, { port: 0, log: () => {} });
    expect(daemon.shared).toBeDefined();
  }, 120_000);
  afterAll(async () => {
    await daemon?.stop();
    await upstream?.close();
    temp.cleanup();
  });

  it("lists, filters and pages /v0/actions with long bodies trimmed, and sums today's calls", async () => {
    const ids = [await chat("short one"), await chat(long), await chat("short two")];
    await daemon.shared!.writer.flush();
    const page = (await get("/v0/actions?agent=pg-agent&model=qwen2.5:7b&limit=2")) as {
      actions: Array<{ id: string; request: unknown }>;
      next_cursor: string;
    };
    expect(page.actions.map((a) => a.id)).toEqual([ids[2], ids[1]]);
    const trimmed = page.actions[1]!.request as { $trimmed: { chars: number; preview: string } };
    expect(trimmed.$trimmed.chars).toBeGreaterThan(4096);
    expect(trimmed.$trimmed.preview).toHaveLength(200);
    const next = (await get(`/v0/actions?agent=pg-agent&limit=2&cursor=${page.next_cursor}`)) as {
      actions: Array<{ id: string }>;
    };
    expect(next.actions.map((a) => a.id)).toEqual([ids[0]]);
    const found = (await get("/v0/actions?q=SHORT%20TWO&view=summary")) as {
      actions: Array<{ id: string; preview: string }>;
    };
    expect(found.actions.map((a) => [a.id, a.preview])).toEqual([[ids[2], "short two"]]);
    // One action is always whole.
    const one = (await get(`/v0/actions/${ids[1]}`)) as { request: { messages: unknown[] } };
    expect(JSON.stringify(one.request)).toContain(long);
    const overview = (await get("/v0/overview")) as {
      totals: { calls: number };
      by_agent_model: Array<{ agent: string; calls: number }>;
    };
    expect(overview.by_agent_model).toContainEqual(
      expect.objectContaining({ agent: "pg-agent", calls: 3 }),
    );
    expect(overview.totals.calls).toBeGreaterThanOrEqual(3);
  });

  it("streams newly logged actions over /v0/events", async () => {
    const events = await new Promise<{ lines: string[]; close: () => void }>((resolve) => {
      const lines: string[] = [];
      const req = request(`${daemon.url}/v0/events`, (res) => {
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => lines.push(...chunk.split("\n")));
        resolve({ lines, close: () => req.destroy() });
      });
      req.end();
    });
    try {
      // Said once the feed knows where the ledger ends: every action from then on is sent.
      await expect
        .poll(() => events.lines.includes(": connected"), { timeout: 30_000, interval: 50 })
        .toBe(true);
      const id = await chat("live one");
      await expect
        .poll(() => events.lines.includes(`id: ${id}`), { timeout: 30_000, interval: 100 })
        .toBe(true);
    } finally {
      events.close();
    }
  });

  it("serves /ui and a /metrics scrape counted from the PostgreSQL writer's commits", async () => {
    const ui = await fetch(`${daemon.url}/ui/`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain("<html");
    await chat("counted");
    await daemon.shared!.writer.flush();
    const metrics = await fetch(`${daemon.url}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    const requests = /nightshift_gateway_requests_total\{[^}]*agent="pg-agent"[^}]*\} (\d+)/.exec(
      text,
    );
    expect(Number(requests?.[1])).toBeGreaterThanOrEqual(1);
    const size = /^nightshift_ledger_size_bytes (\d+)/m.exec(text);
    expect(Number(size?.[1])).toBeGreaterThan(0);
  });
});
