import type { Statement } from "better-sqlite3";
import type { Db } from "../db.js";
import { databaseSize } from "../db.js";
import { type GpuMetric, gpuMetric, type MetricsReads } from "../stores/dashboard.js";

type Counted = Record<string, unknown>;

/**
 * The few aggregate reads a /metrics scrape makes on the SQLite ledger: each an index-backed
 * GROUP BY or a latest row, so a scrape every 15 s costs the daemon next to nothing.
 */
export class SqliteMetricsReads implements MetricsReads {
  private prepared: Record<string, Statement> | undefined;

  constructor(
    readonly db: Db,
    private readonly path: string,
  ) {}

  private get s(): Record<string, Statement> {
    const p = (sql: string) => this.db.prepare(sql);
    this.prepared ??= {
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
    return this.prepared;
  }

  async auditVerdicts() {
    return (this.s.verdicts!.all() as Counted[]).map((r) => ({
      verdict: String(r.verdict),
      outcome: String(r.outcome ?? "none"),
      count: Number(r.n),
    }));
  }

  async reviewBacklog() {
    return (this.s.backlog!.all() as Counted[]).map((r) => ({
      agent: String(r.agent),
      count: Number(r.n),
    }));
  }

  async jobStates() {
    return (this.s.jobs!.all() as Counted[]).map((r) => ({
      job: String(r.job),
      status: String(r.status),
      count: Number(r.n),
    }));
  }

  async deliveries() {
    return (this.s.deliveries!.all() as Counted[]).map((r) => ({
      agent: String(r.agent),
      status: String(r.status),
      count: Number(r.n),
    }));
  }

  /** A SQLite ledger holds one machine's samples: the daemon's own, whatever it is named. */
  async latestGpus(_host: string): Promise<GpuMetric[]> {
    return (this.s.gpus!.all() as Counted[]).map(gpuMetric);
  }

  async ledgerSizeBytes(): Promise<number> {
    return databaseSize(this.path);
  }
}
