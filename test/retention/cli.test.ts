import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Ledger } from "../../src/ledger/ledger.js";
import { PostgresActionLedger } from "../../src/ledger/postgres/action-ledger.js";
import { sqliteStores } from "../../src/ledger/select.js";
import type { LedgerStores } from "../../src/ledger/stores/index.js";
import { runCliInProcess } from "../support/cli-in-process.js";
import { createTestDatabase, postgresUrl } from "../support/postgres-db.js";
import { tempHome } from "../support/temp-ledger.js";
import { chatAction, NOW, type SeedSpec } from "./seed.js";

/** The ledger the CLI is pointed at: its stores, how the audit marks rows, and the CLI's env. */
interface Target {
  stores: LedgerStores;
  setAuditStatus(id: string, status: NonNullable<SeedSpec["status"]>): Promise<void>;
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

const engines: Array<[string, boolean, (home: string) => Promise<Target>]> = [
  [
    "SQLite",
    true,
    async (home) => {
      const ledger = Ledger.open(join(home, "nightshift.db"), { flushIntervalMs: 5 });
      return {
        stores: sqliteStores(ledger),
        setAuditStatus: async (id, status) => ledger.actions.setAuditStatus([id], status),
        env: {},
        close: async () => ledger.close(),
      };
    },
  ],
  [
    "PostgreSQL",
    postgresUrl !== null,
    async () => {
      const url = await createTestDatabase("prune_cli", { migrated: true });
      const stores = await PostgresActionLedger.open(url, { flushIntervalMs: 5 });
      return {
        stores,
        setAuditStatus: async (id, status) => {
          await stores.pool.query("UPDATE actions SET audit_status = $1 WHERE id = $2", [
            status,
            id,
          ]);
        },
        env: { NIGHTSHIFT_LEDGER_URL: url },
        close: () => stores.close(),
      };
    },
  ],
];

describe.each(engines)("nightshift prune on %s", (_name, available, open) => {
  let target: Target;
  let home: ReturnType<typeof tempHome>;
  beforeEach(async () => {
    if (!available) return;
    home = tempHome();
    target = await open(home.home);
    // Ages are relative to the real clock here: the CLI prunes as of now.
    const now = Date.now();
    const ago = (days: number) => days - (now - NOW) / 86_400_000;
    const specs: SeedSpec[] = [
      { ageDays: ago(20), status: "verified" },
      { ageDays: ago(100), status: "passed" },
      { ageDays: ago(100), status: "corrected" },
      { ageDays: ago(30), status: null, flags: ["low_confidence"] },
      { ageDays: ago(30), status: "in_review" },
    ];
    const actions = await target.stores.actions.insert(specs.map((s, i) => chatAction(s, i)));
    for (const [i, spec] of specs.entries()) {
      if (spec.status) await target.setAuditStatus(actions[i]!.id, spec.status);
    }
  });
  afterEach(async () => {
    if (!available) return;
    await target.close();
    home.cleanup();
  });

  const nightshift = (...args: string[]) => runCliInProcess(home.home, args, target.env);
  const compressed = async () =>
    (await target.stores.actions.list({ limit: 100 })).filter((a) => a.tier === "compressed");

  it.skipIf(!available)(
    "--dry-run --json reports what would move and changes nothing",
    async () => {
      const { code, stdout, stderr } = await nightshift("prune", "--dry-run", "--json");
      expect(stderr).toBe("");
      expect(code).toBe(0);
      const report = JSON.parse(stdout);
      expect(report).toMatchObject({
        dry_run: true,
        compressed: 2, // the 20-day-old one, and the corrected one kept for its correction
        aggregated: 2,
        aggregated_deleted: 1,
        aggregated_kept: 1,
        kept: { unaudited: 0, flagged: 1, in_review: 1 },
        size: { after: null },
      });
      expect(report.size.before).toBeGreaterThan(0);
      expect(await target.stores.actions.count()).toBe(5);
      expect(await compressed()).toEqual([]);
    },
  );

  it.skipIf(!available)(
    "moves the rows and prints each tier and the size before and after",
    async () => {
      const { code, stdout, stderr } = await nightshift("prune");
      expect(code).toBe(0);
      expect(stdout).toMatch(/detailed → compressed\s+moved 2\n/);
      expect(stdout).toMatch(
        /→ aggregated\s+moved 2 \(1 rows replaced by their aggregates, 1 kept compressed/,
      );
      expect(stdout).toMatch(
        /kept detailed\s+0 not yet audited, 1 flagged and unresolved, 1 in review/,
      );
      const vacuum =
        /database\s+[\d.]+ [KM]B → [\d.]+ [KM]B \((no|incremental|full|plain) vacuum: /.exec(
          stdout,
        );
      expect(vacuum).not.toBeNull();
      expect(stderr).toMatch(/compress: 100%/); // progress goes to stderr
      // Vacuum progress only when a vacuum ran.
      expect(/^vacuum: /m.test(stderr)).toBe(vacuum![1] !== "no");
      expect(await target.stores.actions.count()).toBe(4);
      expect(await compressed()).toHaveLength(2);
      const again = JSON.parse((await nightshift("prune", "--json")).stdout);
      expect([again.compressed, again.aggregated]).toEqual([0, 0]);
    },
  );

  it.skipIf(!available)("refuses an unknown --vacuum mode with one line on stderr", async () => {
    const { code, stderr } = await nightshift("prune", "--vacuum", "sometimes");
    expect(code).toBe(1);
    expect(stderr).toBe("nightshift: --vacuum sometimes: expected auto, full or never\n");
  });
});
