import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import type { NewAction } from "../src/ledger/actions.js";
import { Ledger } from "../src/ledger/ledger.js";
import { sampleAction } from "./sample-action.js";

/**
 * Ledger ingest: actions/s through the batched ActionWriter into a real WAL file, with bodies the
 * size of a real chat call (a system prompt, a user message, an assembled reply, counts and
 * durations). Goal ≥ 20,000 actions/s.
 */

const TOTAL = 100_000;
const home = mkdtempSync(join(tmpdir(), "nightshift-ingest-"));
const ledger = Ledger.open(join(home, "nightshift.db"), { flushIntervalMs: 50, batchSize: 512 });

/** A chat-sized action (bench/sample-action.ts), stamped now. */
function action(i: number): NewAction {
  return sampleAction(i, Date.now());
}

// Prepare the inputs first, so only the writer and SQLite are measured.
const inputs = Array.from({ length: TOTAL }, (_, i) => action(i));
const writeTimes: number[] = [];
const t0 = performance.now();
const cpu0 = process.cpuUsage();
for (let i = 0; i < TOTAL; i++) {
  const w0 = performance.now();
  ledger.writer.write(inputs[i]!);
  if (i % 97 === 0) writeTimes.push(performance.now() - w0);
}
ledger.writer.flush();
const seconds = (performance.now() - t0) / 1000;
// CPU time as well as wall time: on a shared machine, wall time measures the neighbours too.
const cpu = process.cpuUsage(cpu0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const count = ledger.actions.count();
const size = ledger.sizeBytes();
ledger.close();
rmSync(home, { recursive: true, force: true });

writeTimes.sort((a, b) => a - b);
const median = writeTimes[Math.floor(writeTimes.length / 2)]!;
const rate = TOTAL / seconds;
process.stdout.write(
  `ledger ingest (${cpus().length} cores, ${cpus()[0]?.model ?? "?"}, node ${process.version})\n` +
    `${TOTAL} actions in ${seconds.toFixed(2)} s: ${Math.round(rate)} actions/s (goal 20000)\n` +
    `${cpuSeconds.toFixed(2)} s of CPU: ${Math.round(TOTAL / cpuSeconds)} actions per CPU-second\n` +
    `write() median ${(median * 1000).toFixed(1)} µs (batches of 512 commit inside the call that fills them)\n` +
    `database ${(size / 1024 / 1024).toFixed(1)} MiB, ${Math.round(size / TOTAL)} bytes/action, ${count} rows\n`,
);
if (count !== TOTAL) throw new Error(`expected ${TOTAL} rows, found ${count}`);
process.stdout.write(
  `${JSON.stringify({ bench: "ledger-ingest", actions: TOTAL, actions_per_s: Math.round(rate), actions_per_cpu_s: Math.round(TOTAL / cpuSeconds), write_median_us: +(median * 1000).toFixed(1), bytes_per_action: Math.round(size / TOTAL) })}\n`,
);
