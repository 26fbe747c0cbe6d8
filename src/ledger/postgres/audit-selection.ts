import type pg from "pg";
import { CANDIDATE_COLUMNS, DEFAULT_CANDIDATE_PAGE, type Row, toCandidate } from "../audit-rows.js";
import type { CandidateRow, LearningDay, TraceUsage, Verdict } from "../stores/audit.js";

export type Client = pg.Pool | pg.PoolClient;

/**
 * What the audit reads from the action log and its own verdicts on PostgreSQL: the candidates
 * for a run, the context of one action, and the figures the report shows (calibration, the
 * learning curve). Read-only; the runs, batches and corrections are PostgresAuditStore's.
 */
export class PostgresAuditSelection {
  constructor(protected readonly pool: pg.Pool) {}

  protected async rows(sql: string, values: unknown[] = [], client: Client = this.pool) {
    return (await client.query<Row>(sql, values)).rows;
  }

  async *candidates(
    since: number,
    until: number,
    pageSize = DEFAULT_CANDIDATE_PAGE,
  ): AsyncIterable<CandidateRow> {
    let after = { startedAt: since - 1, id: "" };
    for (;;) {
      const rows = await this.rows(
        `SELECT ${CANDIDATE_COLUMNS} FROM actions
         WHERE started_at >= $1 AND started_at < $2 AND audit_status IS NULL
         AND (started_at, id) > ($3, $4)
         ORDER BY started_at, id LIMIT $5`,
        [since, until, after.startedAt, after.id, pageSize],
      );
      for (const row of rows) yield toCandidate(row);
      const last = rows.at(-1);
      if (rows.length < pageSize || !last) return;
      after = { startedAt: Number(last.started_at), id: String(last.id) };
    }
  }

  async sameInputActions(agent: string, inputKey: string): Promise<string[]> {
    const rows = await this.rows(
      `SELECT id FROM actions WHERE agent = $1 AND input_key = $2
       ORDER BY started_at DESC, id DESC LIMIT 20`,
      [agent, inputKey],
    );
    return rows.map((r) => String(r.id));
  }

  async traceUsage(traceId: string, agent: string): Promise<TraceUsage> {
    // Tokens from the attempts (a gateway or model_call child repeats them); time from the
    // stage actions, the trace's roots.
    const [r] = await this.rows(
      `SELECT
        count(*) FILTER (WHERE action_type = 'attempt') AS calls,
        coalesce(sum(tokens_in) FILTER (WHERE action_type = 'attempt'), 0) AS tokens_in,
        coalesce(sum(tokens_out) FILTER (WHERE action_type = 'attempt'), 0) AS tokens_out,
        coalesce(sum(latency_ms) FILTER (WHERE parent_id IS NULL), 0) AS model_ms
       FROM actions WHERE trace_id = $1 AND agent = $2`,
      [traceId, agent],
    );
    return {
      calls: Number(r!.calls),
      tokensIn: Number(r!.tokens_in),
      tokensOut: Number(r!.tokens_out),
      modelMs: Number(r!.model_ms),
    };
  }

  async unauditedCount(since: number, exceptAgent: string): Promise<number> {
    const [r] = await this.rows(
      `SELECT count(*) AS n FROM actions
       WHERE started_at >= $1 AND audit_status IS NULL AND agent <> $2`,
      [since, exceptAgent],
    );
    return Number(r!.n);
  }

  async calibrationPoints(runId: string | null) {
    const rows = await this.rows(
      `SELECT confidence_before AS c, verdict FROM audit_items
       WHERE verdict IS NOT NULL AND confidence_before IS NOT NULL
       AND ($1::text IS NULL OR run_id = $1)`,
      [runId],
    );
    return rows.map((r) => ({ confidence: Number(r.c), verdict: r.verdict as Verdict }));
  }

  async learningCurve(since: number): Promise<LearningDay[]> {
    // The day in this process's zone, as SQLite's 'localtime' gives it on the embedded engine.
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    const rows = await this.rows(
      `SELECT to_char(to_timestamp(started_at / 1000.0) AT TIME ZONE $2, 'YYYY-MM-DD') AS day,
        count(*) AS reviewed,
        count(*) FILTER (WHERE verdict = 'incorrect') AS wrong,
        count(*) FILTER (WHERE verdict = 'unsure') AS unsure
       FROM audit_items WHERE verdict IS NOT NULL AND started_at >= $1
       GROUP BY day ORDER BY day`,
      [since, zone],
    );
    return rows.map((r) => ({
      day: String(r.day),
      reviewed: Number(r.reviewed),
      wrong: Number(r.wrong),
      unsure: Number(r.unsure),
    }));
  }
}
