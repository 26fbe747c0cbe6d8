import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI } from "../support/cli.js";
import { createTestDatabase, postgresUrl } from "../support/postgres-db.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { tempHome } from "../support/temp-ledger.js";
import { waitFor } from "../support/wait-for.js";

interface DaemonProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/**
 * One config for both daemons, as two machines of a home lab would have: a job due on both
 * ("once"), and two long jobs that want GPU 0 ("night" first, then "other"). The long commands
 * end when their daemon dies, as a GPU job's process would with its machine.
 */
function writeConfig(home: string, marks: string): void {
  const untilParentDies = "while kill -0 $PPID 2>/dev/null; do sleep 0.2; done";
  const job = (command: string, gpu?: number) => ({
    command,
    requires_idle: false,
    min_interval_h: 24,
    ...(gpu === undefined ? {} : { gpu }),
  });
  const config = {
    monitor: { enabled: false },
    scheduler: {
      evaluate_every_s: 0.5,
      watch_every_s: 0.5,
      lease_ttl_s: 3,
      jobs: {
        once: job(`echo "$NIGHTSHIFT_RUN_ID" >> ${marks}`),
        night: job(untilParentDies, 0),
        other: job(untilParentDies, 0),
      },
    },
  };
  // JSON is YAML.
  writeFileSync(join(home, "nightshift.yaml"), JSON.stringify(config, null, 2));
}

function startDaemon(home: string, upstream: string, ledgerUrl: string): Promise<DaemonProcess> {
  const child = spawn(process.execPath, [...CLI, "serve", "--port", "0", "--upstream", upstream], {
    env: { ...process.env, NIGHTSHIFT_HOME: home, NIGHTSHIFT_LEDGER_URL: ledgerUrl },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon did not start:\n${output}`)), 90_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match && /\n {2}ledger: .*\n/.test(output)) {
        clearTimeout(timer);
        resolve({ child, url: match[1]!, output: () => output });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`daemon exited with ${code}:\n${output}`)));
  });
}

describe.skipIf(postgresUrl === null)(
  "two daemons scheduling against one PostgreSQL ledger",
  () => {
    let upstream: ScriptedUpstream;
    let db: pg.Client;
    let a: DaemonProcess;
    let b: DaemonProcess;
    let url: string;
    const homeA = tempHome();
    const homeB = tempHome();
    const marks = join(homeA.home, "once-runs.txt");

    const lease = async () =>
      (await db.query("SELECT * FROM gpu_leases WHERE gpu = 0")).rows[0] as
        | { holder: string; job: string; run_id: string; acquired_at: string; expires_at: string }
        | undefined;
    const runs = async (job: string) =>
      (
        await db.query("SELECT id, status, holder, attempts FROM scheduler_runs WHERE job = $1", [
          job,
        ])
      ).rows as { id: string; status: string; holder: string; attempts: number }[];
    const pidOf = (holder: string) => Number(holder.split(":")[1]);

    beforeAll(async () => {
      upstream = await startScriptedUpstream();
      url = await createTestDatabase("two_daemons_scheduler");
      db = new pg.Client(url);
      await db.connect();
      writeConfig(homeA.home, marks);
      writeConfig(homeB.home, marks);
      [a, b] = await Promise.all([
        startDaemon(homeA.home, upstream.url, url),
        startDaemon(homeB.home, upstream.url, url),
      ]);
    }, 120_000);
    afterAll(async () => {
      for (const d of [a, b]) d?.child.kill("SIGKILL");
      await db?.end();
      await upstream?.close();
      homeA.cleanup();
      homeB.cleanup();
    });

    it("runs a job due on both daemons once, and gives GPU 0 to one job of one daemon", async () => {
      // Both daemons see "once" due; one runs it, the other finds it running or done.
      await waitFor("both daemons to see once done", async () =>
        [a, b].every((d) => /once: skip: last success [\d.]+ h ago/.test(d.output()))
          ? true
          : undefined,
      );
      expect(readFileSync(marks, "utf8").trim().split("\n")).toHaveLength(1);
      expect(await runs("once")).toEqual([
        expect.objectContaining({ status: "done", attempts: 1 }),
      ]);

      const held = await waitFor("GPU 0 leased", lease);
      expect(held.job).toBe("night");
      expect(await runs("night")).toEqual([
        expect.objectContaining({ status: "running", id: held.run_id }),
      ]);
      // "other" wants GPU 0 too: both daemons hold it back, neither runs it.
      await waitFor("the other daemon to be refused GPU 0 for other", async () =>
        [a, b].every((d) => /other: skip: .*GPU 0 leased by night/.test(d.output()))
          ? true
          : undefined,
      );
      expect(await runs("other")).toEqual([]);
      expect([a.child.pid, b.child.pid]).toContain(pidOf(held.holder));
      // The API of either daemon says where it runs.
      const jobs = (await (await fetch(`${b.url}/v0/jobs`)).json()) as {
        jobs: { name: string; running: { holder: string } | null }[];
      };
      expect(jobs.jobs.find((j) => j.name === "night")?.running?.holder).toBe(
        held.holder.split("#")[0],
      );
      // So does `nightshift jobs` on any machine with ledger.url set.
      const cli = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
        execFile(
          process.execPath,
          [...CLI, "jobs", "--json"],
          { env: { ...process.env, NIGHTSHIFT_HOME: homeA.home, NIGHTSHIFT_LEDGER_URL: url } },
          (error, stdout, stderr) =>
            error ? reject(new Error(stderr)) : resolve({ stdout, stderr }),
        ),
      );
      const listed = JSON.parse(cli.stdout) as {
        jobs: {
          name: string;
          running: { holder: string } | null;
          last_runs: { status: string }[];
        }[];
        decisions: { job: string; decision: string }[];
      };
      const byName = new Map(listed.jobs.map((j) => [j.name, j]));
      expect(byName.get("night")?.running?.holder).toBe(held.holder.split("#")[0]);
      expect(byName.get("once")?.last_runs.map((r) => r.status)).toEqual(["done"]);
      expect(listed.decisions.length).toBeGreaterThan(0);
    }, 180_000);

    it("hands the GPU and the run to the other daemon after kill -9 of the holder, once expired", async () => {
      const held = (await lease())!;
      const [dead, survivor] = pidOf(held.holder) === a.child.pid ? [a, b] : [b, a];
      const exited = new Promise((resolve) => dead.child.once("exit", resolve));
      dead.child.kill("SIGKILL");
      await exited;
      // Until its lease runs out, the dead holder keeps it: nobody takes a live-looking lease.
      const last = (await lease())!;
      expect(pidOf(last.holder)).toBe(dead.child.pid);

      const taken = await waitFor("the survivor to take GPU 0", async () => {
        const now = await lease();
        return now && pidOf(now.holder) === survivor.child.pid ? now : undefined;
      });
      // int8 comes back as text from a plain client.
      expect(Number(taken.acquired_at)).toBeGreaterThanOrEqual(Number(last.expires_at));
      expect(taken).toMatchObject({ job: "night", run_id: held.run_id });
      expect(await runs("night")).toEqual([
        expect.objectContaining({ id: held.run_id, status: "running", attempts: 2 }),
      ]);
      // The lease row lands before the survivor's log line about it: wait for the line itself.
      await waitFor("the survivor's resume line", async () =>
        /night: resume: all conditions hold/.test(survivor.output()) ? true : undefined,
      );

      // Stopped cleanly, the survivor pauses the job and gives GPU 0 back.
      const stopped = new Promise((resolve) => survivor.child.once("exit", resolve));
      survivor.child.kill("SIGTERM");
      await stopped;
      expect(await lease()).toBeUndefined();
      expect(await runs("night")).toEqual([expect.objectContaining({ status: "paused" })]);
      expect(await runs("other")).toEqual([]);
    }, 180_000);
  },
);
