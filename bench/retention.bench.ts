/**
 * Retention benchmark: a generated ledger of realistic actions (bodies of a few KB, ages spread
 * over 180 days, most of them audited), pruned while a second process writes small actions at a
 * steady 200/s the way the gateway's writer does. Prints prune throughput, the database size
 * before and after, and the writer's latency percentiles while rows move and while the file is
 * vacuumed.
 *
 *   npm run bench -- retention                         # 1,000,000 actions (several GB, minutes)
 *   NIGHTSHIFT_BENCH_ROWS=100000 npm run bench -- retention
 *   node --import tsx bench/retention.bench.ts --rows 100000
 *   NIGHTSHIFT_BENCH_TRACE_IDS=random npm run bench -- retention   # foreign tracers' trace ids
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { newActionId, newTraceId } from "../src/ledger/ids.js";
import { Ledger } from "../src/ledger/ledger.js";
import { sqliteStores } from "../src/ledger/select.js";
import { type PrunePhase, pruneLedger } from "../src/retention/prune.js";

const DAY_MS = 86_400_000;
const WRITES_PER_S = 200;
const BASELINE_MS = 5000;

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const isMain = process.argv[1] === fileURLToPath(import.meta.url);
if (isMain && process.argv.includes("--writer")) await writer(argValue("--writer")!);
else if (isMain) await main();

async function main(): Promise<void> {
  const rows = Number(argValue("--rows") ?? process.env.NIGHTSHIFT_BENCH_ROWS ?? 1_000_000);
  const home = mkdtempSync(join(tmpdir(), "nightshift-retention-bench-"));
  const path = join(home, "nightshift.db");
  try {
    const now = Date.now();
    const ledger = Ledger.open(path);
    const t0 = performance.now();
    const traceIds = process.env.NIGHTSHIFT_BENCH_TRACE_IDS === "random" ? "random" : "time";
    generate(ledger, rows, now, traceIds);
    ledger.db.pragma("wal_checkpoint(TRUNCATE)");
    const genS = (performance.now() - t0) / 1000;
    const sizeBefore = ledger.sizeBytes();
    log(
      `generated ${rows.toLocaleString()} actions in ${genS.toFixed(1)} s (${mb(sizeBefore)}; ${traceIds} trace ids)`,
    );

    const child = startWriter(path);
    await child.ready;
    // A quiet stretch first: the writer's latency with nothing else on the file, for comparison.
    const baselineFrom = Date.now();
    await sleep(BASELINE_MS);
    const cpuBefore = process.cpuUsage();
    let cpuMoving: NodeJS.CpuUsage | undefined;
    const phases: Array<{ phase: PrunePhase | "start" | "end"; at: number }> = [
      { phase: "start", at: Date.now() },
    ];
    const report = await pruneLedger(sqliteStores(ledger).retention, {
      retention: { detailed_days: 14, aggregate_after_days: 90, every_days: 7 },
      now,
      trigger: "cli",
      ...pacingFromEnv(),
      vacuum: "auto",
      onProgress: (p) => {
        if (phases.at(-1)?.phase === p.phase) return;
        phases.push({ phase: p.phase, at: Date.now() });
        if (p.phase === "samples" || p.phase === "vacuum")
          cpuMoving ??= process.cpuUsage(cpuBefore);
      },
    });
    phases.push({ phase: "end", at: Date.now() });
    const cpu = cpuMoving ?? process.cpuUsage(cpuBefore);
    const samples = await child.stop();
    ledger.close();
    const baseline = samples.filter(
      ([at]) => at >= baselineFrom && at < baselineFrom + BASELINE_MS,
    );
    summarize(rows, sizeBefore, report, phases, samples, {
      baseline: baseline.map(([, ms]) => ms),
      cpuS: (cpu.user + cpu.system) / 1e6,
    });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/**
 * One prepared statement, 10,000 rows per transaction, bodies built from a few templates. Trace
 * ids are time-ordered as the gateway and runtime make them; "random" is what a foreign tracer's
 * traceparent brings, and shows what that costs the prune.
 */
export function generate(
  ledger: Ledger,
  rows: number,
  now: number,
  traceIds: "time" | "random" = "time",
): void {
  const insert = ledger.db.prepare(
    `INSERT INTO actions (id, trace_id, agent, action_type, model, started_at, ended_at, latency_ms,
       status, request, response, reasoning, confidence, flags, tokens_in, tokens_out, meta,
       audit_status)
     VALUES (?, ?, ?, 'chat', 'qwen2.5:7b', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const flag = ledger.db.prepare(
    "INSERT INTO action_flags (flag, started_at, action_id) VALUES ('low_confidence', ?, ?)",
  );
  const agents = ["finance", "calendar", "research", "code", "chat"];
  const system = `You are a careful assistant. ${"Follow the rules. ".repeat(90)}`;
  const batch = ledger.db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      // Oldest first, as the gateway logs them: rowid order follows time, as in a real ledger.
      const startedAt = now - 180 * DAY_MS + Math.floor((i / rows) * 180 * DAY_MS);
      const roll = (i * 2654435761) % 100;
      const status =
        roll < 5
          ? null
          : roll < 7
            ? "in_review"
            : roll < 9
              ? "corrected"
              : roll < 10
                ? "ruled"
                : roll < 60
                  ? "verified"
                  : "passed";
      const flagged = status === null ? roll < 2 : roll % 10 === 0;
      const id = newActionId(startedAt);
      const latency = 200 + (i % 1800);
      insert.run(
        id,
        traceIds === "random" ? randomUUID().replaceAll("-", "") : newTraceId(startedAt),
        agents[i % agents.length],
        startedAt,
        startedAt + latency,
        latency,
        i % 97 === 0 ? "error" : "ok",
        JSON.stringify({
          model: "qwen2.5:7b",
          messages: [
            { role: "system", content: system },
            { role: "user", content: `Request ${i}: ${"please look at this. ".repeat(40)}` },
          ],
        }),
        JSON.stringify({
          message: {
            role: "assistant",
            content: `Answer ${i}: ${"the answer is this. ".repeat(45)}`,
          },
          done: true,
        }),
        `Reasoning ${i}: ${"one step, then another. ".repeat(40)}`,
        0.5 + (i % 50) / 100,
        flagged ? '["low_confidence"]' : "[]",
        1200 + (i % 300),
        40 + (i % 200),
        JSON.stringify({ attempt: 1, checks: ["schema"] }),
        status,
      );
      if (flagged) flag.run(startedAt, id);
    }
  });
  for (let from = 0; from < rows; from += 10_000) batch(from, Math.min(rows, from + 10_000));
}

interface WriterHandle {
  ready: Promise<void>;
  stop(): Promise<Array<[number, number]>>;
}

/** The gateway stand-in: another process on the same file, committing one small action per write. */
function startWriter(path: string): WriterHandle {
  const self = fileURLToPath(import.meta.url);
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", self, "--writer", path], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  let resolveReady: () => void;
  let resolveDone: (samples: Array<[number, number]>) => void;
  const ready = new Promise<void>((r) => (resolveReady = r));
  const done = new Promise<Array<[number, number]>>((r) => (resolveDone = r));
  lines.on("line", (line) => {
    if (line === "ready") resolveReady();
    else resolveDone(JSON.parse(line) as Array<[number, number]>);
  });
  return {
    ready,
    stop: () => {
      child.stdin!.end("stop\n");
      return done;
    },
  };
}

/**
 * Writes like the gateway under the daemon: small actions, 200 a second, through the ledger's
 * ActionWriter, whose background flush tries the lock without blocking the event loop and retries
 * every millisecond while the prune holds it. The flush interval is 0 here, so what is measured,
 * from `write()` (a request's end) to its commit, is the wait for the lock and the commit itself
 * rather than the writer's deliberate 50 ms batching.
 */
async function writer(path: string): Promise<void> {
  const samples: Array<[number, number]> = [];
  const pending = new Map<string, [number, number]>();
  const ledger = Ledger.open(path, {
    flushIntervalMs: 0,
    onCommit: (actions) => {
      const done = performance.now();
      for (const action of actions) {
        const [at, t] = pending.get(action.id)!;
        pending.delete(action.id);
        samples.push([at, done - t]);
      }
    },
  });
  let n = 0;
  const timer = setInterval(() => {
    const at = Date.now();
    const t = performance.now();
    const action = ledger.writer.write({
      agent: "bench",
      actionType: "chat",
      startedAt: at,
      status: "ok",
      request: { n: n++ },
    });
    pending.set(action.id, [at, t]);
  }, 1000 / WRITES_PER_S);
  process.stdout.write("ready\n");
  process.stdin.once("data", () => {
    clearInterval(timer);
    ledger.close();
    process.stdout.write(`${JSON.stringify(samples)}\n`);
  });
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function summarize(
  rows: number,
  sizeBefore: number,
  report: Awaited<ReturnType<typeof pruneLedger>>,
  phases: Array<{ phase: string; at: number }>,
  samples: Array<[number, number]>,
  extra: { baseline: number[]; cpuS: number },
): void {
  // Rows move until the vacuum starts (the monitor's sample rollup is not part of this ledger).
  const vacuumAt = phases.find((p) => p.phase === "vacuum")?.at ?? phases.at(-1)!.at;
  const start = phases[0]!.at;
  const end = phases.at(-1)!.at;
  // A write belongs to the moves if it finished before the vacuum began; one the vacuum held up
  // counts as the vacuum's.
  const moving = samples
    .filter(([at, ms]) => at >= start && at + ms < vacuumAt)
    .map(([, ms]) => ms);
  const vacuuming = samples
    .filter(([at, ms]) => at + ms >= vacuumAt && at <= end)
    .map(([, ms]) => ms);
  const moveS = (vacuumAt - start) / 1000;
  const moved = report.compressed + report.aggregated;
  const result = {
    rows,
    moved,
    compressed: report.compressed,
    aggregated: report.aggregated,
    kept: report.kept,
    move_s: Number(moveS.toFixed(2)),
    rows_per_s: Math.round(moved / moveS),
    rows_per_cpu_s: Math.round(moved / extra.cpuS),
    total_s: Number(((end - start) / 1000).toFixed(2)),
    size_before: sizeBefore,
    size_after: report.size.after,
    vacuum: report.vacuum?.mode,
    write_p99_baseline_ms: round(percentile(extra.baseline, 99)),
    writes_during_moves: moving.length,
    write_p50_ms: round(percentile(moving, 50)),
    write_p99_ms: round(percentile(moving, 99)),
    write_max_ms: round(Math.max(0, ...moving)),
    writes_during_vacuum: vacuuming.length,
    write_p99_vacuum_ms: round(percentile(vacuuming, 99)),
    write_max_vacuum_ms: round(Math.max(0, ...vacuuming)),
  };
  log(
    `pruned: ${report.compressed.toLocaleString()} compressed, ${report.aggregated.toLocaleString()} aggregated in ${moveS.toFixed(1)} s = ${result.rows_per_s.toLocaleString()} rows/s (goal ≥ 20,000)`,
  );
  log(
    `size: ${mb(sizeBefore)} → ${mb(report.size.after ?? 0)} (vacuum: ${report.vacuum?.mode}; ${report.vacuum?.reason}${report.vacuum?.wal_busy ? "; the write-ahead log could not be truncated yet" : ""})`,
  );
  log(
    `prune CPU while rows moved: ${extra.cpuS.toFixed(1)} s (${result.rows_per_cpu_s.toLocaleString()} rows per CPU-second); load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`,
  );
  log(`ledger writes with no prune running: p99 ${result.write_p99_baseline_ms} ms`);
  log(
    `ledger writes while rows moved (${moving.length} at ${WRITES_PER_S}/s): p50 ${result.write_p50_ms} ms, p99 ${result.write_p99_ms} ms (goal ≤ 50), max ${result.write_max_ms} ms`,
  );
  log(
    `ledger writes during the vacuum (${vacuuming.length}): p99 ${result.write_p99_vacuum_ms} ms, max ${result.write_max_vacuum_ms} ms`,
  );
  process.stdout.write(`${JSON.stringify({ bench: "retention", ...result })}\n`);
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** NIGHTSHIFT_BENCH_PAUSE_RATIO / _MIN_PAUSE_MS try other pacing than the CLI's default. */
function pacingFromEnv(): { pauseRatio?: number; minPauseMs?: number } {
  const ratio = process.env.NIGHTSHIFT_BENCH_PAUSE_RATIO;
  const minPause = process.env.NIGHTSHIFT_BENCH_MIN_PAUSE_MS;
  return {
    ...(ratio ? { pauseRatio: Number(ratio) } : {}),
    ...(minPause ? { minPauseMs: Number(minPause) } : {}),
  };
}
