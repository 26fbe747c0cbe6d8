import { type ChildProcess, execFile, spawn } from "node:child_process";
import { join } from "node:path";
import Database from "better-sqlite3";
import { Ollama } from "ollama";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Ledger } from "../../src/ledger/ledger.js";
import { CLI } from "../support/cli.js";
import { freePort } from "../support/ports.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { tempHome } from "../support/temp-ledger.js";

function startDaemonProcess(
  home: string,
  upstream: string,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [...CLI, "serve", "--port", "0", "--upstream", upstream], {
    env: { ...process.env, NIGHTSHIFT_HOME: home },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`daemon did not start:\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]! });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`daemon exited with ${code}:\n${output}`)));
  });
}

/** Runs the CLI without blocking this process, which also serves the scripted upstream. */
function cli(
  home: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ stdout: string; stderr: string; status: number }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...CLI, ...args],
      { env: { ...process.env, NIGHTSHIFT_HOME: home, ...env }, encoding: "utf8" },
      (error, stdout, stderr) => {
        const status = error ? Number((error as { code?: unknown }).code ?? 1) : 0;
        resolve({ stdout, stderr, status });
      },
    );
  });
}

async function waitForCommitted(path: string, count: number, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  const db = new Database(path, { readonly: true });
  try {
    const statement = db.prepare("SELECT count(*) FROM actions WHERE agent = 'finance'").pluck();
    while ((statement.get() as number) < count) {
      if (performance.now() > deadline) throw new Error(`fewer than ${count} actions committed`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    db.close();
  }
}

describe("the daemon as a real process", () => {
  let upstream: ScriptedUpstream;
  const temp = tempHome();
  beforeAll(async () => {
    upstream = await startScriptedUpstream();
  });
  afterAll(async () => {
    await upstream.close();
    temp.cleanup();
  });

  it("keeps every finished request in the ledger through kill -9", async () => {
    const { child, url } = await startDaemonProcess(temp.home, upstream.url);
    const ids: string[] = [];
    const recording: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      ids.push(response.headers.get("x-nightshift-action")!);
      return response;
    };
    const client = new Ollama({
      host: url,
      headers: { "X-Nightshift-Agent": "finance" },
      fetch: recording,
    });
    for (let round = 0; round < 5; round++) {
      await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          const messages = [{ role: "user", content: `request ${round}-${i}` }];
          if (i % 2) {
            for await (const _part of await client.chat({
              model: "qwen2.5:7b",
              messages,
              stream: true,
            }));
          } else {
            await client.chat({ model: "qwen2.5:7b", messages });
          }
        }),
      );
    }
    // The daemon commits in batches (within its flush interval): wait for that commit, seen
    // from another connection, rather than for a fixed time that a busy machine can outrun.
    await waitForCommitted(join(temp.home, "nightshift.db"), 50);
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;

    const ledger = Ledger.open(join(temp.home, "nightshift.db"));
    try {
      expect(ids).toHaveLength(50);
      const missing = ids.filter((id) => !ledger.actions.get(id));
      expect(missing).toEqual([]);
      expect(ledger.actions.count({ agent: "finance" })).toBe(50);
    } finally {
      ledger.close();
    }
  }, 60_000);

  it("lists and shows the logged actions from the command line", async () => {
    const listed = await cli(temp.home, [
      "actions",
      "--agent",
      "finance",
      "--limit",
      "3",
      "--json",
    ]);
    expect(listed.status).toBe(0);
    const actions = JSON.parse(listed.stdout) as Record<string, unknown>[];
    expect(actions).toHaveLength(3);
    expect(Object.keys(actions[0]!)).toEqual(
      expect.arrayContaining([
        "id",
        "trace_id",
        "parent_id",
        "agent",
        "action_type",
        "model",
        "upstream",
        "tokens_in",
        "tokens_out",
        "total_duration",
      ]),
    );
    const id = String(actions[0]!.id);

    const table = await cli(temp.home, ["actions", "--since", "1h"]);
    expect(table.stdout.split("\n")[0]).toMatch(/^ID\s+STARTED\s+AGENT\s+TYPE\s+MODEL\s+STATUS/);
    expect(table.stdout).toContain(id);

    const shown = await cli(temp.home, ["actions", "show", id.slice(0, 23)]);
    expect(shown.status).toBe(0);
    expect(shown.stdout).toContain(`id         ${id}`);
    expect(shown.stdout).toMatch(/tokens\s+\d+ in, \d+ out/);
    expect(shown.stdout).toContain(`trace ${actions[0]!.trace_id}`);

    const unknown = await cli(temp.home, ["actions", "show", "ffffffff-ffff"]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/^nightshift: no action ffffffff-ffff in the ledger/);
  });

  it("reports status: the upstream answering and the ledger's actions", async () => {
    // The configured address is one nothing listens on (a daemon of the user's own may hold
    // 11435), so the killed daemon's stale record is all status finds.
    const port = { NIGHTSHIFT_PORT: String(await freePort()) };
    const result = await cli(temp.home, ["status", "--json"], port);
    expect(result.status).toBe(0);
    const status = JSON.parse(result.stdout);
    expect(status.data_dir).toBe(temp.home);
    expect(status.upstreams).toEqual([expect.objectContaining({ url: "http://127.0.0.1:11434" })]);
    expect(status.ledger.actions).toBe(50);
    // The daemon was killed: its daemon.json names a process that is gone.
    expect(status.gateway.listening).toBe(false);
    expect(status.gateway.stale_pid).toEqual(expect.any(Number));
    const withUpstream = await cli(temp.home, ["status"], {
      ...port,
      NIGHTSHIFT_UPSTREAM: upstream.url,
    });
    expect(withUpstream.stdout).toContain(`upstream    ${upstream.url}: answering, version 0.12.6`);
    expect(withUpstream.stdout).toMatch(/ledger .*nightshift\.db, .*, 50 actions/);
  });
});
