import type { Statement } from "better-sqlite3";
import { CANDIDATE_COLUMNS, DEFAULT_CANDIDATE_PAGE, type Row, toCandidate } from "../audit-rows.js";
import type { Db } from "../db.js";
import type { CandidateRow, LearningDay, TraceUsage, Verdict } from "../stores/audit.js";

/**
 * What the audit reads from the action log and its own verdicts on SQLite: the candidates for a
 * run, the context of one action, and the figures the report shows (calibration, the learning
 * curve). Read-only; the runs, batches and corrections are SqliteAuditStore's.
 */
export class SqliteAuditSelection {
  private readonly q: Record<string, Statement>;

  constructor(db: Db) {
    const p = (sql: string) => db.prepare(sql);
    this.q = {
      candidates: p(`SELECT ${CANDIDATE_COLUMNS} FROM actions
        WHERE started_at >= ? AND started_at < ? AND audit_status IS NULL
        AND (started_at > ? OR (started_at = ? AND id > ?))
        ORDER BY started_at, id LIMIT ?`),
      sameInput: p(`SELECT id FROM actions INDEXED BY actions_input_key
        WHERE input_key = ? AND agent = ? ORDER BY started_at DESC, id DESC LIMIT 20`),
      // Tokens from the attempts (a gateway or model_call child repeats them); time from the
      // stage actions, the trace's roots.
      traceUsage: p(`SELECT
        coalesce(sum(action_type = 'attempt'), 0) AS calls,
        coalesce(sum(CASE WHEN action_type = 'attempt' THEN tokens_in END), 0) AS tokens_in,
        coalesce(sum(CASE WHEN action_type = 'attempt' THEN tokens_out END), 0) AS tokens_out,
        coalesce(sum(CASE WHEN parent_id IS NULL THEN latency_ms END), 0) AS model_ms
        FROM actions WHERE trace_id = ? AND agent = ?`),
      unaudited: p(`SELECT count(*) FROM actions
        WHERE started_at >= ? AND audit_status IS NULL AND agent != ?`),
      calibration: p(`SELECT confidence_before AS c, verdict FROM audit_items
        WHERE verdict IS NOT NULL AND confidence_before IS NOT NULL
        AND (? IS NULL OR run_id = ?)`),
      // Counted in SQL so a year of audits is one grouped scan of audit_items, not rows in JS.
      learning: p(`SELECT date(started_at / 1000, 'unixepoch', 'localtime') AS day,
          count(*) AS reviewed, sum(verdict = 'incorrect') AS wrong, sum(verdict = 'unsure') AS unsure
        FROM audit_items WHERE verdict IS NOT NULL AND started_at >= ?
        GROUP BY day ORDER BY day`),
    };
  }

  async *candidates(
    since: number,
    until: number,
    pageSize = DEFAULT_CANDIDATE_PAGE,
  ): AsyncIterable<CandidateRow> {
    let after = { startedAt: since - 1, id: "" };
    for (;;) {
      const rows = this.q.candidates!.all(
        since,
        until,
        after.startedAt,
        after.startedAt,
        after.id,
        pageSize,
      ) as Row[];
      for (const row of rows) yield toCandidate(row);
      const last = rows.at(-1);
      if (rows.length < pageSize || !last) return;
      after = { startedAt: Number(last.started_at), id: String(last.id) };
    }
  }

  async sameInputActions(agent: string, inputKey: string): Promise<string[]> {
    return this.q.sameInput!.pluck().all(inputKey, agent) as string[];
  }

  async traceUsage(traceId: string, agent: string): Promise<TraceUsage> {
    const r = this.q.traceUsage!.get(traceId, agent) as Row;
    return {
      calls: Number(r.calls),
      tokensIn: Number(r.tokens_in),
      tokensOut: Number(r.tokens_out),
      modelMs: Number(r.model_ms),
    };
  }

  async unauditedCount(since: number, exceptAgent: string): Promise<number> {
    return Number(this.q.unaudited!.pluck().get(since, exceptAgent));
  }

  async calibrationPoints(runId: string | null) {
    return (this.q.calibration!.all(runId, runId) as Row[]).map((r) => ({
      confidence: Number(r.c),
      verdict: r.verdict as Verdict,
    }));
  }

  async learningCurve(since: number): Promise<LearningDay[]> {
    return (this.q.learning!.all(since) as Row[]).map((r) => ({
      day: String(r.day),
      reviewed: Number(r.reviewed),
      wrong: Number(r.wrong),
      unsure: Number(r.unsure),
    }));
  }
}
