import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApiHandler } from "../../src/api/handler.js";
import { ManualClock } from "../../src/clock.js";
import { parseConfig } from "../../src/config.js";
import { KnowledgeBase } from "../../src/knowledge/kb.js";
import type { Ledger } from "../../src/ledger/ledger.js";
import { SqliteActionLedger } from "../../src/ledger/sqlite/action-ledger.js";
import { sqliteKnowledgeStore } from "../../src/ledger/sqlite/knowledge.js";
import { createScheduler } from "../../src/scheduler/create-scheduler.js";
import type { Scheduler } from "../../src/scheduler/scheduler.js";
import { tempLedger } from "../support/temp-ledger.js";

// biome-ignore lint/suspicious/noExplicitAny: replies are checked by value
type Body = any;

describe("jobs over the API", () => {
  let ledger: Ledger;
  let home: string;
  let cleanup: () => void;
  let server: Server;
  let base: string;
  let scheduler: Scheduler | undefined;

  beforeEach(async () => {
    ({ ledger, home, cleanup } = tempLedger());
    const config = parseConfig({});
    const clock = new ManualClock();
    const stores = new SqliteActionLedger(ledger, false);
    scheduler = createScheduler({
      stores,
      monitor: stores.monitor,
      config,
      home,
      clock,
    });
    const api = createApiHandler({
      ledger,
      kb: new KnowledgeBase(sqliteKnowledgeStore(ledger)),
      config,
      clock,
      scheduler: () => scheduler,
      log: () => {},
    });
    server = createServer((req, res) => void api(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    cleanup();
  });

  const request = async (path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      ...(body === undefined
        ? {}
        : {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(body),
          }),
    });
    return { status: response.status, body: (await response.json()) as Body };
  };

  it("lists each job with what blocks it, and refuses to run a blocked one without force", async () => {
    const { body } = await request("/v0/jobs");
    const audit = body.jobs.find((j: Body) => j.name === "audit");
    expect(audit).toBeDefined();
    expect(audit.could_run_now).toBe(false);
    // No monitor samples yet: the idle gate cannot say the machine is idle.
    expect(audit.blockers.map((b: Body) => b.condition)).toContain("idle");
    const refused = await request("/v0/jobs/audit/run", {});
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatch(/^audit cannot run now: .*send \{"force": true\}/);
    expect((await request("/v0/jobs/audit/pause", {})).body.error).toBe("audit is not running");
    expect((await request("/v0/jobs/nothing/run", {})).status).toBe(404);
  });

  it("says so when the daemon runs no scheduler", async () => {
    scheduler = undefined;
    const { status, body } = await request("/v0/jobs");
    expect(status).toBe(503);
    expect(body.error).toMatch(/scheduler is not running/);
  });
});
