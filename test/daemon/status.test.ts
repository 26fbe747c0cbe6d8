import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { CLI } from "../support/cli.js";
import { runCliInProcess } from "../support/cli-in-process.js";
import { freePort } from "../support/ports.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { tempHome } from "../support/temp-ledger.js";

/** `nightshift serve` with flags, as a user starts it; resolves once it says where it listens. */
function serve(home: string, args: string[]): Promise<{ child: ChildProcess; output: string[] }> {
  const child = spawn(process.execPath, [...CLI, "serve", ...args], {
    env: { ...process.env, NIGHTSHIFT_HOME: home },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (/listening on http/.test(output.join(""))) resolve({ child, output });
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`serve exited ${code}: ${output.join("")}`)));
  });
}

describe("nightshift status with a daemon started on its own port", () => {
  const temp = tempHome();
  let upstream: ScriptedUpstream;
  let daemon: { child: ChildProcess; output: string[] };
  let upstreamClosed = false;

  let configured: string;

  beforeAll(async () => {
    configured = `http://127.0.0.1:${await freePort()}`;
    upstream = await startScriptedUpstream({ models: ["qwen2.5:7b", "qwen2.5:14b"] });
    writeFileSync(
      join(temp.home, "nightshift.yaml"),
      stringify({
        // The configured addresses are ones nothing listens on (the user's own daemon and Ollama
        // may hold 11435 and 11434): the daemon started below listens and calls elsewhere.
        server: { port: await freePort() },
        upstreams: { default: configured },
        models: {
          reasoner: { model: "qwen2.5:7b" },
          "finance-expert": { model: "phinance-3.5-mini" },
          auditor: { model: "qwen2.5:14b", url: upstream.url },
        },
      }),
    );
    daemon = await serve(temp.home, ["--port", "0", "--upstream", upstream.url]);
  });
  afterAll(async () => {
    if (daemon.child.exitCode === null) {
      const exited = new Promise((resolve) => daemon.child.once("exit", resolve));
      daemon.child.kill("SIGTERM");
      await exited;
    }
    if (!upstreamClosed) await upstream.close();
    temp.cleanup();
  });

  it("finds the daemon where it listens and checks each model role on its upstream", async () => {
    const url = /listening on (http:\/\/\S+)/.exec(daemon.output.join(""))![1]!;
    const result = await runCliInProcess(temp.home, ["status", "--json"]);
    expect(result.code).toBe(0);
    const status = JSON.parse(result.stdout);
    expect(status.gateway).toEqual({
      url,
      listening: true,
      pid: daemon.child.pid,
      stale_pid: null,
    });
    // The model server the daemon calls, from its command line, not the config's default.
    expect(status.upstreams_from).toBe("daemon");
    expect(status.upstreams_differ_from_config).toBe(true);
    expect(status.upstreams).toEqual([
      expect.objectContaining({ url: upstream.url, answering: true, error: null }),
    ]);
    const roles = Object.fromEntries(status.model_roles.map((r: { role: string }) => [r.role, r]));
    // On the upstream given to `serve --upstream`, which the daemon's record names.
    expect(roles.reasoner.error).toBeNull();
    expect(roles.reasoner).toMatchObject({ available: true, served_by: upstream.url });
    expect(roles.auditor).toMatchObject({ available: true, served_by: upstream.url });
    expect(roles["finance-expert"]).toMatchObject({ available: false });
    expect(roles["finance-expert"].error).toContain("does not have phinance-3.5-mini");

    const text = (await runCliInProcess(temp.home, ["status"])).stdout;
    expect(text).toContain(`gateway     ${url} listening (pid ${daemon.child.pid})`);
    expect(text).toMatch(new RegExp(`upstream {4}${upstream.url}: answering, version`));
    expect(text).toContain(
      "(given to the running daemon when it started; the config and environment name others)",
    );
    expect(text).not.toContain(configured);
    expect(text).toMatch(/model role {2}finance-expert → phinance-3\.5-mini \(ollama\): MISSING/);
  });

  it("forgets the daemon's address when it stops cleanly", async () => {
    expect(existsSync(join(temp.home, "daemon.json"))).toBe(true);
    const exited = new Promise((resolve) => daemon.child.once("exit", resolve));
    daemon.child.kill("SIGTERM");
    await exited;
    expect(existsSync(join(temp.home, "daemon.json"))).toBe(false);
    const status = JSON.parse((await runCliInProcess(temp.home, ["status", "--json"])).stdout);
    expect(status.gateway).toMatchObject({ listening: false, pid: null, stale_pid: null });
    // No daemon: the config's model servers again.
    expect(status.upstreams_from).toBe("config");
    expect(status.upstreams.map((u: { url: string }) => u.url)).toEqual([configured]);
  });

  it("says a role could not be checked, not that it is missing, when its model server is down", async () => {
    await upstream.close();
    upstreamClosed = true;
    const text = (await runCliInProcess(temp.home, ["status"])).stdout;
    expect(text).toMatch(
      /model role {2}reasoner → qwen2\.5:7b \(ollama\): NOT CHECKED: cannot reach/,
    );
    expect(text).not.toContain("MISSING");
  });
});
