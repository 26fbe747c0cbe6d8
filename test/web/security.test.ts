import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { type Daemon, startDaemon } from "../../src/daemon.js";
import { startScriptedUpstream } from "../support/scripted-upstream.js";
import { tempHome } from "../support/temp-ledger.js";
import { launchChromium } from "./browser.js";

const TOKEN = "correct-horse-battery-staple";

/** A raw request, so the Host header can be anything (fetch would not allow it). */
function raw(
  url: string,
  path: string,
  headers: Record<string, string>,
  method = "GET",
  body?: string,
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function start(token?: string) {
  const temp = tempHome();
  const upstream = await startScriptedUpstream();
  const loaded = loadConfig({
    env: {
      NIGHTSHIFT_HOME: temp.home,
      NIGHTSHIFT_UPSTREAM: upstream.url,
      ...(token ? { NIGHTSHIFT_TOKEN: token } : {}),
    },
  });
  loaded.config.monitor.enabled = false;
  loaded.config.scheduler.enabled = false;
  const daemon = await startDaemon(loaded, { port: 0, log: () => {} });
  return {
    daemon,
    stop: async () => {
      await daemon.stop();
      await upstream.close();
      temp.cleanup();
    },
  };
}

describe("the dashboard's security on loopback", () => {
  let daemon: Daemon;
  let stop: () => Promise<void>;
  beforeAll(async () => {
    ({ daemon, stop } = await start());
  });
  afterAll(() => stop());

  it("serves the page with a strict content security policy and cacheable hashed assets", async () => {
    const page = await fetch(`${daemon.url}/ui/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    const html = await page.text();
    const script = /src="(\/ui\/assets\/app-[A-Z0-9]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${daemon.url}${script}`);
    expect(asset.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const etag = asset.headers.get("etag") ?? "";
    const again = await fetch(`${daemon.url}${script}`, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    expect((await fetch(`${daemon.url}/ui/assets/nothing.js`)).status).toBe(404);
  });

  it("refuses foreign Host names and Origins, and state changes that are not JSON", async () => {
    const rebound = await raw(daemon.url, "/v0/health", { host: "attacker.example:11435" });
    expect(rebound.status).toBe(403);
    expect(rebound.body).toContain("does not name this server");
    const ui = await raw(daemon.url, "/ui/", { host: "attacker.example" });
    expect(ui.status).toBe(403);
    const port = new URL(daemon.url).port;
    const cross = await raw(
      daemon.url,
      "/v0/review/1/accept",
      {
        host: `127.0.0.1:${port}`,
        origin: "http://evil.example",
        "content-type": "application/json",
      },
      "POST",
      "{}",
    );
    expect(cross.status).toBe(403);
    expect(cross.body).toContain(`Origin \\"http://evil.example\\" is not allowed`);
    const form = await fetch(`${daemon.url}/v0/kb/shared/tone/rollback`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: '{"version":1}',
    });
    expect(form.status).toBe(415);
    expect((await raw(daemon.url, "/v0/health", { host: `localhost:${port}` })).status).toBe(200);
  });
});

describe("the dashboard with a token", () => {
  let daemon: Daemon;
  let stop: () => Promise<void>;
  beforeAll(async () => {
    ({ daemon, stop } = await start(TOKEN));
  });
  afterAll(() => stop());

  it("sends a browser to the login form, and the form sets an HttpOnly SameSite=Strict cookie", async () => {
    const page = await fetch(`${daemon.url}/ui/`, { redirect: "manual" });
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/ui/login");
    expect((await fetch(`${daemon.url}/v0/health`)).status).toBe(401);
    const wrong = await fetch(`${daemon.url}/ui/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "token=guess",
      redirect: "manual",
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();
    const right = await fetch(`${daemon.url}/ui/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `token=${TOKEN}`,
      redirect: "manual",
    });
    expect(right.status).toBe(303);
    const cookie = right.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toContain(TOKEN);
    const session = cookie.split(";")[0]!;
    expect((await fetch(`${daemon.url}/v0/health`, { headers: { cookie: session } })).status).toBe(
      200,
    );
    expect((await fetch(`${daemon.url}/ui/`, { headers: { cookie: session } })).status).toBe(200);
    const bearer = { authorization: `Bearer ${TOKEN}` };
    expect((await fetch(`${daemon.url}/v0/health`, { headers: bearer })).status).toBe(200);
    // The cookie is the dashboard's: the model API still wants the token itself.
    expect((await fetch(`${daemon.url}/api/tags`, { headers: { cookie: session } })).status).toBe(
      401,
    );
  });

  it("logs in through the form in Chromium and shows the overview", async () => {
    const { context, close } = await launchChromium();
    try {
      const page = await context.newPage();
      await page.goto(`${daemon.url}/ui/actions`);
      expect(new URL(page.url()).pathname).toBe("/ui/login");
      await page.getByLabel(/Token/).fill(TOKEN);
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { name: "Overview" }).waitFor();
      const cookies = await context.cookies();
      expect(cookies.find((c) => c.name === "nightshift_session")).toMatchObject({
        httpOnly: true,
        sameSite: "Strict",
      });
    } finally {
      await close();
    }
  }, 90_000);
});
