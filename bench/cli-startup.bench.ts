import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ledger } from "../src/ledger/ledger.js";
import { ensureBuiltCli } from "../test/support/build-cli.js";
import { generate } from "./retention.bench.js";

/**
 * CLI start-up, side by side with bare Node: `node -e 0`, `nightshift --version` and
 * `nightshift actions --limit 20` on a 1,000,000-action ledger, each the median of RUNS
 * spawns of the built CLI (dist/cli/main.js, as `nightshift` runs it).
 * Goals: --version within 100 ms of Node's own start-up; actions within 300 ms.
 * NIGHTSHIFT_BENCH_ROWS=N for another ledger size.
 */
const RUNS = 15;
const ROWS = Number(process.env.NIGHTSHIFT_BENCH_ROWS ?? 1_000_000);
const cli = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));

ensureBuiltCli();
const home = mkdtempSync(join(tmpdir(), "nightshift-startup-"));
try {
  const seeded = performance.now();
  const ledger = Ledger.open(join(home, "nightshift.db"));
  generate(ledger, ROWS, Date.now());
  ledger.close();
  log(`seeded ${ROWS} actions in ${((performance.now() - seeded) / 1000).toFixed(1)} s`);
  log(`machine: ${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)}`);

  const node = measure(["-e", "0"]);
  const version = measure([cli, "--version"]);
  const actions = measure([cli, "actions", "--limit", "20"], { NIGHTSHIFT_HOME: home });
  log(`node -e 0                        median ${node.toFixed(0)} ms`);
  log(
    `nightshift --version             median ${version.toFixed(0)} ms  (+${(version - node).toFixed(0)} ms over node; goal ≤ +100)`,
  );
  log(
    `nightshift actions --limit 20    median ${actions.toFixed(0)} ms  (${ROWS} actions; goal ≤ 300)`,
  );
  const result = {
    rows: ROWS,
    runs: RUNS,
    node_ms: round(node),
    version_ms: round(version),
    version_over_node_ms: round(version - node),
    actions_ms: round(actions),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  rmSync(home, { recursive: true, force: true });
}

/** Median wall time of RUNS spawns, after one warm-up (the file cache, not the process). */
function measure(args: string[], env: NodeJS.ProcessEnv = {}): number {
  const times: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const started = performance.now();
    const result = spawnSync(process.execPath, args, {
      env: { ...process.env, ...env },
      encoding: "utf8",
    });
    const ms = performance.now() - started;
    if (result.status !== 0) {
      throw new Error(`node ${args.join(" ")} failed (${result.status}): ${result.stderr}`);
    }
    if (i > 0) times.push(ms);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}
