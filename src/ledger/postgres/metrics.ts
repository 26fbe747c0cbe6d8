import type pg from "pg";
import { type GpuMetric, gpuMetric, type MetricsReads } from "../stores/dashboard.js";

type Counted = Record<string, unknown>;

/**
 * A /metrics scrape's reads on the PostgreSQL ledger. The tables of the audit, the review queue,
 * the scheduler and the monitor come with their own migrations; a table not (yet) in this
 * database reads as empty rather than failing the whole scrape.
 */
export class PostgresMetricsReads implements MetricsReads {
  constructor(private readonly pool: pg.Pool) {}

  async auditVerdicts() {
    const rows = await this.rows(
      "audit_items",
      `SELECT verdict, outcome, count(*) AS n FROM audit_items
       WHERE verdict IS NOT NULL GROUP BY verdict, outcome`,
    );
    return rows.map((r) => ({
      verdict: String(r.verdict),
      outcome: String(r.outcome ?? "none"),
      count: Number(r.n),
    }));
  }

  async reviewBacklog() {
    const rows = await this.rows(
      "review_items",
      "SELECT agent, count(*) AS n FROM review_items WHERE status = 'open' GROUP BY agent",
    );
    return rows.map((r) => ({ agent: String(r.agent), count: Number(r.n) }));
  }

  async jobStates() {
    const rows = await this.rows(
      "scheduler_runs",
      "SELECT job, status, count(*) AS n FROM scheduler_runs GROUP BY job, status",
    );
    return rows.map((r) => ({ job: String(r.job), status: String(r.status), count: Number(r.n) }));
  }

  async deliveries() {
    const rows = await this.rows(
      "correction_deliveries",
      "SELECT agent, status, count(*) AS n FROM correction_deliveries GROUP BY agent, status",
    );
    return rows.map((r) => ({
      agent: String(r.agent),
      status: String(r.status),
      count: Number(r.n),
    }));
  }

  async latestGpus(host: string): Promise<GpuMetric[]> {
    // Per host: one machine's clock or a stopped monitor must not hide another machine's GPUs,
    // and each daemon exports its own machine's, as an exporter on that machine would.
    const rows = await this.rows(
      "monitor_gpu_samples",
      `SELECT g.* FROM monitor_gpu_samples g
       WHERE g.host = $1 AND g.ts = (SELECT max(ts) FROM monitor_gpu_samples WHERE host = $1)`,
      [host],
    );
    return rows.map(gpuMetric);
  }

  async ledgerSizeBytes(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(
      "SELECT pg_database_size(current_database())::text AS n",
    );
    return Number(rows[0]!.n);
  }

  /** The query's rows, or none when `table` does not exist in this database. */
  private async rows(table: string, sql: string, params: unknown[] = []): Promise<Counted[]> {
    const { rows } = await this.pool.query<{ found: boolean }>(
      "SELECT to_regclass($1) IS NOT NULL AS found",
      [table],
    );
    if (!rows[0]?.found) return [];
    return (await this.pool.query(sql, params)).rows as Counted[];
  }
}
