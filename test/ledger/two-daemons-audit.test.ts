import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresActionLedger } from "../../src/ledger/postgres/action-ledger.js";
import { reviewerScript } from "../audit/reviewer-script.js";
import { DAY, HOUR, stageAction } from "../audit/seed.js";
import { CLI } from "../support/cli.js";
import { createTestDatabase, POSTGRES_SKIP, postgresUrl } from "../support/postgres-db.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { tempHome } from "../support/temp-ledger.js";
import { waitFor } from "../support/wait-for.js";

const ROOT = join(import.meta.dirname, "..", "..");

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `nightshift ARGS` as a separate process with its own data dir: one machine. */
function cli(home: string, args: string[]): { child: ChildProcess; exit: Promise<Exit> } {
  const child = spawn(process.execPath, [...CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, NIGHTSHIFT_HOME: home, NIGHTSHIFT_LEDGER_URL: "" },
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d));
  child.stderr!.on("data", (d: Buffer) => (stderr += d));
  const exit = new Promise<Exit>((resolve) =>
    child.on("exit", (code) => resolve({ code, stdout, stderr })),
  );
  return { child, exit };
}

/** `nightshift serve` on a free port with this home's config; resolves once it listens. */
function serve(home: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [...CLI, "serve", "--port", "0"], {
    cwd: ROOT,
    env: { ...process.env, NIGHTSHIFT_HOME: home, NIGHTSHIFT_LEDGER_URL: "" },
  });
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match && /\n {2}ledger: .*\n/.test(output)) resolve({ child, url: match[1]! });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`daemon exited with ${code}:\n${output}`)));
  });
}

/**
 * Two machines sharing one PostgreSQL ledger both start the night audit: it runs once. The
 * first machine's reviewer call is held until the second machine has been refused, so the two
 * runs overlap for certain, whatever the load.
 */
describe.skipIf(postgresUrl === null)(
  `an audit started on two machines against one database${postgresUrl ? "" : ` — ${POSTGRES_SKIP}`}`,
  () => {
    let upstream: ScriptedUpstream;
    let ledger: PostgresActionLedger;
    const homes = [tempHome(), tempHome()];
    const daemons: ChildProcess[] = [];

    beforeAll(async () => {
      upstream = await startScriptedUpstream({ models: ["qwen2.5:14b"] });
      const url = await createTestDatabase("two_daemons_audit", { migrated: true });
      ledger = await PostgresActionLedger.open(url);
      for (const { home } of homes) {
        writeFileSync(
          join(home, "nightshift.yaml"),
          JSON.stringify({
            ledger: { url },
            models: { auditor: { model: "qwen2.5:14b", url: upstream.url, context_window: 32768 } },
            audit: { sample_rate: 0, batch_max_items: 2, cross_agent_window_min: 1 },
          }),
        );
      }
    });
    afterAll(async () => {
      for (const child of daemons) {
        if (child.exitCode !== null || child.signalCode !== null) continue;
        child.kill("SIGTERM");
        await new Promise((resolve) => child.once("exit", resolve));
      }
      await ledger?.close();
      await upstream?.close();
      for (const home of homes) home.cleanup();
    });

    it("runs once: the second machine is told which run is running, where and since when", async () => {
      const start = Date.now() - DAY;
      const merchants = ["Starbucks", "Shell", "Netflix", "Uber", "Whole Foods", "Delta"];
      const actions = await ledger.actions.insert(
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
      const reviewer = reviewerScript((id) =>
        wrong.has(id)
          ? { verdict: "incorrect", corrected_output: { category: "Right" }, confidence: 0.95 }
          : { verdict: "correct", confidence: 0.95 },
      );
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let firstCall!: () => void;
      const reviewing = new Promise<void>((resolve) => {
        firstCall = resolve;
      });
      upstream.setScript(async (request) => {
        const reply = reviewer.script(request);
        if (reviewer.calls.length === 1) {
          firstCall();
          await held;
        }
        return reply;
      });

      const first = cli(homes[0]!.home, ["audit", "run", "--now"]);
      await Promise.race([
        reviewing,
        first.exit.then((e) => {
          throw new Error(`the first audit ended before reviewing: ${e.stderr}`);
        }),
      ]);
      const [run] = await ledger.audit.listRuns();
      expect(run).toMatchObject({
        status: "running",
        host: `${hostname()} pid ${first.child.pid}`,
      });

      // The other machine's daemon is asked over /v0 while the run goes on: refused, naming it.
      const daemon = await serve(homes[1]!.home);
      daemons.push(daemon.child);
      const started = await fetch(`${daemon.url}/v0/audit/runs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      expect(started.status).toBe(409);
      expect(((await started.json()) as { error: string }).error).toContain(
        `an audit is already running: run ${run!.id} on ${hostname()} pid ${first.child.pid}`,
      );
      const second = await cli(homes[1]!.home, ["audit", "run", "--now"]).exit;
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(
        `an audit is already running: run ${run!.id} on ${hostname()} pid ${first.child.pid}, started ${new Date(run!.startedAt).toISOString()}`,
      );
      expect(second.stdout).toBe("");

      release();
      const done = await first.exit;
      expect(done.code).toBe(0);
      expect(done.stdout).toContain(`Audit run ${run!.id}  done`);

      const runs = await ledger.audit.listRuns();
      expect(runs.map((r) => [r.id, r.status])).toEqual([[run!.id, "done"]]);
      const asked = reviewer.calls.flat();
      expect(asked.sort()).toEqual(actions.map((a) => a.id).sort());
      expect(await ledger.audit.runCorrections(run!.id)).toHaveLength(3);
      const statuses = await Promise.all(
        actions.map(async (a) => (await ledger.actions.get(a.id))?.auditStatus),
      );
      expect(statuses.sort()).toEqual([
        "corrected",
        "corrected",
        "corrected",
        "verified",
        "verified",
        "verified",
      ]);

      // The report reads the same from the other machine, on the command line and from /v0.
      const report = await cli(homes[1]!.home, ["audit", "report", "--json"]).exit;
      const reported = JSON.parse(report.stdout);
      expect(reported).toMatchObject({
        run: { id: run!.id, status: "done" },
        items: { total: 6 },
        corrections: { total: 3, applied: 3 },
      });
      // The reviewer's stages were logged in the shared database by the first machine.
      expect(reported.usage.reviewer_calls).toBeGreaterThanOrEqual(3);
      expect(reported.usage.tokens_in).toBeGreaterThan(0);
      expect(reported.usage.tokens_out).toBeGreaterThan(0);
      try {
        const get = async (path: string) => {
          const response = await fetch(`${daemon.url}${path}`);
          return {
            status: response.status,
            body: (await response.json()) as Record<string, unknown>,
          };
        };
        expect(await get("/v0/audit/runs")).toMatchObject({
          status: 200,
          body: { runs: [{ id: run!.id, status: "done", summary: { items: 6, corrections: 3 } }] },
        });
        expect(await get(`/v0/audit/runs/${run!.id.slice(0, 10)}`)).toMatchObject({
          status: 200,
          body: { run: { id: run!.id }, verdicts: { correct: 3, incorrect: 3 } },
        });
        const corrected = actions.find((a) => wrong.has(a.id))!;
        expect(await get(`/v0/actions/${corrected.id}`)).toMatchObject({
          status: 200,
          body: {
            audit: [{ run_id: run!.id, verdict: "incorrect" }],
            corrections: [{ corrected: { category: "Right" } }],
          },
        });
        // Once it is done, /v0 starts the next run in that daemon, on the shared ledger.
        const next = await fetch(`${daemon.url}/v0/audit/runs`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ seed: "night-2" }),
        });
        expect(next.status).toBe(200);
        const { run: nextRun } = (await next.json()) as { run: { id: string; seed: string } };
        expect(nextRun.seed).toBe("night-2");
        await waitFor("the run started over /v0 to finish", async () =>
          (await ledger.audit.getRun(nextRun.id))?.status === "done" ? true : undefined,
        );
        expect(await ledger.audit.getRun(nextRun.id)).toMatchObject({
          host: expect.stringMatching(/ pid \d+$/),
        });
        const curve = await get("/v0/audit/learning-curve?days=3");
        expect(curve.status).toBe(200);
        expect(curve.body.days).toEqual(
          expect.arrayContaining([expect.objectContaining({ wrong: expect.any(Number) })]),
        );
      } finally {
        daemon.child.kill("SIGTERM");
        await new Promise((resolve) => daemon.child.once("exit", resolve));
      }
    }, 180_000);
  },
);
