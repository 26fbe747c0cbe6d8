import type { Config } from "../config.js";
import { ConfigError } from "../errors.js";
import type { AuditStatus } from "../ledger/actions.js";
import type { RetentionStore } from "../ledger/stores/index.js";

/**
 * Which rows each tier takes, and the figures a prune reports. The rules:
 *
 * - compress: detailed rows older than retention.detailed_days whose audit status says they were
 *   reviewed or covered by an audit run (verified, corrected, ruled, passed);
 * - aggregate: such rows older than retention.aggregate_after_days, whatever their tier;
 * - never, whatever their age: rows not yet audited (audit_status NULL, flagged or not) and rows
 *   waiting on a person (in_review) — unless retention.hard_cap_days is set, in which case the
 *   rows older than the cap take the same tiers as reviewed rows, and are counted as hard-capped.
 *
 * A row that a correction, a person's ruling or a review item refers to is counted into its
 * aggregate but stays as a compressed row, so those references always resolve.
 */

export const DAY_MS = 86_400_000;
export const REVIEWED: readonly AuditStatus[] = ["verified", "passed", "corrected", "ruled"];
export const HELD: ReadonlyArray<AuditStatus | null> = [null, "in_review"];
const EARLIEST = Number.MIN_SAFE_INTEGER;

export type RetentionConfig = Config["retention"];

export interface Cutoffs {
  compressBefore: number;
  aggregateBefore: number;
  hardCapBefore: number | null;
}

/** One sweep: rows of one audit status started before `before`. */
export interface Sweep {
  status: AuditStatus | null;
  before: number;
  hardCapped: boolean;
}

export type HeldKind = "unaudited" | "flagged" | "in_review";

export interface PruneTotals {
  /** Rows moved from detailed to compressed. */
  compressed: number;
  /** Rows counted into the day x agent x action_type aggregates. */
  aggregated: number;
  /** Of those, rows deleted (their aggregate replaces them). */
  aggregated_deleted: number;
  /** Of those, rows kept as compressed rows because a correction or review refers to them. */
  aggregated_kept: number;
  /** Moves of held rows made only because of retention.hard_cap_days, by kind and by tier. */
  hard_capped: Record<HeldKind | "compressed" | "aggregated", number>;
}

export interface KeptCounts {
  /** Rows past detailed_days left detailed because no audit has covered them yet. */
  unaudited: number;
  /** Likewise, but carrying a flag no audit has resolved (low_confidence, error, ...). */
  flagged: number;
  /** Rows waiting on a person in the review queue. */
  in_review: number;
}

export function emptyTotals(): PruneTotals {
  return {
    compressed: 0,
    aggregated: 0,
    aggregated_deleted: 0,
    aggregated_kept: 0,
    hard_capped: { unaudited: 0, flagged: 0, in_review: 0, compressed: 0, aggregated: 0 },
  };
}

export function cutoffsFor(retention: RetentionConfig, now: number): Cutoffs {
  if (retention.aggregate_after_days < retention.detailed_days) {
    throw new ConfigError(
      `retention.aggregate_after_days (${retention.aggregate_after_days}) is shorter than retention.detailed_days (${retention.detailed_days}): set it to at least ${retention.detailed_days}`,
    );
  }
  return {
    compressBefore: now - retention.detailed_days * DAY_MS,
    aggregateBefore: now - retention.aggregate_after_days * DAY_MS,
    hardCapBefore:
      retention.hard_cap_days === undefined ? null : now - retention.hard_cap_days * DAY_MS,
  };
}

/** The sweeps of one tier, reviewed statuses first, then (under a hard cap) the held ones. */
export function sweepsFor(before: number, cutoffs: Cutoffs): Sweep[] {
  const sweeps: Sweep[] = REVIEWED.map((status) => ({ status, before, hardCapped: false }));
  if (cutoffs.hardCapBefore !== null) {
    const capped = Math.min(before, cutoffs.hardCapBefore);
    for (const status of HELD) sweeps.push({ status, before: capped, hardCapped: true });
  }
  return sweeps;
}

export function heldKind(status: AuditStatus | null, flagged: boolean): HeldKind {
  if (status === "in_review") return "in_review";
  return flagged ? "flagged" : "unaudited";
}

/** Held rows past detailed_days that stay detailed (younger than any hard cap). */
export async function keptCounts(store: RetentionStore, cutoffs: Cutoffs): Promise<KeptCounts> {
  const from = cutoffs.hardCapBefore ?? EARLIEST;
  const to = cutoffs.compressBefore;
  if (from >= to) return { unaudited: 0, flagged: 0, in_review: 0 };
  const unaudited = await store.countBefore(null, to, from);
  const flagged = await store.countFlaggedUnaudited(from, to);
  return {
    unaudited: unaudited - flagged,
    flagged,
    in_review: await store.countBefore("in_review", to, from),
  };
}

/** What a prune would do, from counts alone: the --dry-run report. Reads, never writes. */
export async function planTotals(store: RetentionStore, cutoffs: Cutoffs): Promise<PruneTotals> {
  const totals = emptyTotals();
  const aggregateSweeps = sweepsFor(cutoffs.aggregateBefore, cutoffs);
  const compressSweeps = sweepsFor(cutoffs.compressBefore, cutoffs);
  for (const [i, sweep] of aggregateSweeps.entries()) {
    const old = await store.counts(sweep.status, EARLIEST, sweep.before);
    const all = await store.counts(sweep.status, EARLIEST, compressSweeps[i]!.before);
    const compressed = all.detailed - old.detailedDeletable;
    totals.aggregated += old.unaggregated;
    totals.aggregated_deleted += old.deletable;
    totals.aggregated_kept += old.unaggregated - old.deletable;
    totals.compressed += compressed;
    if (!sweep.hardCapped) continue;
    const flaggedMoves =
      old.unaggregatedFlagged + all.detailedFlagged - old.detailedDeletableFlagged;
    const moves = old.unaggregated + compressed;
    totals.hard_capped.aggregated += old.unaggregated;
    totals.hard_capped.compressed += compressed;
    if (sweep.status === "in_review") totals.hard_capped.in_review += moves;
    else {
      totals.hard_capped.flagged += flaggedMoves;
      totals.hard_capped.unaudited += moves - flaggedMoves;
    }
  }
  return totals;
}

export function addTotals(a: PruneTotals, b: PruneTotals): PruneTotals {
  const hard = { ...a.hard_capped };
  for (const key of Object.keys(hard) as Array<keyof typeof hard>) hard[key] += b.hard_capped[key];
  return {
    compressed: a.compressed + b.compressed,
    aggregated: a.aggregated + b.aggregated,
    aggregated_deleted: a.aggregated_deleted + b.aggregated_deleted,
    aggregated_kept: a.aggregated_kept + b.aggregated_kept,
    hard_capped: hard,
  };
}
