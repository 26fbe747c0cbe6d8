import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, beforeEach, expect, it } from "vitest";
import type { Ledger } from "../../src/ledger/ledger.js";
import { pruneLedger } from "../../src/retention/prune.js";
import { tempLedger } from "../support/temp-ledger.js";
import { NOW, retentionOf, type SeedSpec, seed } from "./seed.js";

const STATUSES = ["verified", "passed", "corrected", "ruled", null, "in_review"] as const;
const specs: SeedSpec[] = Array.from({ length: 300 }, (_, i) => ({
  ageDays: 1 + ((i * 37) % 200),
  status: STATUSES[i % STATUSES.length]!,
  agent: i % 3 === 0 ? "calendar" : "finance",
  flags: i % 5 === 0 ? ["low_confidence"] : [],
  confidence: (i % 10) / 10,
}));

let ledger: Ledger;
let cleanup: () => void;
beforeEach(() => {
  ({ ledger, cleanup } = tempLedger());
});
afterEach(() => cleanup());

/** Kills the child prune with SIGKILL once it has committed `after` transactions. */
function pruneAndKill(path: string, after: number): Promise<number> {
  const child = spawn(
    process.execPath,
    [join(import.meta.dirname, "prune-child.mjs"), path, String(NOW), "150"],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  return new Promise((resolve, reject) => {
    let seen = 0;
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (line === "done") reject(new Error("the prune finished before it could be killed"));
      if (line.startsWith("batch") && ++seen === after) child.kill("SIGKILL");
    });
    child.on("exit", (_code, signal) => (signal === "SIGKILL" ? resolve(seen) : undefined));
    child.on("error", reject);
  });
}

/** Per day x agent x action_type: rows still present (uncounted) plus their aggregate's count. */
function accounted(db: Ledger["db"]): Record<string, number> {
  const totals: Record<string, number> = {};
  const rows = db
    .prepare(
      `SELECT strftime('%Y-%m-%d', started_at / 1000, 'unixepoch') || ' ' || agent AS k, count(*) AS n
       FROM actions WHERE aggregated_at IS NULL GROUP BY k
       UNION ALL SELECT day || ' ' || agent, count FROM action_aggregates`,
    )
    .all() as Array<{ k: string; n: number }>;
  for (const row of rows) totals[row.k] = (totals[row.k] ?? 0) + row.n;
  return totals;
}

function expectConsistent(db: Ledger["db"]): void {
  expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
  const halfDone = db
    .prepare(
      `SELECT count(*) FROM actions WHERE
         (tier = 'compressed' AND (request IS NOT NULL OR request_sha256 IS NULL OR response_summary IS NULL))
         OR (tier = 'detailed' AND (request IS NULL OR request_sha256 IS NOT NULL))`,
    )
    .pluck()
    .get();
  expect(halfDone).toBe(0);
  // the flag index and the rows agree: no orphans, no flag lost
  const orphans = db
    .prepare(
      "SELECT count(*) FROM action_flags f LEFT JOIN actions a ON a.id = f.action_id WHERE a.id IS NULL",
    )
    .pluck()
    .get();
  expect(orphans).toBe(0);
  const missing = db
    .prepare(
      `SELECT count(*) FROM actions a WHERE a.flags != '[]'
         AND NOT EXISTS (SELECT 1 FROM action_flags f WHERE f.action_id = a.id)`,
    )
    .pluck()
    .get();
  expect(missing).toBe(0);
}

it("a kill -9 mid-prune leaves a consistent ledger, and a re-run completes the work", async () => {
  seed(ledger, specs);
  const original = accounted(ledger.db);
  ledger.db.pragma("wal_checkpoint(TRUNCATE)");

  const seen = await pruneAndKill(ledger.path, 6);
  expect(seen).toBe(6);
  expectConsistent(ledger.db);
  expect(accounted(ledger.db)).toEqual(original); // nothing lost, nothing counted twice
  const store = retentionOf(ledger);
  const [killed] = await store.runs();
  expect(killed!.status).toBe("running");

  const retention = {
    detailed_days: 14,
    aggregate_after_days: 90,
    every_days: 7 as const,
    hard_cap_days: 150,
  };
  const rerun = await pruneLedger(retentionOf(ledger), {
    retention,
    now: NOW,
    vacuum: "never",
    minPauseMs: 0,
  });
  expect(rerun.compressed + rerun.aggregated).toBeGreaterThan(0); // the kill left work to do
  expect((await store.run(killed!.id))!.status).toBe("interrupted");
  expectConsistent(ledger.db);
  expect(accounted(ledger.db)).toEqual(original);

  // the end state is the one an uninterrupted prune reaches on the same actions
  const control = tempLedger();
  try {
    seed(control.ledger, specs);
    await pruneLedger(retentionOf(control.ledger), {
      retention,
      now: NOW,
      vacuum: "never",
      minPauseMs: 0,
    });
    const shape = (db: Ledger["db"]) => ({
      tiers: db
        .prepare("SELECT tier, audit_status, count(*) n FROM actions GROUP BY 1, 2 ORDER BY 1, 2")
        .all(),
      aggregates: db
        .prepare("SELECT * FROM action_aggregates ORDER BY day, agent, action_type")
        .all()
        .map((row) => ({ ...(row as object), updated_at: 0 })),
    });
    expect(shape(ledger.db)).toEqual(shape(control.ledger.db));
  } finally {
    control.cleanup();
  }
  const again = await pruneLedger(retentionOf(ledger), {
    retention,
    now: NOW,
    vacuum: "never",
    minPauseMs: 0,
  });
  expect([again.compressed, again.aggregated]).toEqual([0, 0]);
}, 180_000);
