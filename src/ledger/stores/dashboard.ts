import type { Action, ActionStatus, AuditStatus } from "../actions.js";

/**
 * The dashboard's and the Prometheus scrape's reads, whatever the engine. Listings are keyset
 * paged newest first and driven by an index, so a page costs the same on the millionth row as on
 * the first; a body longer than `trimChars` comes back as a preview marker (`$trimmed`), so a page
 * of a hundred 5 MB chats is kilobytes.
 */

/** Where a page of actions ends: the last row's (started_at, id), newest first. */
export interface ActionCursor {
  startedAt: number;
  id: string;
}

export interface DashboardQuery {
  agent?: string | undefined;
  model?: string | undefined;
  flag?: string | undefined;
  status?: ActionStatus | undefined;
  /** "none" matches actions no audit run has covered yet. */
  auditStatus?: AuditStatus | "none" | undefined;
  since?: number | undefined;
  until?: number | undefined;
  /** Case-insensitive substring of the request, reply, error or reasoning. */
  text?: string | undefined;
  after?: ActionCursor | undefined;
  limit: number;
}

export interface CallGroup {
  agent: string;
  model: string | null;
  calls: number;
  errors: number;
  tokensIn: number;
  tokensOut: number;
}

export interface DashboardReads {
  /** A page of actions, newest first; bodies longer than `trimChars` come back as previews. */
  page(query: DashboardQuery, trimChars: number): Promise<Action[]>;
  /** Calls, errors and tokens per agent and model started in [since, until), most calls first. */
  callGroups(since: number, until: number): Promise<CallGroup[]>;
  /** Latency percentiles (ms) of the calls in [since, until), nearest-rank; null with no calls. */
  latencyPercentiles(since: number, until: number, ranks: number[]): Promise<(number | null)[]>;
  /** Actions after `after` in (started_at, id) order, oldest first: what a live feed sends next. */
  newerThan(after: ActionCursor, limit: number, trimChars: number): Promise<Action[]>;
  /** The newest action's position, where a live feed starts; null on an empty ledger. */
  newest(): Promise<ActionCursor | null>;
}

export interface GpuMetric {
  gpu: number;
  vendor: string | null;
  utilPct: number | null;
  memUsedMb: number | null;
  memTotalMb: number | null;
  powerW: number | null;
  tempC: number | null;
  ts: number;
}

/**
 * The few aggregate reads a /metrics scrape makes, each an index-backed GROUP BY or a latest row.
 * A table another part of nightshift has not created on this engine reads as empty.
 */
export interface MetricsReads {
  auditVerdicts(): Promise<{ verdict: string; outcome: string; count: number }[]>;
  reviewBacklog(): Promise<{ agent: string; count: number }[]>;
  jobStates(): Promise<{ job: string; status: string; count: number }[]>;
  deliveries(): Promise<{ agent: string; status: string; count: number }[]>;
  /**
   * Each GPU of `host` (the daemon's own machine, as its monitor names it) from that machine's
   * newest sample with GPU readings. On PostgreSQL other machines' GPUs are theirs to report;
   * SQLite holds one machine's samples.
   */
  latestGpus(host: string): Promise<GpuMetric[]>;
  /** The ledger's size on disk (SQLite: file and log; PostgreSQL: the database). */
  ledgerSizeBytes(): Promise<number>;
}

/** A monitor_gpu_samples row (either engine) as a reading. */
export function gpuMetric(r: Record<string, unknown>): GpuMetric {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    gpu: Number(r.gpu),
    vendor: (r.vendor as string | null) ?? null,
    utilPct: num(r.util_pct),
    memUsedMb: num(r.mem_used_mb),
    memTotalMb: num(r.mem_total_mb),
    powerW: num(r.power_w),
    tempC: num(r.temp_c),
    ts: Number(r.ts),
  };
}
