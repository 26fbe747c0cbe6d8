import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HostileRig, startHostileRig } from "./daemon.js";

const chatOf = (content: string) =>
  JSON.stringify({ model: "qwen2.5:7b", stream: false, messages: [{ role: "user", content }] });

/** Sends a body in chunks without a Content-Length; resolves with the status the gateway gave. */
function sendChunked(port: number, chunks: number, chunkBytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method: "POST", path: "/api/chat" }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    // The gateway closes the connection after its 413; the rest of the upload is never read.
    req.on("error", (error) =>
      /EPIPE|ECONNRESET/.test(String(error)) ? undefined : reject(error),
    );
    const piece = Buffer.alloc(chunkBytes, 0x20);
    req.write('{"model":"qwen2.5:7b","pad":"');
    let sent = 0;
    const pump = () => {
      while (sent < chunks) {
        sent += 1;
        if (!req.write(piece)) return void req.once("drain", pump);
      }
      req.end('"}');
    };
    pump();
  });
}

describe("bounded resources", () => {
  let rig: HostileRig;
  beforeAll(async () => {
    rig = await startHostileRig({
      config: (raw) => {
        raw.server = { max_body_bytes: 256 * 1024 };
        raw.ledger = { inline_body_bytes: 8 * 1024 };
      },
    });
  });
  afterAll(() => rig.close());

  it("refuses a declared body over server.max_body_bytes with 413 before reading it, logged", async () => {
    const reply = await rig.send({ path: "/api/chat", body: chatOf("x".repeat(300 * 1024)) });
    expect(reply.status).toBe(413);
    expect((reply.json as { error: string }).error).toMatch(
      /over the limit of 262144 bytes \(server.max_body_bytes\)/,
    );
    expect(rig.unlogged([reply.action!])).toEqual([]);
  });

  it("refuses a chunked body as soon as it passes the limit", async () => {
    const before = rig.daemon.ledger.actions.count();
    const status = await sendChunked(rig.daemon.gateway.port, 64, 64 * 1024);
    expect(status).toBe(413);
    rig.daemon.ledger.writer.flush();
    expect(rig.daemon.ledger.actions.count()).toBe(before + 1);
    expect((await rig.send({ path: "/api/chat", body: chatOf("after") })).status).toBe(200);
  });

  it("keeps a large body in a file beside the ledger, not in the row, and reads it back whole", async () => {
    const content = "large prompt ".repeat(10_000);
    const reply = await rig.send({ path: "/api/chat", body: chatOf(content) });
    expect(reply.status).toBe(200);
    expect(rig.unlogged([reply.action!])).toEqual([]);
    const column = rig.daemon.ledger.db
      .prepare("SELECT length(request) FROM actions WHERE id = ?")
      .pluck()
      .get(reply.action!) as number;
    expect(column).toBeLessThan(200);
    const action = rig.daemon.ledger.actions.get(reply.action!)!;
    expect((action.request as { messages: { content: string }[] }).messages[0]!.content).toBe(
      content,
    );
    const one = await rig.send({ path: `/v0/actions/${reply.action}` });
    expect(
      (one.json as { request: { messages: { content: string }[] } }).request.messages[0]!.content,
    ).toBe(content);
  });

  it("pages /v0/actions with a cursor and trims long bodies in listings", async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      ids.add(
        (await rig.send({ path: "/api/chat", body: chatOf(`p${i} ${"y".repeat(5000)}`) })).action!,
      );
    }
    rig.daemon.ledger.writer.flush();
    const total = rig.daemon.ledger.actions.count();
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const path: string = `/v0/actions?limit=3${cursor ? `&cursor=${cursor}` : ""}`;
      const page = (await rig.send({ path })).json as {
        actions: { id: string; request: unknown }[];
        next_cursor: string | null;
      };
      seen.push(...page.actions.map((a) => a.id));
      for (const a of page.actions.filter((a) => ids.has(a.id))) {
        expect(a.request).toMatchObject({
          $trimmed: { chars: expect.any(Number), preview: expect.any(String) },
        });
      }
      cursor = page.next_cursor;
      pages += 1;
    } while (cursor && pages < 100);
    expect(new Set(seen).size).toBe(total);
    expect(seen).toHaveLength(total);
    const bad = await rig.send({ path: "/v0/actions?cursor=bm9wZQ" });
    expect(bad.status).toBe(400);
  });
});

describe("upstream secrets and silences", () => {
  let rig: HostileRig;
  beforeAll(async () => {
    rig = await startHostileRig({
      config: (raw, url) => {
        const withCredentials = url.replace("http://", "http://agent:p%40ss-w0rd@");
        raw.upstreams = {
          default: withCredentials,
          routes: { "dead:1b": "http://agent:p%40ss-w0rd@127.0.0.1:9/" },
          timeout_ms: 1000,
        };
      },
    });
  });
  afterAll(() => rig.close());

  it("uses URL credentials as Basic auth and never prints, stores or returns them", async () => {
    const reply = await rig.send({ path: "/api/chat", body: chatOf("hi") });
    expect(reply.status).toBe(200);
    const seenAuth = rig.upstream.requests.at(-1)!.headers.authorization;
    expect(seenAuth).toBe(`Basic ${Buffer.from("agent:p@ss-w0rd").toString("base64")}`);
    const dead = await rig.send({
      path: "/api/chat",
      body: JSON.stringify({ model: "dead:1b", stream: false, messages: [] }),
    });
    expect(dead.status).toBe(502);
    expect(dead.text).not.toMatch(/p%40ss|p@ss|agent:/);
    expect(rig.lines.join("\n")).not.toMatch(/p%40ss|p@ss|agent:/);
    expect(rig.unlogged([reply.action!, dead.action!])).toEqual([]);
    for (const id of [reply.action!, dead.action!]) {
      expect(JSON.stringify(rig.daemon.ledger.actions.get(id))).not.toMatch(/p%40ss|p@ss|agent:/);
    }
  });

  it("logs an upstream that sends headers and then falls silent as a timeout", async () => {
    rig.upstream.setScript(() => ({ content: "a".repeat(64), chunkDelayMs: 5000 }));
    const reply = await rig.send({
      path: "/api/chat",
      body: JSON.stringify({ model: "qwen2.5:7b", messages: [{ role: "user", content: "x" }] }),
    });
    expect(reply.status).toBe(200);
    expect(rig.unlogged([reply.action!])).toEqual([]);
    const action = rig.daemon.ledger.actions.get(reply.action!)!;
    expect(action.error).toMatch(/timed out: no data for 1000 ms/);
    expect(action.error).not.toMatch(/connection reset/);
    rig.upstream.setScript(() => ({ content: "fine" }));
  });
});
