import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiHandler } from "../../src/api/handler.js";
import { parseConfig } from "../../src/config.js";
import { KnowledgeBase } from "../../src/knowledge/kb.js";
import { PostgresActionLedger } from "../../src/ledger/postgres/action-ledger.js";
import { createTestDatabase, postgresUrl } from "../support/postgres-db.js";
import { tempLedger } from "../support/temp-ledger.js";

interface Machine {
  url: string;
  kb: KnowledgeBase;
  close(): Promise<void>;
}

/** One daemon's /v0 API over the shared PostgreSQL ledger, wired as daemon.ts wires it. */
async function startMachine(ledgerUrl: string): Promise<Machine> {
  const local = tempLedger();
  const shared = await PostgresActionLedger.open(ledgerUrl);
  const kb = new KnowledgeBase(shared.knowledge);
  const api = createApiHandler({
    ledger: local.ledger,
    stores: shared,
    actionReads: shared.actions,
    kb,
    config: parseConfig({}),
    log: () => {},
  });
  const server: Server = createServer((req, res) => {
    void api(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    kb,
    async close() {
      await new Promise((resolve) => server.close(resolve));
      await shared.close();
      local.cleanup();
    },
  };
}

async function call(url: string, path: string, body?: unknown) {
  const response = await fetch(`${url}${path}`, {
    ...(body === undefined
      ? {}
      : {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: the replies are checked by value below
  return { status: response.status, body: (await response.json()) as any };
}

describe.skipIf(postgresUrl === null)("the knowledge API on a shared PostgreSQL ledger", () => {
  let a: Machine;
  let b: Machine;

  beforeAll(async () => {
    const url = await createTestDatabase("kb_api", { migrated: true });
    [a, b] = await Promise.all([startMachine(url), startMachine(url)]);
  }, 60_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it("serves on one machine what an audit run wrote on another, and undoes it from either", async () => {
    const run = { kind: "audit_run" as const, ref: "run-42" };
    await a.kb.put({ scope: "finance", key: "payee/shell", content: "Shell is Fuel" }, run);
    await a.kb.put({ scope: "finance", key: "payee/shell", content: "Shell is Travel" }, run);
    await a.kb.put({ scope: "shared", key: "home", content: "The user lives in Lisbon" }, run);

    const search = await call(b.url, "/v0/kb?q=shell%20fuel&agent=finance");
    expect(search.status).toBe(200);
    expect(search.body).toMatchObject({ mode: "fts", hits: [{ key: "payee/shell", version: 2 }] });
    const key = encodeURIComponent("payee/shell");
    const history = await call(b.url, `/v0/kb/finance/${key}/history`);
    expect(history.body.versions.map((v: { content: string }) => v.content)).toEqual([
      "Shell is Fuel",
      "Shell is Travel",
    ]);

    const rolled = await call(b.url, `/v0/kb/finance/${key}/rollback`, { version: 1, by: "ann" });
    expect(rolled.body).toMatchObject({
      version: 3,
      content: "Shell is Fuel",
      note: "rollback to v1",
    });
    expect((await call(a.url, `/v0/kb/finance/${key}`)).body).toMatchObject({
      version: 3,
      versions: 3,
    });

    const reverted = await call(a.url, "/v0/audit/runs/run-42/revert-knowledge", { by: "bob" });
    expect(reverted.body.reverted).toEqual([
      { scope: "shared", key: "home", from: 1, to: 2, deleted: true },
    ]);
    expect(reverted.body.skipped).toEqual([
      expect.objectContaining({
        key: "payee/shell",
        reason: expect.stringMatching(/by person ann/),
      }),
    ]);
    expect((await call(b.url, "/v0/kb")).body.entries.map((e: { key: string }) => e.key)).toEqual([
      "payee/shell",
    ]);
  });
});
