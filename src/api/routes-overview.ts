import { reportSummary, runToJson } from "../audit/report.js";
import { systemClock } from "../clock.js";
import { Upstreams } from "../gateway/upstreams.js";
import type { Deps, Request, Route } from "./route-types.js";
import { auditStore } from "./routes-audit.js";

const PERCENTILES = [0.5, 0.9, 0.99];
const UPSTREAM_TIMEOUT_MS = 1500;

/**
 * GET /v0/overview: today's work, the upstreams and GPUs now, last night, the review backlog.
 * Today's figures read the ledger's seam (either engine); the audit, the monitor and the review
 * queue are read where they live until they are on the seam too (the SQLite file).
 */
export const overviewRoutes: Route[] = [
  { method: "GET", pattern: ["overview"], handler: overview },
];

export async function overview(_r: Request, deps: Deps) {
  const now = (deps.clock ?? systemClock).now();
  const today = localMidnight(now);
  const store = deps.stores.dashboard;
  const groups = await store.callGroups(today, now + 1);
  const [p50, p90, p99] = await store.latencyPercentiles(today, now + 1, PERCENTILES);
  const audit = auditStore(deps);
  const last = (await audit.lastFinishedRun()) ?? (await audit.latestRun());
  const monitor = deps.stores.monitor;
  const range = await monitor.range();
  const latest = range ? (await monitor.between(range.newest, range.newest + 1))[0] : undefined;
  return {
    now: new Date(now).toISOString(),
    since: new Date(today).toISOString(),
    totals: {
      calls: sum(groups, (g) => g.calls),
      errors: sum(groups, (g) => g.errors),
      tokens_in: sum(groups, (g) => g.tokensIn),
      tokens_out: sum(groups, (g) => g.tokensOut),
    },
    latency_ms: { p50, p90, p99 },
    by_agent_model: groups.map((g) => ({
      agent: g.agent,
      model: g.model,
      calls: g.calls,
      errors: g.errors,
      tokens_in: g.tokensIn,
      tokens_out: g.tokensOut,
    })),
    upstreams: await upstreamStatus(deps),
    machine: latest
      ? {
          at: new Date(latest.ts).toISOString(),
          cpu_pct: latest.cpuPct,
          ram_pct: latest.ramPct,
          gpus: latest.gpus.map((g) => ({
            index: g.index,
            util_pct: g.utilPct,
            mem_used_mb: g.memUsedMb,
            mem_total_mb: g.memTotalMb,
          })),
        }
      : null,
    last_audit: last
      ? { run: runToJson(last), summary: await reportSummary(audit, last.id) }
      : null,
    review_open: await deps.review.store.count("open"),
  };
}

/** Each upstream, whether it answers, and the models it has loaded (Ollama's /api/ps). */
async function upstreamStatus(deps: Deps) {
  const upstreams = new Upstreams(deps.config.upstreams);
  const all = upstreams.all();
  upstreams.close();
  return Promise.all(
    all.map(async (u) => {
      const base = { name: u.name, url: u.url, gpu: u.gpu };
      try {
        const response = await fetch(`${u.url}/api/ps`, {
          signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
        });
        if (!response.ok)
          return { ...base, up: false, error: `HTTP ${response.status}`, models: [] };
        const body = (await response.json()) as { models?: { name?: unknown }[] };
        const models = (body.models ?? []).map((m) => String(m.name ?? "?"));
        return { ...base, up: true, error: null, models };
      } catch (error) {
        return { ...base, up: false, error: (error as Error).message, models: [] };
      }
    }),
  );
}

function localMidnight(now: number): number {
  const d = new Date(now);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

function sum<T>(rows: T[], pick: (row: T) => number): number {
  return rows.reduce((total, row) => total + Number(pick(row) ?? 0), 0);
}
