import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { ManualClock } from "../src/clock.js";
import { KnowledgeBase } from "../src/knowledge/kb.js";
import { Ledger } from "../src/ledger/ledger.js";
import { PostgresActionLedger } from "../src/ledger/postgres/action-ledger.js";
import { SqliteActionLedger } from "../src/ledger/sqlite/action-ledger.js";
import type { LedgerStores } from "../src/ledger/stores/index.js";
import { findPostgresBin, type PostgresCluster, startPostgres } from "../test/support/postgres.js";
import { freshDatabase } from "./fresh-database.js";

/**
 * The knowledge base on both engines, side by side in one run: writing entries one change at a
 * time (each its own transaction, as the audit and the CLI write), importing them in one change,
 * and full-text searches as a stage makes them (a transaction's description against the agent's
 * scope and shared). PostgreSQL runs with its durable defaults on a cluster made for the run, or
 * on NIGHTSHIFT_BENCH_PG_URL (a database it may fill).
 */

const ENTRIES = Number(process.env.BENCH_KB_ENTRIES ?? 2000);
const SEARCHES = Number(process.env.BENCH_KB_SEARCHES ?? 1000);
const out = (line: string) => process.stdout.write(`${line}\n`);

const WORDS = `coffee groceries fuel rent dining travel pharmacy books cinema parking insurance
  electricity water internet phone gym taxi train flight hotel bakery butcher market hardware
  garden pets school tuition donation salary refund transfer subscription streaming music games`
  .split(/\s+/)
  .filter(Boolean);

function entryText(i: number): { scope: string; key: string; content: string } {
  const pick = (k: number) => WORDS[(i * 7 + k * 13) % WORDS.length]!;
  return {
    scope: i % 3 === 0 ? "shared" : "finance",
    key: `payee:merchant-${i}`,
    content: `Merchant ${i} sells ${pick(1)} and ${pick(2)}; purchases there are ${pick(3)}, never ${pick(4)}.`,
  };
}

async function measure(stores: LedgerStores) {
  const kb = new KnowledgeBase(stores.knowledge, { clock: new ManualClock() });
  const person = { kind: "person" as const, ref: "bench" };
  let t0 = performance.now();
  for (let i = 0; i < ENTRIES; i++) await kb.put(entryText(i), person);
  const putRate = ENTRIES / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  const imported = Array.from({ length: ENTRIES }, (_, i) => ({
    ...entryText(i),
    content: `${entryText(i).content} (imported)`,
  }));
  await kb.putMany(imported, { kind: "import", ref: "bench.ndjson" });
  const importRate = ENTRIES / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  let hits = 0;
  for (let i = 0; i < SEARCHES; i++) {
    const text = `CARD PAYMENT ${WORDS[i % WORDS.length]} ${WORDS[(i * 5) % WORDS.length]} #${i}`;
    hits += (await kb.search({ agent: "finance", text, limit: 5 })).length;
  }
  const searchMs = (performance.now() - t0) / SEARCHES;
  return { putRate, importRate, searchMs, hits };
}

const home = mkdtempSync(join(tmpdir(), "nightshift-kb-bench-"));
let cluster: PostgresCluster | undefined;
try {
  let admin = process.env.NIGHTSHIFT_BENCH_PG_URL;
  if (!admin) {
    const bin = findPostgresBin();
    if (!bin) throw new Error("PostgreSQL is not installed (see .ci/postgres.sh)");
    cluster = await startPostgres(bin, true);
    admin = cluster.url;
  }
  out(`knowledge base (${cpus().length} cores, node ${process.version}), ${ENTRIES} entries`);
  const sqlite = new SqliteActionLedger(Ledger.open(join(home, "kb.db")));
  const lite = await measure(sqlite);
  await sqlite.close();
  const postgres = await PostgresActionLedger.open(await freshDatabase(admin, "bench_knowledge"));
  const gres = await measure(postgres);
  await postgres.close();
  for (const [engine, r] of [
    ["SQLite", lite],
    ["PostgreSQL", gres],
  ] as const) {
    out(
      `${engine}: put ${Math.round(r.putRate)} entries/s (one transaction each), import ${Math.round(r.importRate)} entries/s (one transaction), search ${r.searchMs.toFixed(2)} ms (${r.hits} hits in ${SEARCHES})`,
    );
  }
  out(
    JSON.stringify({
      bench: "knowledge-engines",
      entries: ENTRIES,
      sqlite_put_per_s: Math.round(lite.putRate),
      sqlite_import_per_s: Math.round(lite.importRate),
      sqlite_search_ms: Number(lite.searchMs.toFixed(3)),
      postgres_put_per_s: Math.round(gres.putRate),
      postgres_import_per_s: Math.round(gres.importRate),
      postgres_search_ms: Number(gres.searchMs.toFixed(3)),
    }),
  );
} finally {
  await cluster?.stop();
  rmSync(home, { recursive: true, force: true });
}
