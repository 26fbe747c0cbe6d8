import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import type { NewAction } from "../src/ledger/actions.js";
import { Ledger } from "../src/ledger/ledger.js";

/**
 * Ledger ingest: actions/s through the batched ActionWriter into a real WAL file, with bodies the
 * size of a real chat call (a system prompt, a user message, an assembled reply, counts and
 * durations). Goal ≥ 20,000 actions/s.
 */

const TOTAL = 100_000;
const home = mkdtempSync(join(tmpdir(), "nightshift-ingest-"));
const ledger = Ledger.open(join(home, "nightshift.db"), { flushIntervalMs: 50, batchSize: 512 });

const agents = ["finance", "calendar", "research", "code", "chat"];
function action(i: number): NewAction {
  const startedAt = Date.now();
  return {
    agent: agents[i % agents.length]!,
    actionType: "chat",
    model: "qwen2.5:7b",
    upstream: "http://127.0.0.1:11434",
    gpu: 0,
    startedAt,
    endedAt: startedAt + 850,
    latencyMs: 850.25,
    status: i % 50 === 0 ? "error" : "ok",
    error:
      i % 50 === 0 ? "upstream http://127.0.0.1:11434 broke off the reply after 12 chunks" : null,
    request: {
      model: "qwen2.5:7b",
      messages: [
        {
          role: "system",
          content: "You categorize bank transactions into the user's categories. ".repeat(8),
        },
        {
          role: "user",
          content: `2026-10-${String((i % 28) + 1).padStart(2, "0")} AMAZON MKTPL*2K4 Amzn.com/bill WA -23.99 #${i}`,
        },
      ],
      format: {
        type: "object",
        properties: { category: { type: "string" }, confidence: { type: "number" } },
      },
      options: { temperature: 0 },
    },
    response: {
      model: "qwen2.5:7b",
      message: {
        role: "assistant",
        content: `{"category": "Shopping", "confidence": 0.${i % 100}} ${"because ".repeat(30)}`,
      },
      done: true,
      done_reason: "stop",
    },
    flags: i % 10 === 0 ? ["low_confidence"] : [],
    confidence: (i % 100) / 100,
    tokensIn: 180,
    tokensOut: 42,
    loadDuration: 3_000_000,
    promptEvalDuration: 120_000_000,
    evalDuration: 700_000_000,
    totalDuration: 850_000_000,
    meta: { api: "ollama", path: "/api/chat", http_status: 200, ttft_ms: 95.5, chunks: 43 },
  };
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
