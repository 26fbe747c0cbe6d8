/**
 * Retention on both engines, side by side: the same generated ledger (chat actions of ~5 KB, ages
 * spread over 180 days, 80% audited) pruned on SQLite and on PostgreSQL, while this process keeps
 * inserting one small action every 5 ms the way a gateway would. Prints the prune's rows/s, the
 * size before and after (SQLite: the file; PostgreSQL: pg_total_relation_size of the pruned
 * tables), the reclaim, and the inserts' p50/p99/max latency during the prune.
 *
 *   npm run bench -- prune-engines                      # 50,000 actions per engine
 *   NIGHTSHIFT_BENCH_ROWS=200000 npm run bench -- prune-engines
 *   NIGHTSHIFT_BENCH_PG_URL=postgres://… npm run bench -- prune-engines   # your own server
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { NewAction } from "../src/ledger/actions.js";
import { Ledger } from "../src/ledger/ledger.js";
import { PostgresActionLedger } from "../src/ledger/postgres/action-ledger.js";
import { SqliteActionLedger } from "../src/ledger/sqlite/action-ledger.js";
import type { LedgerStores } from "../src/ledger/stores/index.js";
import { pruneLedger } from "../src/retention/prune.js";
import { findPostgresBin, type PostgresCluster, startPostgres } from "../test/support/postgres.js";
import { freshDatabase } from "./fresh-database.js";

const ROWS = Number(process.env.NIGHTSHIFT_BENCH_ROWS ?? 50_000);
const DAY_MS = 86_400_000;
const out = (line: string) => process.stdout.write(`${line}\n`);
const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;

function action(i: number, now: number): NewAction {
  const startedAt = now - Math.floor((i / ROWS) * 180 * DAY_MS);
  return {
    agent: i % 3 ? "finance" : "calendar",
    actionType: "chat",
    model: "qwen2.5:7b",
    startedAt,
    endedAt: startedAt + 700,
    latencyMs: 700,
    status: "ok",
    request: {
      model: "qwen2.5:7b",
      messages: [
        { role: "system", content: `Rules. ${"r".repeat(2000)}` },
        { role: "user", content: `transaction #${i} ${"x".repeat(600)}` },
      ],
    },
    response: { message: { role: "assistant", content: `{"n":${i}} ${"y".repeat(1500)}` } },
    reasoning: `because ${"z".repeat(800)}`,
    confidence: 0.9,
    flags: i % 10 === 0 ? ["low_confidence"] : [],
    tokensIn: 1200,
    tokensOut: 40,
  };
}

async function generate(stores: LedgerStores, audit: (sql: string) => Promise<void>) {
  const now = Date.now();
  for (let from = 0; from < ROWS; from += 1000) {
    const batch = Array.from({ length: Math.min(1000, ROWS - from) }, (_, k) =>
      action(from + k, now),
    );
    await stores.actions.insert(batch);
  }
  // 80% audited: what the night shift leaves behind.
  await audit(
    "UPDATE actions SET audit_status = CASE WHEN confidence > 0 AND (tokens_in + length(id)) % 5 <> 0 THEN 'verified' END",
  );
  return now;
}

/** Inserts one small action every 5 ms until stopped; returns the latencies (ms). */
function gateway(stores: LedgerStores): { stop(): Promise<number[]> } {
  const latencies: number[] = [];
  let running = true;
  const loop = (async () => {
    for (let n = 0; running; n++) {
      const t0 = performance.now();
      await stores.actions.insert([
        { agent: "gw", actionType: "chat", startedAt: Date.now(), status: "ok", request: { n } },
      ]);
      latencies.push(performance.now() - t0);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return latencies.sort((a, b) => a - b);
    },
  };
}

const at = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;

async function measure(name: string, stores: LedgerStores, audit: (sql: string) => Promise<void>) {
  const t0 = performance.now();
  const now = await generate(stores, audit);
  out(
    `${name}: generated ${ROWS.toLocaleString()} actions in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const writer = gateway(stores);
  const report = await pruneLedger(stores.retention, {
    retention: { detailed_days: 14, aggregate_after_days: 90, every_days: 7 },
    now,
    vacuum: "auto",
  });
  const latencies = await writer.stop();
  out(
    `${name}: prune moved ${(report.aggregated + report.compressed).toLocaleString()} rows in ${(report.duration_ms / 1000).toFixed(1)} s = ${report.rows_per_s.toLocaleString()} rows/s; ` +
      `size ${mb(report.size.before)} → ${mb(report.size.after ?? 0)} (${report.vacuum?.mode} vacuum); ` +
      `inserts during the prune: n=${latencies.length} p50 ${at(latencies, 0.5).toFixed(2)} ms, p99 ${at(latencies, 0.99).toFixed(2)} ms, max ${at(latencies, 1).toFixed(1)} ms`,
  );
}

const home = mkdtempSync(join(tmpdir(), "nightshift-retention-engines-"));
let cluster: PostgresCluster | undefined;
try {
  out(
    `retention on both engines (${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)}, node ${process.version}), ${ROWS.toLocaleString()} actions of ~5 KB each`,
  );
  const ledger = Ledger.open(join(home, "nightshift.db"));
  const sqlite = new SqliteActionLedger(ledger);
  await measure("sqlite", sqlite, async (sql) => {
    ledger.db.exec(sql);
  });
  await sqlite.close();

  let admin = process.env.NIGHTSHIFT_BENCH_PG_URL;
  if (!admin) {
    const bin = findPostgresBin();
    if (!bin) throw new Error("PostgreSQL is not installed (see .ci/postgres.sh)");
    cluster = await startPostgres(bin, true);
    admin = cluster.url;
  }
  const postgres = await PostgresActionLedger.open(
    await freshDatabase(admin, "ns_bench_retention"),
  );
  await measure("postgres", postgres, async (sql) => {
    await postgres.pool.query(sql);
  });
  await postgres.close();
} finally {
  await cluster?.stop();
  rmSync(home, { recursive: true, force: true });
}
