import { spawn } from "node:child_process";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Ledger } from "../../src/ledger/ledger.js";
import { CLI, runCli } from "../support/cli.js";
import { runCliInProcess } from "../support/cli-in-process.js";
import { tempHome } from "../support/temp-ledger.js";

let home: string;
let cleanup: () => void;
beforeEach(() => ({ home, cleanup } = tempHome()));
afterEach(() => cleanup());

/** Through the CLI's own entry in this process; `--version` and closed pipes spawn the real one. */
const cli = (...args: string[]) => runCliInProcess(home, args);

function seedActions(count: number): string[] {
  const ledger = Ledger.open(`${home}/nightshift.db`);
  try {
    const rows = Array.from({ length: count }, (_, i) => ({
      agent: "finance",
      actionType: "chat",
      model: "qwen2.5:7b",
      startedAt: Date.parse("2026-03-01T10:00:00Z") + i * 1000,
      status: "ok" as const,
      request: { i, text: "x".repeat(500) },
    }));
    return ledger.actions.insert(rows).map((a) => a.id);
  } finally {
    ledger.close();
  }
}

describe("documented flags do what they say", () => {
  it("refuses a numeric option that is not a whole number, the same way in every command", async () => {
    for (const args of [
      ["actions", "--limit", "abc"],
      ["review", "--limit", "abc"],
      ["finance", "transactions", "--limit", "abc"],
      ["kb", "search", "rent", "--limit", "0"],
      ["audit", "list", "--limit", "2.5"],
    ]) {
      const result = await cli(...args);
      expect(result.code, args.join(" ")).toBe(1);
      const value = args.at(-1);
      expect(result.stderr).toBe(
        `nightshift: --limit ${value}: expected a whole number of at least 1\n`,
      );
      expect(result.stdout).toBe("");
    }
  });

  it("gives each subcommand its own --json and --version", async () => {
    const [id] = seedActions(1);
    const shown = await cli("actions", "show", id!, "--json");
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ id, trace: [{ id }] });

    expect((await cli("kb", "put", "payee:acme", "--content", "first")).code).toBe(0);
    expect((await cli("kb", "put", "payee:acme", "--content", "second")).code).toBe(0);
    const first = await cli("kb", "show", "payee:acme", "--version", "1");
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("v1 of 2");
    expect(first.stdout).toContain("first");
    const json = JSON.parse(
      (await cli("kb", "show", "payee:acme", "--version", "1", "--json")).stdout,
    );
    expect(json).toMatchObject({ version: 1, content: "first" });

    const version = runCli(home, ["--version"]);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it("takes --config after the command too", async () => {
    const result = await cli("actions", "--config", `${home}/missing.yaml`);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`config file not found: ${home}/missing.yaml`);
  });

  it("ends quietly when the reader of a pipe goes away (actions --json | head -1)", async () => {
    seedActions(3000);
    const child = spawn(process.execPath, [...CLI, "actions", "--json", "--limit", "3000"], {
      env: { ...process.env, NIGHTSHIFT_HOME: home },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    // Like `head -1`: read the first chunk, then close the pipe.
    child.stdout.once("data", () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(stderr).toBe("");
    expect(code).toBe(0);
  });
});
