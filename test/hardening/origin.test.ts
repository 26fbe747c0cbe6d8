import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HostileRig, startHostileRig } from "./daemon.js";

const chat = JSON.stringify({
  model: "qwen2.5:7b",
  stream: false,
  messages: [{ role: "user", content: "transfer everything" }],
});

describe("Host and Origin: loopback is not an open door", () => {
  let rig: HostileRig;
  let own: string;
  beforeAll(async () => {
    rig = await startHostileRig({
      config: (raw) => {
        raw.server = {
          allowed_hosts: ["nightshift.lan"],
          allowed_origins: ["https://app.example"],
        };
      },
    });
    own = `http://127.0.0.1:${rig.daemon.gateway.port}`;
  });
  afterAll(() => rig.close());

  it("refuses a foreign Host (DNS rebinding) on /v0 and the gateway with 403, logged", async () => {
    const ledger = await rig.send({ path: "/v0/actions", headers: { host: "attacker.example" } });
    expect(ledger.status).toBe(403);
    expect(ledger.text).not.toContain('actions"');
    const decide = await rig.send({
      path: "/v0/review/1/accept",
      headers: {
        host: "attacker.example:11435",
        origin: "http://attacker.example:11435",
        "content-type": "application/json",
      },
      body: "{}",
    });
    expect(decide.status).toBe(403);
    const gateway = await rig.send({ path: "/api/tags", headers: { host: "attacker.example" } });
    expect(gateway.status).toBe(403);
    expect(gateway.json).toEqual({ error: expect.stringMatching(/does not name this server/) });
    expect(rig.unlogged([ledger.action!, decide.action!, gateway.action!])).toEqual([]);
    expect(rig.daemon.gateway.refusals.host).toBe(3);
  });

  it("accepts loopback names, the configured host and server.allowed_hosts", async () => {
    for (const host of [
      "localhost",
      "127.0.0.1:1",
      "[::1]:11435",
      "nightshift.lan",
      "x.localhost",
    ]) {
      expect((await rig.send({ path: "/v0/health", headers: { host } })).status).toBe(200);
    }
  });

  it("refuses a cross-site text/plain POST to an agent's chat, never logging it as that agent's work", async () => {
    const forwarded = rig.upstream.requests.length;
    const reply = await rig.send({
      path: "/agents/finance/api/chat",
      headers: { origin: "http://evil.example", "content-type": "text/plain" },
      body: chat,
    });
    expect(reply.status).toBe(403);
    expect(rig.upstream.requests).toHaveLength(forwarded);
    expect(rig.unlogged([reply.action!])).toEqual([]);
    expect(rig.daemon.ledger.actions.get(reply.action!)).toMatchObject({
      agent: "unknown",
      actionType: "rejected",
      meta: expect.objectContaining({ reason: "origin", origin: "http://evil.example" }),
    });
    expect(rig.daemon.ledger.actions.list({ agent: "finance" })).toEqual([]);
  });

  it("lets the server's own origin and server.allowed_origins call, with CORS for the latter", async () => {
    const same = await rig.send({ path: "/api/chat", headers: { origin: own }, body: chat });
    expect(same.status).toBe(200);
    const app = await rig.send({
      path: "/api/chat",
      headers: { origin: "https://app.example" },
      body: chat,
    });
    expect(app.status).toBe(200);
    expect(app.headers["access-control-allow-origin"]).toBe("https://app.example");
    const preflight = await rig.send({
      method: "OPTIONS",
      path: "/api/chat",
      headers: { origin: "https://app.example", "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers["access-control-allow-headers"]).toMatch(/content-type/);
  });

  it("needs JSON and the server's own origin for state-changing /v0 calls", async () => {
    const plain = await rig.send({
      path: "/v0/review/1/accept",
      headers: { "content-type": "text/plain" },
      body: "{}",
    });
    expect(plain.status).toBe(415);
    const allowedButForeign = await rig.send({
      path: "/v0/review/1/accept",
      headers: { origin: "https://app.example", "content-type": "application/json" },
      body: "{}",
    });
    expect(allowedButForeign.status).toBe(403);
    const crossSite = await rig.send({
      path: "/v0/review/1/accept",
      headers: { "sec-fetch-site": "cross-site", "content-type": "application/json" },
      body: "{}",
    });
    expect(crossSite.status).toBe(403);
    // Same origin and JSON reach the API, which answers for the item (there is none).
    const same = await rig.send({
      path: "/v0/review/1/accept",
      headers: { origin: own, "content-type": "application/json" },
      body: "{}",
    });
    expect(same.status).toBe(404);
  });
});

describe("failed authentication", () => {
  const token = "s3cret-token-0123456789";
  let rig: HostileRig;
  beforeAll(async () => {
    rig = await startHostileRig({
      config: (raw) => {
        raw.server = { token };
      },
    });
  });
  afterAll(() => rig.close());

  it("counts and logs each 401 without the token that was sent", async () => {
    const wrong = `${token}-wrong`;
    const reply = await rig.send({
      path: "/api/chat",
      headers: { authorization: `Bearer ${wrong}` },
      body: chat,
    });
    expect(reply.status).toBe(401);
    const none = await rig.send({ path: "/v0/actions" });
    expect(none.status).toBe(401);
    expect(rig.daemon.gateway.refusals.auth).toBe(2);
    expect(rig.unlogged([reply.action!, none.action!])).toEqual([]);
    const row = JSON.stringify(rig.daemon.ledger.actions.get(reply.action!));
    expect(row).toContain('"reason":"auth"');
    expect(row).not.toContain(wrong);
    expect(row).not.toContain(token);
    const ok = await rig.send({
      path: "/api/chat",
      headers: { authorization: `Bearer ${token}` },
      body: chat,
    });
    expect(ok.status).toBe(200);
  });
});
