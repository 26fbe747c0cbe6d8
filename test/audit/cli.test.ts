import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AUDITOR_AGENT } from "../../src/audit/select.js";
import type { LedgerStores } from "../../src/ledger/stores/index.js";
import { CLI } from "../support/cli.js";
import { runCliInProcess } from "../support/cli-in-process.js";
import { ENGINES } from "../support/engines.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { tempHome } from "../support/temp-ledger.js";
import { reviewerScript } from "./reviewer-script.js";
import { DAY, HOUR, stageAction } from "./seed.js";

const ROOT = join(import.meta.dirname, "..", "..");

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The built CLI in a process of its own: the one a test kills. */
function cli(home: string, args: string[]): { child: ChildProcess; exit: Promise<Exit> } {
  const child = spawn(process.execPath, [...CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, NIGHTSHIFT_HOME: home },
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d));
  child.stderr!.on("data", (d: Buffer) => (stderr += d));
  const exit = new Promise<Exit>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, exit };
}

async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the condition");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.each(ENGINES)("nightshift audit (CLI) on $name", (engine) => {
  let home: string;
  let cleanup: () => void;
  let upstream: ScriptedUpstream;
  let stores: LedgerStores;
  let closeStores: () => Promise<void>;

  beforeEach(async (context) => {
    if (!engine.available) return context.skip();
    ({ home, cleanup } = tempHome());
    upstream = await startScriptedUpstream({ models: ["qwen2.5:14b"] });
    const opened = await engine.open("audit_cli", home);
    stores = opened.stores;
    closeStores = opened.close;
    writeFileSync(
      join(home, "nightshift.yaml"),
      JSON.stringify({
        models: { auditor: { model: "qwen2.5:14b", url: upstream.url, context_window: 32768 } },
        audit: { sample_rate: 0, batch_max_items: 2, cross_agent_window_min: 1 },
        // SQLite: the CLI opens the same file as the test; PostgreSQL: the same database.
        ledger: opened.url ? { url: opened.url } : {},
      }),
    );
  });
  afterEach(async () => {
    await closeStores?.();
    await upstream?.close();
    cleanup?.();
  });

  /** Six flagged categorizations an hour apart: three batches of two, one mistake in each. */
  async function seedMistakes() {
    const start = Date.now() - DAY;
    const merchants = ["Starbucks", "Shell", "Netflix", "Uber", "Whole Foods", "Delta"];
    const actions = await stores.actions.insert(
      merchants.map((merchant, i) =>
        stageAction({
          input: { merchant },
          output: { category: i % 2 === 0 ? "Wrong" : "Right" },
          at: start + i * HOUR,
          confidence: 0.6,
          flags: ["low_confidence"],
        }),
      ),
    );
    const wrong = new Set(actions.filter((_, i) => i % 2 === 0).map((a) => a.id));
    return reviewerScript((id) =>
      wrong.has(id)
        ? { verdict: "incorrect", corrected_output: { category: "Right" }, confidence: 0.95 }
        : { verdict: "correct", confidence: 0.95 },
    );
  }

  it("resumes a run killed with SIGKILL mid-batch without correcting anything twice", async () => {
    const reviewer = await seedMistakes();
    // The second reviewer call hangs long enough to be killed in the middle of it.
    upstream.setScript((request) => {
      const reply = reviewer.script(request) as { content: string };
      return reviewer.calls.length === 2 ? { ...reply, delayMs: 60_000 } : reply;
    });
    const first = cli(home, ["audit", "run", "--now"]);
    const audit = stores.audit;
    await until(() => reviewer.calls.length === 2);
    const run = (await audit.latestRun())!;
    expect(run).toMatchObject({ status: "running", nextBatch: 1, batches: 3 });
    expect(run.host).toBe(`${hostname()} pid ${first.child.pid}`);
    expect(await audit.runCorrections(run.id)).toHaveLength(1);
    first.child.kill("SIGKILL");
    expect((await first.exit).signal).toBe("SIGKILL");

    upstream.setScript(reviewer.script);
    const second = await runCliInProcess(home, ["audit", "run", "--now"]);
    expect(second.stderr).toContain(`resuming audit run ${run.id} at batch 2 of 3`);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`Audit run ${run.id}  done`);

    const corrections = await audit.runCorrections(run.id);
    expect(corrections).toHaveLength(3);
    expect(new Set(corrections.map((c) => c.actionId)).size).toBe(3);
    const items = await audit.runItems(run.id);
    expect(items.every((i) => i.verdict !== null)).toBe(true);
    // Batch 2 was asked twice (the killed call and the resumed one); batches 1 and 3 once.
    const asked = reviewer.calls.flat();
    const times = (id: string) => asked.filter((a) => a === id).length;
    expect(items.map((i) => [i.batch, times(i.actionId)])).toEqual([
      [0, 1],
      [0, 1],
      [1, 2],
      [1, 2],
      [2, 1],
      [2, 1],
    ]);

    const report = await runCliInProcess(home, ["audit", "report", "--json"]);
    const json = JSON.parse(report.stdout) as {
      items: { total: number };
      corrections: { total: number };
      verdicts: Record<string, number>;
      usage: { reviewer_calls: number; tokens_in: number; tokens_out: number };
    };
    expect(json.items.total).toBe(6);
    expect(json.corrections.total).toBe(3);
    expect(json.verdicts).toEqual({ correct: 3, incorrect: 3, unsure: 0, pending: 0 });
    // The reviewer's stages are logged in this ledger (PostgreSQL too), so its calls and tokens
    // count: one call per batch committed (the killed call never finished).
    const attempts = await stores.actions.list({ agent: AUDITOR_AGENT, actionType: "attempt" });
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    expect(json.usage.reviewer_calls).toBeGreaterThanOrEqual(3);
    expect(json.usage.tokens_in).toBeGreaterThan(0);
    expect(json.usage.tokens_out).toBeGreaterThan(0);

    const list = await runCliInProcess(home, ["audit", "list"]);
    expect(list.stdout).toMatch(new RegExp(`${run.id}\\s+done\\s+.*\\s3/3\\s+6\\s+3`));
  }, 90_000);

  it("says which conditions block the audit when run without --now", async () => {
    await seedMistakes();
    const result = await runCliInProcess(home, ["audit", "run"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("the audit's conditions do not hold now");
    expect(result.stderr).toContain("nightshift audit run --now");
    expect(await stores.audit.latestRun()).toBeUndefined();
  }, 60_000);

  it("answers a report request before any run with what to do", async () => {
    const result = await runCliInProcess(home, ["audit", "report"]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      "nightshift: no audit has run yet; start one with `nightshift audit run --now`",
    );
  }, 60_000);
});
