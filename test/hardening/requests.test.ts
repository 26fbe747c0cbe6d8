import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HostileRig, startHostileRig } from "./daemon.js";

const chat = (content: string) =>
  JSON.stringify({ model: "qwen2.5:7b", stream: false, messages: [{ role: "user", content }] });

describe("hostile requests never stop the daemon and are all logged", () => {
  let rig: HostileRig;
  beforeAll(async () => {
    rig = await startHostileRig();
  });
  afterAll(() => rig.close());

  it("answers malformed percent-encoding with 400 in the client's error shape, logged", async () => {
    const ollama = await rig.send({ path: "/agents/%E0%A4%A/api/chat", body: chat("x") });
    expect(ollama.status).toBe(400);
    expect(ollama.json).toEqual({ error: expect.stringMatching(/malformed percent-encoding/) });
    const openai = await rig.send({ path: "/v1/models/%ZZ" });
    expect(openai.status).toBe(400);
    expect(openai.json).toMatchObject({
      error: {
        message: expect.stringMatching(/malformed percent-encoding/),
        type: "invalid_request_error",
      },
    });
    const cut = await rig.send({ path: "/v1/models/%E0%A4" });
    expect(cut.status).toBe(400);
    const ids = [ollama.action!, openai.action!, cut.action!];
    expect(rig.unlogged(ids)).toEqual([]);
    expect(rig.daemon.ledger.actions.get(ids[0]!)).toMatchObject({
      actionType: "rejected",
      agent: "unknown",
      status: "error",
    });
    const after = await rig.send({ path: "/api/chat", body: chat("still here") });
    expect(after.status).toBe(200);
  });

  it("refuses JSON bodies that are not objects with 400, without forwarding them", async () => {
    const forwarded = rig.upstream.requests.length;
    const ids: string[] = [];
    for (const body of ["[]", "null", "42", '"text"', "[[[[1]]]]"]) {
      const reply = await rig.send({ path: "/api/chat", body });
      expect(reply.status).toBe(400);
      expect((reply.json as { error: string }).error).toMatch(/must be a JSON object/);
      ids.push(reply.action!);
    }
    const openai = await rig.send({ path: "/v1/chat/completions", body: "[1,2]" });
    expect(openai.status).toBe(400);
    expect(openai.json).toMatchObject({ error: { type: "invalid_request_error" } });
    ids.push(openai.action!);
    expect(rig.upstream.requests).toHaveLength(forwarded);
    expect(rig.unlogged(ids)).toEqual([]);
  });

  it("answers odd methods with 405 and an Allow header, logged", async () => {
    for (const method of ["PROPFIND", "TRACE", "MKCOL"]) {
      const reply = await rig.send({ method, path: "/api/chat" });
      expect(reply.status).toBe(405);
      expect(reply.headers.allow).toMatch(/GET/);
      expect(rig.unlogged([reply.action!])).toEqual([]);
    }
  });

  it("resolves dot-segments before routing: nothing climbs out of the upstream's base path", async () => {
    const climb = await rig.send({ path: "/api/../../etc/passwd" });
    expect(climb.status).toBe(404);
    const encoded = await rig.send({ path: "/api/%2e%2e/%2e%2e/etc/passwd" });
    expect(encoded.status).toBe(404);
    const inside = await rig.send({ path: "/api/x/../tags" });
    expect(inside.status).toBe(200);
    expect(rig.upstream.requests.every((r) => !r.path.includes("..") && !r.path.includes("etc")));
    expect(rig.upstream.requests.at(-1)!.path).toBe("/api/tags");
    expect(rig.unlogged([climb.action!, encoded.action!, inside.action!])).toEqual([]);
  });

  it("stores a body nested 5,000 levels as a marker with its hash and size, and logs every call after it", async () => {
    const deep = `{"model":"qwen2.5:7b","stream":false,"messages":[{"role":"user","content":"hi"}],"x":${"[".repeat(5000)}${"]".repeat(5000)}}`;
    const poisoned = await rig.send({ path: "/api/chat", body: deep });
    expect(poisoned.status).toBe(200);
    const later = await Promise.all(
      Array.from({ length: 60 }, (_, i) => rig.send({ path: "/api/chat", body: chat(`n${i}`) })),
    );
    expect(later.every((r) => r.status === 200)).toBe(true);
    expect(rig.unlogged([poisoned.action!, ...later.map((r) => r.action!)])).toEqual([]);
    const stored = rig.daemon.ledger.actions.get(poisoned.action!)!;
    expect(stored.status).toBe("ok");
    expect(stored.request).toMatchObject({
      $nightshift_unstorable: {
        error: expect.stringMatching(/nested deeper than 256 levels/),
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        bytes: expect.any(Number),
      },
    });
  });

  it("API listings still work after a hostile body was logged", async () => {
    const reply = await rig.send({ path: "/v0/actions?limit=1000" });
    expect(reply.status).toBe(200);
    expect((reply.json as { actions: unknown[] }).actions.length).toBeGreaterThan(60);
  });
});

describe("a broken upstream listing", () => {
  let rig: HostileRig;
  let broken: HostileRig["upstream"];
  beforeAll(async () => {
    const { startScriptedUpstream } = await import("../support/scripted-upstream.js");
    broken = await startScriptedUpstream({ tags: { models: [null] }, models: ["llama3:8b"] });
    rig = await startHostileRig({
      config: (raw, url) => {
        raw.upstreams = {
          default: "good",
          servers: { good: { url }, bad: { url: broken.url } },
          routes: { "llama3:8b": "bad" },
        };
      },
    });
  });
  afterAll(async () => {
    await rig.close();
    await broken.close();
  });

  it("marks the upstream unusable in the merged /api/tags instead of crashing", async () => {
    const reply = await rig.send({ path: "/api/tags" });
    expect(reply.status).toBe(200);
    const names = (reply.json as { models: { name: string }[] }).models.map((m) => m.name);
    expect(names).toContain("qwen2.5:7b");
    expect(rig.unlogged([reply.action!])).toEqual([]);
    const action = rig.daemon.ledger.actions.get(reply.action!);
    expect(action?.meta?.unreachable).toEqual([
      expect.stringMatching(new RegExp(`${broken.url}.*malformed listing: models\\[0\\]`)),
    ]);
    expect((await rig.send({ path: "/api/version" })).status).toBe(200);
  });
});
