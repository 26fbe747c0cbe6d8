import { Ollama } from "ollama";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { isLoopback } from "../../src/gateway/auth.js";
import { type Gateway, startGateway } from "../../src/gateway/server.js";
import { UserActivity } from "../../src/monitor/activity.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { tempLedger } from "../support/temp-ledger.js";

const TOKEN = "a-long-enough-secret-token";

describe("gateway security", () => {
  let upstream: ScriptedUpstream;
  let temp: ReturnType<typeof tempLedger>;
  beforeAll(async () => {
    upstream = await startScriptedUpstream();
    temp = tempLedger();
  });
  afterAll(async () => {
    await upstream.close();
    temp.cleanup();
  });

  const start = (host: string, token?: string): Promise<Gateway> =>
    startGateway({
      config: parseConfig({
        server: { host, ...(token ? { token } : {}) },
        upstreams: { default: upstream.url },
      }),
      ledger: temp.ledger,
      activity: new UserActivity(),
      port: 0,
    });

  it("refuses to listen on a non-loopback address without a token", async () => {
    await expect(start("0.0.0.0")).rejects.toThrow(
      /refusing to listen on 0\.0\.0\.0 without a token.*NIGHTSHIFT_TOKEN/,
    );
  });

  it("requires the bearer token on every request when bound beyond loopback", async () => {
    const gateway = await start("0.0.0.0", TOKEN);
    const url = `http://127.0.0.1:${gateway.port}`;
    try {
      const anonymous = new Ollama({ host: url });
      await expect(anonymous.list()).rejects.toMatchObject({ status_code: 401 });
      const wrong = new Ollama({
        host: url,
        headers: { Authorization: "Bearer not-the-token-at-all-x" },
      });
      await expect(wrong.chat({ model: "qwen2.5:7b", messages: [] })).rejects.toMatchObject({
        status_code: 401,
      });
      const v1 = await fetch(`${url}/v1/models`);
      expect(v1.status).toBe(401);
      expect(v1.headers.get("www-authenticate")).toBe("Bearer");

      const before = upstream.requests.length;
      const authorized = new Ollama({ host: url, headers: { Authorization: `Bearer ${TOKEN}` } });
      const reply = await authorized.chat({
        model: "qwen2.5:7b",
        messages: [{ role: "user", content: "hi" }],
      });
      expect(reply.message.content).toBe("echo: hi");
      // Only the authorized call reached the model server, and without the gateway's token.
      expect(upstream.requests.length).toBe(before + 1);
      expect(upstream.requests.at(-1)!.headers.authorization).toBeUndefined();
    } finally {
      await gateway.close(100);
    }
  });

  it("listens on any loopback address without a token", async () => {
    const gateway = await start("127.0.0.2");
    try {
      expect(gateway.url).toBe(`http://127.0.0.2:${gateway.port}`);
      const reply = await new Ollama({ host: gateway.url }).list();
      expect(reply.models.length).toBeGreaterThan(0);
    } finally {
      await gateway.close(100);
    }
  });

  it("knows loopback addresses", () => {
    expect(
      ["127.0.0.1", "127.8.9.1", "::1", "[::1]", "localhost", "::ffff:127.0.0.1"].every(isLoopback),
    ).toBe(true);
    expect(["0.0.0.0", "192.168.1.10", "::", "example.com"].some(isLoopback)).toBe(false);
  });
});
