import { NotFoundError } from "../errors.js";
import type { AuditItem, AuditRun, AuditStore, Verdict } from "../ledger/stores/index.js";
import { correctionToJson } from "../views/audit.js";
import { maskUrlsIn } from "./mask.js";
import { AUDITOR_AGENT } from "./select.js";

/**
 * What one run did, in the `--json` shape (snake_case): what it looked at and why, what it
 * found, what it changed, what it cost, and how well the day agents' confidence matched the
 * audit's findings.
 */
export const CONFIDENCE_BUCKETS = [
  [0, 0.5],
  [0.5, 0.7],
  [0.7, 0.8],
  [0.8, 0.9],
  [0.9, 1],
] as const;

export interface CalibrationRow {
  bucket: string;
  reviewed: number;
  /** Items with a definite verdict (correct or incorrect). */
  judged: number;
  wrong: number;
  /** wrong / judged; null when nothing in the bucket was judged. */
  wrong_rate: number | null;
  unsure: number;
}

export interface AuditReport {
  run: Record<string, unknown>;
  items: { total: number; by_reason: Record<string, number>; by_agent: Record<string, number> };
  verdicts: Record<Verdict | "pending", number>;
  outcomes: Record<string, number>;
  corrections: {
    total: number;
    applied: number;
    waiting: number;
    failed: number;
    list: Record<string, unknown>[];
  };
  patterns_written: { count: number; keys: string[] };
  review_items_opened: number;
  insights: Record<string, unknown>[];
  passed: number | null;
  usage: {
    reviewer_calls: number;
    tokens_in: number;
    tokens_out: number;
    model_ms: number;
    elapsed_ms: number | null;
  };
  calibration: CalibrationRow[];
  calibration_all_runs: CalibrationRow[];
}

/** The run by id or unique prefix, or the latest; a NotFoundError naming what to do otherwise. */
export async function findRun(store: AuditStore, idOrPrefix?: string): Promise<AuditRun> {
  const run = idOrPrefix ? await store.findRun(idOrPrefix) : await store.latestRun();
  if (run) return run;
  throw new NotFoundError(
    idOrPrefix
      ? `no audit run ${idOrPrefix}; \`nightshift audit report\` shows the latest`
      : "no audit has run yet; start one with `nightshift audit run --now`",
  );
}

export async function buildReport(store: AuditStore, idOrPrefix?: string): Promise<AuditReport> {
  const run = await findRun(store, idOrPrefix);
  const [items, corrections, usage, insights, calibration, calibrationAll] = await Promise.all([
    store.runItems(run.id),
    store.runCorrections(run.id),
    store.traceUsage(run.traceId, AUDITOR_AGENT),
    store.runInsights(run.id),
    store.calibrationPoints(run.id),
    store.calibrationPoints(null),
  ]);
  // Errors and reasoning quote what an upstream said, URLs included: never its credentials.
  return maskUrlsIn({
    run: runToJson(run),
    items: {
      total: items.length,
      by_reason: countBy(items, (i) => i.reason),
      by_agent: countBy(items, (i) => i.agent),
    },
    verdicts: {
      correct: 0,
      incorrect: 0,
      unsure: 0,
      pending: 0,
      ...countBy(items, (i) => i.verdict ?? "pending"),
    },
    outcomes: countBy(
      items.filter((i) => i.outcome),
      (i) => i.outcome!,
    ),
    corrections: {
      total: corrections.length,
      applied: corrections.filter((c) => c.appliedAt !== null).length,
      waiting: corrections.filter((c) => c.appliedAt === null && !c.applyError).length,
      failed: corrections.filter((c) => c.appliedAt === null && c.applyError).length,
      list: corrections.map(correctionToJson),
    },
    patterns_written: patternsWritten(items),
    review_items_opened: items.filter((i) => i.reviewItemId !== null).length,
    insights: insights.map((i) => ({
      action_ids: i.actionIds,
      agents: i.agents,
      description: i.description,
      confidence: i.confidence,
    })),
    passed: run.passed,
    usage: {
      reviewer_calls: usage.calls,
      tokens_in: usage.tokensIn,
      tokens_out: usage.tokensOut,
      model_ms: Math.round(usage.modelMs),
      elapsed_ms: run.finishedAt === null ? null : run.finishedAt - run.startedAt,
    },
    calibration: calibrate(calibration),
    calibration_all_runs: calibrate(calibrationAll),
  });
}

/** The few figures the scheduler records with a finished run. */
export async function reportSummary(
  store: AuditStore,
  runId: string,
): Promise<Record<string, unknown>> {
  const report = await buildReport(store, runId);
  return {
    run_id: runId,
    items: report.items.total,
    verdicts: report.verdicts,
    corrections: report.corrections.total,
    review_items_opened: report.review_items_opened,
    patterns_written: report.patterns_written.count,
    insights: report.insights.length,
  };
}

export function calibrate(points: { confidence: number; verdict: Verdict }[]): CalibrationRow[] {
  return CONFIDENCE_BUCKETS.map(([low, high], index) => {
    const last = index === CONFIDENCE_BUCKETS.length - 1;
    const inBucket = points.filter(
      (p) => p.confidence >= low && (last ? p.confidence <= high : p.confidence < high),
    );
    const wrong = inBucket.filter((p) => p.verdict === "incorrect").length;
    const unsure = inBucket.filter((p) => p.verdict === "unsure").length;
    const judged = inBucket.length - unsure;
    return {
      bucket: `${low.toFixed(1)}–${high.toFixed(1)}`,
      reviewed: inBucket.length,
      judged,
      wrong,
      wrong_rate: judged === 0 ? null : round(wrong / judged),
      unsure,
    };
  });
}

function patternsWritten(items: AuditItem[]): { count: number; keys: string[] } {
  // Several items often teach the same rule (the same merchant, three times): count rules.
  const keys = new Set(
    items
      .filter((i) => i.patternWritten)
      .map((i) => (i.pattern as { key?: string } | null)?.key ?? "?"),
  );
  return { count: keys.size, keys: [...keys] };
}

export function runToJson(run: AuditRun): Record<string, unknown> {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: run.id,
    status: run.status,
    seed: run.seed,
    mode: run.mode,
    reviewer_role: run.reviewerRole,
    reviewer_model: run.reviewerModel,
    trace_id: run.traceId,
    host: run.host,
    window_start: iso(run.windowStart),
    window_end: iso(run.windowEnd),
    sample_rate: run.sampleRate,
    batches: run.batches,
    next_batch: run.nextBatch,
    started_at: iso(run.startedAt),
    finished_at: iso(run.finishedAt),
    error: maskUrlsIn(run.error),
  };
}

function countBy<T>(rows: T[], key: (row: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const row of rows) counts[key(row)] = (counts[key(row)] ?? 0) + 1;
  return counts;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
