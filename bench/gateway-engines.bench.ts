import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { findPostgresBin, type PostgresCluster, startPostgres } from "../test/support/postgres.js";
import { freshDatabase } from "./fresh-database.js";

/**
 * Gateway added latency with each ledger engine: the same scripted upstream called directly,
 * through a `nightshift serve` logging to SQLite, and through one logging to PostgreSQL (durable
 * defaults, a cluster made for the run), alternating rounds so drift on a shared machine hits all
 * three alike. Goal: PostgreSQL's added latency within 0.2 ms of SQLite's.
 */

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SELF = fileURLToPath(import.meta.url);

if (process.argv[2] === "upstream") {
  const { startScriptedUpstream } = await import("../test/support/scripted-upstream.js");
  const upstream = await startScriptedUpstream({
    script: () => ({ content: "The total for October is 1,234.56 dollars." }),
  });
  process.stdout.write(`${upstream.url}\n`);
  await new Promise(() => {});
}

const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const BODY = Buffer.from(
  JSON.stringify({
    model: "qwen2.5:7b",
    stream: false,
    messages: [
      { role: "system", content: "You categorize bank transactions. ".repeat(12) },
      { role: "user", content: "2026-10-03 AMAZON MKTPL*2K4 Amzn.com/bill WA  -23.99" },
    ],
  }),
);

function call(base: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request(
      `${base}/api/chat`,
      {
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "x-nightshift-agent": "bench" },
      },
      (res) => {
        res.on("data", () => {});
        res.on("end", () => resolve(performance.now() - t0));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(BODY);
  });
}

async function median(base: string, count: number, concurrency: number): Promise<number> {
  const times: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < count) times.push(await call(base));
    }),
  );
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

function startChild(args: string[], env: NodeJS.ProcessEnv, pattern: RegExp) {
  const child = spawn(process.execPath, ["--import", "tsx", ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise<{ child: ChildProcess; url: string }>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = pattern.exec(out);
      if (match) resolve({ child, url: match[1]! });
    });
    child.once("exit", (code) => reject(new Error(`${args.join(" ")} exited ${code}: ${out}`)));
  });
}

function gatewayHome(): string {
  const home = mkdtempSync(join(tmpdir(), "nightshift-bench-"));
  writeFileSync(
    join(home, "nightshift.yaml"),
    "monitor:\n  enabled: false\nscheduler:\n  enabled: false\n",
  );
  return home;
}

const homes = [gatewayHome(), gatewayHome()];
const children: ChildProcess[] = [];
let cluster: PostgresCluster | undefined;
try {
  const bin = findPostgresBin();
  if (!bin) throw new Error("PostgreSQL is not installed (see .ci/postgres.sh)");
  cluster = await startPostgres(bin, true);
  const ledgerUrl = await freshDatabase(cluster.url, "gateway_bench");
  const upstream = await startChild([SELF, "upstream"], {}, /^(http:\/\/\S+)\n/);
  children.push(upstream.child);
  const serve = ["src/cli/main.ts", "serve", "--port", "0", "--upstream", upstream.url];
  const listening = /listening on (http:\/\/\S+)/;
  const sqlite = await startChild(serve, { NIGHTSHIFT_HOME: homes[0] }, listening);
  children.push(sqlite.child);
  const postgres = await startChild(
    serve,
    { NIGHTSHIFT_HOME: homes[1], NIGHTSHIFT_LEDGER_URL: ledgerUrl },
    listening,
  );
  children.push(postgres.child);
  const targets = { direct: upstream.url, sqlite: sqlite.url, postgres: postgres.url };
  for (const base of Object.values(targets)) await median(base, 500, 4);

  process.stdout.write(
    `gateway added latency by ledger engine (${cpus().length} cores, node ${process.version})\n`,
  );
  const summary: Record<string, unknown> = { bench: "gateway-engines" };
  for (const [name, count, concurrency] of [
    ["c=1", 1500, 1],
    ["c=64", 6000, 64],
  ] as const) {
    const runs: Record<string, number[]> = { direct: [], sqlite: [], postgres: [] };
    for (let round = 0; round < 3; round++) {
      for (const [key, base] of Object.entries(targets))
        runs[key]!.push(await median(base, count, concurrency));
    }
    const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
    const direct = mid(runs.direct!);
    const addedSqlite = mid(runs.sqlite!) - direct;
    const addedPostgres = mid(runs.postgres!) - direct;
    process.stdout.write(
      `non-stream ${name}: direct median ${direct.toFixed(3)} ms; added by the gateway: SQLite ${addedSqlite.toFixed(3)} ms, PostgreSQL ${addedPostgres.toFixed(3)} ms (difference ${(addedPostgres - addedSqlite).toFixed(3)} ms, goal ≤ 0.2)\n`,
    );
    summary[name] = {
      direct_median_ms: +direct.toFixed(3),
      added_sqlite_ms: +addedSqlite.toFixed(3),
      added_postgres_ms: +addedPostgres.toFixed(3),
    };
  }
  process.stdout.write(`${JSON.stringify(summary)}\n`);
} finally {
  for (const child of children.reverse()) {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
  agent.destroy();
  await cluster?.stop();
  for (const home of homes) rmSync(home, { recursive: true, force: true });
}
