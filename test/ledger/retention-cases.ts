import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Action, AuditStatus } from "../../src/ledger/actions.js";
import type { LedgerStores } from "../../src/ledger/stores/index.js";
import type { RetentionConfig } from "../../src/retention/plan.js";
import { type PruneOptions, pruneLedger } from "../../src/retention/prune.js";
import { LISTED_BODY_CHARS } from "../../src/views/actions.js";
import { chatAction, DAY_MS, daysAgo, NOW, type SeedSpec } from "../retention/seed.js";

/** One engine's ledger for a case, with the test-only hooks other domains' stores will own. */
export interface RetentionFixture {
  stores: LedgerStores;
  /** What the audit does to an action (its store is another domain's). */
  setAuditStatus(ids: string[], status: AuditStatus): Promise<void>;
  /** A row's stored columns, retention's included. */
  row(id: string): Promise<Record<string, unknown> | undefined>;
  /** The same ledger through a second connection: another daemon (on PostgreSQL, another host). */
  openOther(): Promise<LedgerStores>;
  close(): Promise<void>;
}

const RETENTION: RetentionConfig = { detailed_days: 14, aggregate_after_days: 90, every_days: 7 };
const options = (extra: Partial<PruneOptions> = {}): PruneOptions => ({
  retention: RETENTION,
  now: NOW,
  vacuum: "never",
  minPauseMs: 0,
  pauseRatio: 0,
  ...extra,
});
const sha = (text: unknown) => createHash("sha256").update(String(text)).digest("hex");

/**
 * Retention's contract: every engine behind RetentionStore, DashboardReads and MetricsReads
 * passes these cases (retention-contract.test.ts runs them on SQLite and on PostgreSQL).
 */
export function retentionContract(open: () => Promise<RetentionFixture>): void {
  let f: RetentionFixture;
  beforeEach(async () => {
    f = await open();
  });
  afterEach(async () => {
    await f?.close();
  });

  async function seed(specs: SeedSpec[], at = 0): Promise<Action[]> {
    const actions = await f.stores.actions.insert(specs.map((s, i) => chatAction(s, at + i)));
    for (const [i, spec] of specs.entries()) {
      if (spec.status !== null) await f.setAuditStatus([actions[i]!.id], spec.status);
    }
    return actions;
  }

  describe("retention", () => {
    it("compresses reviewed rows past detailed_days: bodies dropped, summaries and hashes kept", async () => {
      const [old, young] = await seed([
        { ageDays: 20, status: "verified", flags: ["low_confidence"] },
        { ageDays: 10, status: "verified" },
      ]);
      const before = (await f.row(old!.id))!;
      const report = await pruneLedger(f.stores.retention, options());
      expect(report).toMatchObject({ status: "done", compressed: 1, aggregated: 0 });
      const row = (await f.row(old!.id))!;
      expect(row).toMatchObject({ tier: "compressed", request: null, response: null });
      expect(row.request_sha256).toBe(sha(before.request));
      expect(row.reasoning_sha256).toBe(sha(before.reasoning));
      expect(row.request_summary).toMatch(/^Categorize transaction #0: COFFEE SHOP 4.50 x+…$/);
      expect(JSON.parse(row.meta as string)).toEqual({ attempt: 1, checks: ["schema"] });
      const flagged = await f.stores.actions.list({ flag: "low_confidence" });
      expect(flagged.map((a) => a.id)).toEqual([old!.id]);
      expect((await f.row(young!.id))!.tier).toBe("detailed");
    });

    it("replaces old reviewed rows by day aggregates, keeps referenced ones, never held ones", async () => {
      const day = 100;
      const [, corrected, , , held] = await seed([
        { ageDays: day, status: "verified", confidence: 0.5, latencyMs: 100, flags: ["error"] },
        { ageDays: day, status: "corrected", confidence: 0.9, latencyMs: 300 },
        { ageDays: day, status: "passed", confidence: null, error: true, latencyMs: 200 },
        { ageDays: day, status: "verified", agent: "calendar" },
        { ageDays: 400, status: null, flags: ["low_confidence"] },
        { ageDays: 400, status: "in_review" },
      ]);
      const report = await pruneLedger(f.stores.retention, options());
      expect(report).toMatchObject({ aggregated: 4, aggregated_deleted: 3, aggregated_kept: 1 });
      expect(report.kept).toEqual({ unaudited: 0, flagged: 1, in_review: 1 });
      const aggregates = await f.stores.retention.aggregates();
      expect(aggregates.map((a) => [a.agent, a.count])).toEqual([
        ["calendar", 1],
        ["finance", 3],
      ]);
      expect(aggregates[1]).toMatchObject({
        day: new Date(daysAgo(day)).toISOString().slice(0, 10),
        error_count: 1,
        corrected_count: 1,
        flagged_count: 1,
        confidence_count: 2,
        confidence_min: 0.5,
        confidence_max: 0.9,
        latency_min: 100,
        latency_max: 300,
        latency_sum: 600,
      });
      expect(await f.stores.actions.list({ flag: "error" })).toEqual([]);
      expect(await f.row(corrected!.id)).toMatchObject({ tier: "compressed", aggregated_at: NOW });
      expect((await f.row(held!.id))!.tier).toBe("detailed");
      expect(await f.stores.actions.count()).toBe(3);
    });

    it("predicts exactly in a dry run, changes nothing, and a second run moves nothing", async () => {
      const statuses = ["verified", "passed", "corrected", "ruled", null, "in_review"] as const;
      await seed(
        Array.from({ length: 36 }, (_, i) => ({
          ageDays: 1 + i * 7,
          status: statuses[i % 6]!,
          flags: i % 4 === 0 ? ["low_confidence"] : [],
        })),
      );
      const capped = { ...RETENTION, hard_cap_days: 120 };
      const plan = await pruneLedger(
        f.stores.retention,
        options({ dryRun: true, retention: capped }),
      );
      expect(await f.stores.retention.runs()).toEqual([]);
      const done = await pruneLedger(
        f.stores.retention,
        options({ retention: capped, maxBatch: 4, minBatch: 2 }),
      );
      for (const key of ["compressed", "aggregated", "aggregated_deleted", "hard_capped", "kept"]) {
        expect(plan[key as keyof typeof plan], key).toEqual(done[key as keyof typeof done]);
      }
      expect(done.hard_capped.aggregated).toBeGreaterThan(0);
      const again = await pruneLedger(f.stores.retention, options({ retention: capped }));
      expect([again.compressed, again.aggregated]).toEqual([0, 0]);
      expect((await f.stores.retention.run(done.run_id!))!.status).toBe("done");
    });

    it("pauses between transactions and a resumed run finishes with the figures added up", async () => {
      await seed(Array.from({ length: 30 }, () => ({ ageDays: 30, status: "verified" as const })));
      let batches = 0;
      const first = await pruneLedger(
        f.stores.retention,
        options({ maxBatch: 10, minBatch: 10, shouldStop: () => ++batches >= 2 }),
      );
      expect(first).toMatchObject({ status: "paused", compressed: 20 });
      expect((await f.stores.retention.run(first.run_id!))!.status).toBe("paused");
      const resumed = await pruneLedger(
        f.stores.retention,
        options({ runId: first.run_id!, previous: first }),
      );
      expect(resumed).toMatchObject({ status: "done", compressed: 30, run_id: first.run_id });
    });

    it("reclaims space after a run and reports the size before and after", async () => {
      await seed(Array.from({ length: 200 }, () => ({ ageDays: 120, status: "passed" as const })));
      const report = await pruneLedger(f.stores.retention, options({ vacuum: "auto" }));
      expect(report.aggregated_deleted).toBe(200);
      expect(report.vacuum?.mode).not.toBe("none");
      expect(report.size.before).toBeGreaterThan(0);
      expect(report.size.after).toBeGreaterThan(0);
      expect(report.size.freed).toBe(report.size.before - report.size.after!);
    });

    it("counts every row once when two daemons prune the same ledger at once", async () => {
      await seed(
        Array.from({ length: 120 }, (_, i) => ({
          ageDays: i % 2 ? 30 : 120,
          status: "verified" as const,
          agent: i % 3 ? "finance" : "calendar",
        })),
      );
      const other = await f.openOther();
      try {
        const small = options({ maxBatch: 5, minBatch: 5, minPauseMs: 1 });
        const [a, b] = await Promise.all([
          pruneLedger(f.stores.retention, small),
          pruneLedger(other.retention, small),
        ]);
        expect(a.aggregated + b.aggregated).toBe(60);
        expect(a.compressed + b.compressed).toBe(60);
        const counted = (await f.stores.retention.aggregates()).reduce((n, x) => n + x.count, 0);
        expect(counted).toBe(60);
        expect(await f.stores.actions.count()).toBe(60);
        const runs = await f.stores.retention.runs();
        expect(runs.map((r) => r.status)).toEqual(["done", "done"]);
      } finally {
        await other.close();
      }
    });
  });

  describe("dashboard and metrics reads", () => {
    it("pages newest first with filters and a cursor, trimming long bodies to a preview", async () => {
      const specs = Array.from({ length: 7 }, (_, i) => ({
        ageDays: 1,
        status: null,
        agent: i < 5 ? "finance" : "calendar",
        flags: i === 2 ? ["low_confidence"] : [],
      }));
      const actions = await seed(specs);
      const newestFirst = actions.slice(0, 5).reverse();
      const first = await f.stores.dashboard.page(
        { agent: "finance", limit: 3 },
        LISTED_BODY_CHARS,
      );
      expect(first.map((a) => a.id)).toEqual(newestFirst.slice(0, 3).map((a) => a.id));
      const last = first.at(-1)!;
      const rest = await f.stores.dashboard.page(
        { agent: "finance", limit: 3, after: { startedAt: last.startedAt, id: last.id } },
        LISTED_BODY_CHARS,
      );
      expect(rest.map((a) => a.id)).toEqual(newestFirst.slice(3).map((a) => a.id));
      expect(first[0]!.request).toEqual(actions[4]!.request); // under 4,096 characters: whole
      const byFlag = await f.stores.dashboard.page({ flag: "low_confidence", limit: 10 }, 100);
      expect(byFlag.map((a) => a.id)).toEqual([actions[2]!.id]);
      const byText = await f.stores.dashboard.page({ text: "TRANSACTION #6", limit: 10 }, 100);
      expect(byText.map((a) => a.id)).toEqual([actions[6]!.id]);
      const unaudited = await f.stores.dashboard.page({ auditStatus: "none", limit: 100 }, 100);
      expect(unaudited).toHaveLength(7);
    });

    it("trims a body over 4,096 characters in a listing to its length and a 200-character preview", async () => {
      const big = "é".repeat(6000);
      const [action] = await f.stores.actions.insert([
        { ...chatAction({ ageDays: 1, status: null }), request: { prompt: big } },
      ]);
      const [listed] = await f.stores.dashboard.page({ limit: 1 }, LISTED_BODY_CHARS);
      const text = JSON.stringify({ prompt: big });
      expect(listed!.request).toEqual({
        $trimmed: { chars: text.length, preview: text.slice(0, 200) },
      });
      expect((listed!.response as { done: boolean }).done).toBe(true);
      expect((await f.stores.actions.get(action!.id))!.request).toEqual({ prompt: big });
    });

    it("totals calls by agent and model, latency percentiles, and a live feed's position", async () => {
      const latencies = [100, 200, 300, 400];
      const actions = await seed(
        latencies.map((latencyMs, i) => ({
          ageDays: 0.5,
          status: null,
          latencyMs,
          error: i === 0,
          agent: i === 3 ? "calendar" : "finance",
        })),
      );
      const since = NOW - DAY_MS;
      const groups = await f.stores.dashboard.callGroups(since, NOW);
      expect(groups).toEqual([
        {
          agent: "finance",
          model: "qwen2.5:7b",
          calls: 3,
          errors: 1,
          tokensIn: 3600,
          tokensOut: 120,
        },
        {
          agent: "calendar",
          model: "qwen2.5:7b",
          calls: 1,
          errors: 0,
          tokensIn: 1200,
          tokensOut: 40,
        },
      ]);
      expect(await f.stores.dashboard.latencyPercentiles(since, NOW, [0.5, 0.9, 1])).toEqual([
        200, 400, 400,
      ]);
      expect(await f.stores.dashboard.latencyPercentiles(0, 1, [0.5])).toEqual([null]);
      const newest = await f.stores.dashboard.newest();
      expect(newest).toEqual({ startedAt: actions[3]!.startedAt, id: actions[3]!.id });
      const after = { startedAt: actions[1]!.startedAt, id: actions[1]!.id };
      const fresh = await f.stores.dashboard.newerThan(after, 10, LISTED_BODY_CHARS);
      expect(fresh.map((a) => a.id)).toEqual([actions[2]!.id, actions[3]!.id]);
    });

    it("answers a metrics scrape, reading tables another part has not created as empty", async () => {
      expect(await f.stores.metrics.ledgerSizeBytes()).toBeGreaterThan(0);
      for (const read of [
        f.stores.metrics.auditVerdicts(),
        f.stores.metrics.reviewBacklog(),
        f.stores.metrics.jobStates(),
        f.stores.metrics.deliveries(),
        f.stores.metrics.latestGpus(f.stores.monitor.host),
      ]) {
        expect(Array.isArray(await read)).toBe(true);
      }
    });
  });
}

export function describeRetention(
  name: string,
  available: boolean,
  open: () => Promise<RetentionFixture>,
): void {
  describe.skipIf(!available)(name, () => retentionContract(open));
}
