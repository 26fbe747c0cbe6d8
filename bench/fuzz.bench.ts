import { cpus } from "node:os";
import { startHostileRig } from "../test/hardening/daemon.js";
import { runFuzzBatch } from "../test/hardening/fuzz-core.js";

/**
 * Hostile input at volume: batches of fuzzed paths, headers and bodies (fast-check) against the
 * real daemon (gateway, API, SQLite ledger on a file), each batch with its own seed. After every
 * batch the daemon must still answer and every answer with an action id must be in the ledger.
 * `npm run bench -- fuzz` (20 batches × 500 cases; FUZZ_BATCHES and FUZZ_RUNS change them).
 */

const batches = Number(process.env.FUZZ_BATCHES ?? 20);
const runs = Number(process.env.FUZZ_RUNS ?? 500);
const rig = await startHostileRig({
  config: (raw) => {
    raw.server = { allowed_origins: ["https://app.example"] };
  },
});
const started = performance.now();
let cases = 0;
let answered = 0;
let logged = 0;
let peakRss = 0;
const crashes: string[] = [];
const unlogged: string[] = [];
const untracked: string[] = [];
let dead = 0;
try {
  for (let b = 0; b < batches; b++) {
    const batch = await runFuzzBatch(rig, { runs, seed: 1000 + b });
    cases += batch.cases;
    answered += batch.answered;
    logged += batch.logged;
    crashes.push(...batch.crashes);
    unlogged.push(...batch.unlogged);
    untracked.push(...batch.untracked);
    if (!batch.alive) dead += 1;
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    process.stderr.write(
      `batch ${b + 1}/${batches}: ${batch.cases} cases, ${batch.crashes.length} crashes, ${batch.answered} answered, ${batch.logged} logged\n`,
    );
  }
} finally {
  await rig.close();
}
const result = {
  bench: "fuzz",
  machine: `${cpus().length} cores`,
  batches,
  cases,
  crashes: crashes.length,
  daemon_down_after_batch: dead,
  answered,
  logged,
  unlogged: unlogged.length,
  untracked: untracked.length,
  seconds: Math.round((performance.now() - started) / 100) / 10,
  peak_rss_mb: Math.round(peakRss / 1e6),
  examples: [...crashes, ...unlogged, ...untracked].slice(0, 10),
};
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
if (crashes.length || unlogged.length || untracked.length || dead) process.exitCode = 1;
