import type { Statement } from "better-sqlite3";
import type { Db } from "./db.js";

export interface GpuReading {
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
 * The few aggregate reads a /metrics scrape makes: each an index-backed GROUP BY or a latest
 * row, so a scrape every 15 s costs the daemon next to nothing.
 */
export class MetricsStore {
  private readonly s: Record<string, Statement>;

  constructor(readonly db: Db) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      verdicts: p(`SELECT verdict, outcome, count(*) AS n FROM audit_items
        WHERE verdict IS NOT NULL GROUP BY verdict, outcome`),
      backlog: p(
        "SELECT agent, count(*) AS n FROM review_items WHERE status = 'open' GROUP BY agent",
      ),
      jobs: p("SELECT job, status, count(*) AS n FROM scheduler_runs GROUP BY job, status"),
      gpus: p(`SELECT g.* FROM monitor_gpu_samples g
        WHERE g.ts = (SELECT max(ts) FROM monitor_gpu_samples)`),
      deliveries: p(
        "SELECT agent, status, count(*) AS n FROM correction_deliveries GROUP BY agent, status",
      ),
    };
  }

  auditVerdicts(): { verdict: string; outcome: string; count: number }[] {
    return (this.s.verdicts!.all() as Record<string, unknown>[]).map((r) => ({
      verdict: String(r.verdict),
      outcome: String(r.outcome ?? "none"),
      count: Number(r.n),
    }));
  }

  reviewBacklog(): { agent: string; count: number }[] {
    return (this.s.backlog!.all() as Record<string, unknown>[]).map((r) => ({
      agent: String(r.agent),
      count: Number(r.n),
    }));
  }

  jobStates(): { job: string; status: string; count: number }[] {
    return (this.s.jobs!.all() as Record<string, unknown>[]).map((r) => ({
      job: String(r.job),
      status: String(r.status),
      count: Number(r.n),
    }));
  }

  deliveries(): { agent: string; status: string; count: number }[] {
    return (this.s.deliveries!.all() as Record<string, unknown>[]).map((r) => ({
      agent: String(r.agent),
      status: String(r.status),
      count: Number(r.n),
    }));
  }

  /** Each GPU's reading from the newest sample that has any. */
  latestGpus(): GpuReading[] {
    const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    return (this.s.gpus!.all() as Record<string, unknown>[]).map((r) => ({
      gpu: Number(r.gpu),
      vendor: (r.vendor as string | null) ?? null,
      utilPct: num(r.util_pct),
      memUsedMb: num(r.mem_used_mb),
      memTotalMb: num(r.mem_total_mb),
      powerW: num(r.power_w),
      tempC: num(r.temp_c),
      ts: Number(r.ts),
    }));
  }
}
