import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Ledger } from "../../src/ledger/ledger.js";
import type { RetentionConfig } from "../../src/retention/plan.js";
import { type PruneOptions, pruneLedger } from "../../src/retention/prune.js";
import { tempLedger } from "../support/temp-ledger.js";
import { DAY_MS, daysAgo, NOW, retentionOf, seed } from "./seed.js";

const RETENTION: RetentionConfig = { detailed_days: 14, aggregate_after_days: 90, every_days: 7 };

function options(extra: Partial<PruneOptions> = {}): PruneOptions {
  return {
    retention: RETENTION,
    now: NOW,
    vacuum: "never",
    minPauseMs: 0,
    pauseRatio: 0,
    ...extra,
  };
}

/** Everything retention may change, as one digest: equal digests mean nothing changed. */
function digest(ledger: Ledger): string {
  const hash = createHash("sha256");
  for (const table of ["actions", "action_flags", "action_aggregates"]) {
    const order = table === "action_aggregates" ? "day, agent, action_type" : "1, 2, 3";
    hash.update(
      JSON.stringify(ledger.db.prepare(`SELECT * FROM ${table} ORDER BY ${order}`).all()),
    );
  }
  return hash.digest("hex");
}

function raw(ledger: Ledger, id: string): Record<string, unknown> | undefined {
  return ledger.db.prepare("SELECT * FROM actions WHERE id = ?").get(id) as
    | Record<string, unknown>
    | undefined;
}

let ledger: Ledger;
let cleanup: () => void;
beforeEach(() => {
  ({ ledger, cleanup } = tempLedger());
});
afterEach(() => cleanup());

describe("compressed tier", () => {
  it("compresses a verified action older than 14 days: bodies dropped, summaries and hashes kept", async () => {
    const [old, young] = seed(ledger, [
      { ageDays: 20, status: "verified", flags: ["low_confidence"] },
      { ageDays: 10, status: "verified" },
    ]);
    const before = raw(ledger, old!.id)!;
    const report = await pruneLedger(retentionOf(ledger), options());
    expect(report.compressed).toBe(1);
    const row = raw(ledger, old!.id)!;
    expect(row).toMatchObject({
      tier: "compressed",
      request: null,
      response: null,
      reasoning: null,
    });
    const sha = (text: unknown) => createHash("sha256").update(String(text)).digest("hex");
    expect(row.request_sha256).toBe(sha(before.request));
    expect(row.response_sha256).toBe(sha(before.response));
    expect(row.reasoning_sha256).toBe(sha(before.reasoning));
    expect(row.request_summary).toMatch(/^Categorize transaction #0: COFFEE SHOP 4.50 x+…$/);
    expect((row.request_summary as string).length).toBe(200);
    expect(row.response_summary).toMatch(/^\{"category":"dining","n":0\} y+…$/);
    for (const kept of [
      "model",
      "confidence",
      "tokens_in",
      "tokens_out",
      "latency_ms",
      "flags",
      "started_at",
    ]) {
      expect(row[kept]).toEqual(before[kept]);
    }
    // meta keeps its small fields and loses the bulky copy of the prompt
    expect(JSON.parse(row.meta as string)).toEqual({ attempt: 1, checks: ["schema"] });
    expect(ledger.actions.list({ flag: "low_confidence" }).map((a) => a.id)).toEqual([old!.id]);
    expect(raw(ledger, young!.id)!.tier).toBe("detailed");
  });

  it.each(["verified", "corrected", "ruled", "passed"] as const)(
    "compresses an action the audit marked %s",
    async (status) => {
      const [action] = seed(ledger, [{ ageDays: 30, status }]);
      await pruneLedger(retentionOf(ledger), options());
      expect(ledger.actions.get(action!.id)!.tier).toBe("compressed");
    },
  );

  it("honours a configured detailed_days", async () => {
    const [a, b] = seed(ledger, [
      { ageDays: 20, status: "verified" },
      { ageDays: 40, status: "verified" },
    ]);
    await pruneLedger(
      retentionOf(ledger),
      options({ retention: { ...RETENTION, detailed_days: 30 } }),
    );
    expect(ledger.actions.get(a!.id)!.tier).toBe("detailed");
    expect(ledger.actions.get(b!.id)!.tier).toBe("compressed");
  });
});

describe("never pruned", () => {
  it("keeps unaudited, flagged-unresolved and in-review actions detailed whatever their age", async () => {
    const actions = seed(ledger, [
      { ageDays: 400, status: null },
      { ageDays: 400, status: null, flags: ["low_confidence"] },
      { ageDays: 400, status: null, flags: ["check_failed", "error"] },
      { ageDays: 30, status: null, flags: ["requires_audit"] },
      { ageDays: 400, status: "in_review", flags: ["low_confidence"] },
    ]);
    const before = digest(ledger);
    const report = await pruneLedger(retentionOf(ledger), options());
    expect(digest(ledger)).toBe(before);
    for (const action of actions) expect(ledger.actions.get(action.id)!.tier).toBe("detailed");
    expect(report.kept).toEqual({ unaudited: 1, flagged: 3, in_review: 1 });
    expect(report.compressed + report.aggregated).toBe(0);
  });

  it("does not count actions younger than detailed_days as kept", async () => {
    seed(ledger, [{ ageDays: 3, status: null }]);
    const report = await pruneLedger(retentionOf(ledger), options());
    expect(report.kept).toEqual({ unaudited: 0, flagged: 0, in_review: 0 });
  });

  it("prunes them past retention.hard_cap_days and names how many of each kind", async () => {
    const [unaudited, flagged, review, young] = seed(ledger, [
      { ageDays: 200, status: null },
      { ageDays: 50, status: null, flags: ["low_confidence"] },
      { ageDays: 200, status: "in_review" },
      { ageDays: 20, status: null },
    ]);
    const report = await pruneLedger(
      retentionOf(ledger),
      options({ retention: { ...RETENTION, hard_cap_days: 45 } }),
    );
    expect(ledger.actions.get(unaudited!.id)).toBeUndefined(); // aggregated away
    expect(ledger.actions.get(flagged!.id)!.tier).toBe("compressed");
    // an open review item refers to it: counted into its aggregate, kept compressed
    expect(raw(ledger, review!.id)).toMatchObject({ tier: "compressed" });
    expect(raw(ledger, review!.id)!.aggregated_at).toBe(NOW);
    expect(ledger.actions.get(young!.id)!.tier).toBe("detailed");
    expect(report.hard_capped).toEqual({
      unaudited: 1,
      flagged: 1,
      in_review: 2, // aggregated, then compressed
      aggregated: 2,
      compressed: 2,
    });
    expect(report.kept).toEqual({ unaudited: 1, flagged: 0, in_review: 0 });
    const store = retentionOf(ledger);
    // the unaudited and the in-review action share a day: one aggregate counts both
    expect((await store.aggregates()).map((a) => [a.count, a.unaudited_count])).toEqual([[2, 2]]);
  });
});

describe("aggregated tier", () => {
  it("replaces reviewed actions older than 90 days by per day x agent x action_type aggregates", async () => {
    const day = 100;
    seed(ledger, [
      {
        ageDays: day,
        status: "verified",
        confidence: 0.5,
        tokensIn: 100,
        tokensOut: 10,
        latencyMs: 100,
      },
      {
        ageDays: day,
        status: "corrected",
        confidence: 0.9,
        tokensIn: 200,
        tokensOut: 20,
        latencyMs: 300,
      },
      {
        ageDays: day,
        status: "passed",
        confidence: null,
        error: true,
        flags: ["error"],
        latencyMs: 200,
      },
      { ageDays: day, status: "verified", agent: "calendar" },
      { ageDays: day + 1, status: "verified" },
      { ageDays: 95, status: null },
    ]);
    const report = await pruneLedger(retentionOf(ledger), options());
    expect(report.aggregated).toBe(5);
    expect(report.aggregated_deleted).toBe(4);
    expect(report.aggregated_kept).toBe(1); // the corrected one
    const aggregates = await retentionOf(ledger).aggregates();
    expect(aggregates.map((a) => [a.day, a.agent, a.count])).toEqual([
      [new Date(daysAgo(day + 1)).toISOString().slice(0, 10), "finance", 1],
      [new Date(daysAgo(day)).toISOString().slice(0, 10), "calendar", 1],
      [new Date(daysAgo(day)).toISOString().slice(0, 10), "finance", 3],
    ]);
    const finance = aggregates[2]!;
    expect(finance).toMatchObject({
      error_count: 1,
      corrected_count: 1,
      flagged_count: 1,
      unaudited_count: 0,
      confidence_count: 2,
      confidence_min: 0.5,
      confidence_max: 0.9,
      tokens_in: 300 + 1200,
      tokens_out: 30 + 40,
      latency_count: 3,
      latency_min: 100,
      latency_max: 300,
      latency_sum: 600,
    });
    expect(finance.confidence_sum).toBeCloseTo(1.4);
    expect(finance.confidence_sum_sq).toBeCloseTo(0.25 + 0.81);
    // the rows are gone, with their flag index entries; the unaudited one stays
    expect(ledger.actions.count()).toBe(2);
    expect(ledger.actions.list({ flag: "error" })).toEqual([]);
  });

  it("merges a later batch for the same day into the existing aggregate", async () => {
    seed(ledger, [
      { ageDays: 100, status: "verified", confidence: 0.6, latencyMs: 50 },
      { ageDays: 100, status: null, confidence: 0.95, latencyMs: 900 },
    ]);
    await pruneLedger(retentionOf(ledger), options());
    // the audit catches up on the old action; the next prune folds it into the same aggregate
    const [pending] = ledger.actions.list({ since: daysAgo(101) }).filter((a) => !a.auditStatus);
    ledger.actions.setAuditStatus([pending!.id], "verified");
    const report = await pruneLedger(retentionOf(ledger), options());
    expect(report.aggregated).toBe(1);
    const [aggregate] = await retentionOf(ledger).aggregates();
    expect(aggregate).toMatchObject({
      count: 2,
      confidence_count: 2,
      confidence_min: 0.6,
      confidence_max: 0.95,
      latency_min: 50,
      latency_max: 900,
      latency_sum: 950,
    });
    expect(ledger.actions.count()).toBe(0);
  });

  it("keeps an action a correction refers to, compressed, and counts it only once", async () => {
    const [action] = seed(ledger, [{ ageDays: 120, status: "verified" }]);
    const hasCorrections = ledger.db
      .prepare("SELECT 1 FROM sqlite_master WHERE name = 'corrections'")
      .get();
    if (hasCorrections) {
      ledger.db
        .prepare(
          `INSERT INTO corrections (id, action_id, agent, source, original, corrected, created_at)
           VALUES ('c1', ?, 'finance', 'person', '"dining"', '"groceries"', ?)`,
        )
        .run(action!.id, daysAgo(110));
    } else {
      ledger.actions.setAuditStatus([action!.id], "corrected");
    }
    const corrections = () =>
      hasCorrections ? ledger.db.prepare("SELECT * FROM corrections").all() : [];
    const before = corrections();
    await pruneLedger(retentionOf(ledger), options());
    await pruneLedger(retentionOf(ledger), options());
    expect(raw(ledger, action!.id)).toMatchObject({ tier: "compressed", aggregated_at: NOW });
    const [aggregate] = await retentionOf(ledger).aggregates();
    expect(aggregate).toMatchObject({ count: 1, corrected_count: 1 });
    expect(corrections()).toEqual(before);
  });

  it("keeps an action a decided review item refers to, whatever its audit status", async () => {
    const [action, other] = seed(ledger, [
      { ageDays: 120, status: "passed" },
      { ageDays: 120, status: "passed" },
    ]);
    ledger.db
      .prepare(
        `INSERT INTO review_items (action_id, kind, agent, title, opened_by, created_at, status)
         VALUES (?, 'duplicate_suspect', 'finance', 'same payment twice?', 'finance', ?, 'rejected')`,
      )
      .run(action!.id, daysAgo(115));
    const report = await pruneLedger(retentionOf(ledger), options());
    expect(report).toMatchObject({ aggregated: 2, aggregated_deleted: 1, aggregated_kept: 1 });
    expect(raw(ledger, action!.id)).toMatchObject({ tier: "compressed", aggregated_at: NOW });
    expect(ledger.actions.get(other!.id)).toBeUndefined();
  });
});

describe("running", () => {
  it("is idempotent: a second run moves nothing and changes nothing", async () => {
    seed(ledger, [
      ...Array.from({ length: 30 }, (_, i) => ({
        ageDays: 5 + i * 5,
        status: "verified" as const,
      })),
      { ageDays: 150, status: "corrected" },
      { ageDays: 150, status: null, flags: ["low_confidence"] },
    ]);
    const first = await pruneLedger(retentionOf(ledger), options({ maxBatch: 3, minBatch: 1 }));
    expect(first.compressed).toBeGreaterThan(0);
    expect(first.aggregated).toBeGreaterThan(0);
    const after = digest(ledger);
    const second = await pruneLedger(retentionOf(ledger), options());
    expect(digest(ledger)).toBe(after);
    expect([second.compressed, second.aggregated]).toEqual([0, 0]);
    expect(second.kept).toEqual(first.kept);
  });

  it("dry-run changes nothing and predicts exactly what the run then does", async () => {
    seed(ledger, [
      ...Array.from({ length: 40 }, (_, i) => ({
        ageDays: 1 + i * 6,
        status: (["verified", "passed", "corrected", "ruled", null, "in_review"] as const)[i % 6]!,
        flags: i % 4 === 0 ? ["low_confidence"] : [],
      })),
    ]);
    const hardCapped = { ...RETENTION, hard_cap_days: 120 };
    const before = digest(ledger);
    const plan = await pruneLedger(
      retentionOf(ledger),
      options({ dryRun: true, retention: hardCapped }),
    );
    expect(digest(ledger)).toBe(before);
    expect(await retentionOf(ledger).runs()).toEqual([]);
    expect(plan).toMatchObject({ dry_run: true, run_id: null, size: { after: null } });
    expect(plan.size.before).toBeGreaterThan(0);
    const done = await pruneLedger(retentionOf(ledger), options({ retention: hardCapped }));
    for (const key of [
      "compressed",
      "aggregated",
      "aggregated_deleted",
      "aggregated_kept",
      "hard_capped",
      "kept",
    ] as const) {
      expect(plan[key], key).toEqual(done[key]);
    }
    expect(done.compressed).toBeGreaterThan(0);
    expect(done.hard_capped.aggregated).toBeGreaterThan(0);
  });

  it("gives a new ledger's freed pages back in incremental steps, and the file shrinks", async () => {
    seed(
      ledger,
      Array.from({ length: 400 }, () => ({ ageDays: 120, status: "verified" as const })),
    );
    ledger.db.pragma("wal_checkpoint(TRUNCATE)");
    const report = await pruneLedger(retentionOf(ledger), options({ vacuum: "auto" }));
    expect(report.vacuum?.mode).toBe("incremental");
    expect(report.size.after!).toBeLessThan(report.size.before / 4);
    expect(ledger.db.pragma("freelist_count", { simple: true })).toBe(0);
  });

  it("reports the database size before and after, and a full vacuum shrinks an older ledger", async () => {
    // A ledger made before new ones were created incremental: auto_vacuum NONE.
    ledger.db.pragma("auto_vacuum = NONE");
    ledger.db.exec("VACUUM");
    seed(
      ledger,
      Array.from({ length: 400 }, () => ({ ageDays: 120, status: "verified" as const })),
    );
    ledger.db.pragma("wal_checkpoint(TRUNCATE)");
    const report = await pruneLedger(retentionOf(ledger), options({ vacuum: "auto" }));
    expect(report.vacuum?.mode).toBe("full");
    expect(report.size.after!).toBeLessThan(report.size.before / 4);
    expect(ledger.sizeBytes()).toBeLessThan(report.size.before / 4);
    expect(ledger.db.pragma("auto_vacuum", { simple: true })).toBe(2);
    // the next run frees pages in small incremental steps instead
    seed(
      ledger,
      Array.from({ length: 100 }, () => ({ ageDays: 120, status: "verified" as const })),
    );
    const next = await pruneLedger(retentionOf(ledger), options({ vacuum: "auto" }));
    expect(next.vacuum?.mode).toBe("incremental");
    expect(ledger.db.pragma("freelist_count", { simple: true })).toBe(0);
  });

  it("stops between transactions when asked and a resumed run finishes with the figures added up", async () => {
    seed(
      ledger,
      Array.from({ length: 50 }, () => ({ ageDays: 30, status: "verified" as const })),
    );
    let batches = 0;
    let checkpoint: { runId: string; totals: unknown } | undefined;
    const first = await pruneLedger(
      retentionOf(ledger),
      options({
        maxBatch: 10,
        minBatch: 10,
        shouldStop: () => ++batches >= 2,
        onCheckpoint: (runId, totals) => {
          checkpoint = { runId, totals: structuredClone(totals) };
        },
      }),
    );
    expect(first).toMatchObject({ status: "paused", compressed: 20 });
    expect((await retentionOf(ledger).run(first.run_id!))!.status).toBe("paused");
    const resumed = await pruneLedger(
      retentionOf(ledger),
      options({ runId: checkpoint!.runId, previous: first }),
    );
    expect(resumed).toMatchObject({ status: "done", compressed: 50, run_id: first.run_id });
    expect((await retentionOf(ledger).run(first.run_id!))!.status).toBe("done");
  });

  it("refuses aggregate_after_days shorter than detailed_days", async () => {
    await expect(
      pruneLedger(
        retentionOf(ledger),
        options({ retention: { ...RETENTION, aggregate_after_days: 7 } }),
      ),
    ).rejects.toThrow(/aggregate_after_days \(7\) is shorter than retention.detailed_days \(14\)/);
  });

  it("rolls up resource samples older than their retention through the monitor", async () => {
    const calls: number[] = [];
    const report = await pruneLedger(
      retentionOf(ledger),
      options({
        samples: {
          olderThan: NOW - 90 * DAY_MS,
          prune: (t) => {
            calls.push(t);
            return { hours: 3 };
          },
        },
      }),
    );
    expect(calls).toEqual([NOW - 90 * DAY_MS]);
    expect(report.samples).toMatchObject({ status: "rolled_up", result: { hours: 3 } });
  });
});
