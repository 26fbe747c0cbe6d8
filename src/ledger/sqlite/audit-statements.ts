import type { Statement } from "better-sqlite3";
import type { Db } from "../db.js";

/** The audit store's statements on SQLite (runs, items, corrections, insights), prepared once. */
export function auditStatements(db: Db): Record<string, Statement> {
  const p = (sql: string) => db.prepare(sql);
  return {
    insertRun: p(`INSERT INTO audit_runs (id, seed, trace_id, mode, reviewer_role, reviewer_model,
      window_start, window_end, sample_rate, status, batches, next_batch, started_at,
      owner, host, heartbeat_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, 0, ?, ?, ?, ?)`),
    insertItem: p(`INSERT INTO audit_items (run_id, action_id, agent, reason, batch, started_at,
      confidence_before) VALUES (?, ?, ?, ?, ?, ?, ?)`),
    run: p("SELECT * FROM audit_runs WHERE id = ?"),
    runsByPrefix: p("SELECT * FROM audit_runs WHERE id >= ? ORDER BY id LIMIT 2"),
    latest: p("SELECT * FROM audit_runs ORDER BY started_at DESC, id DESC LIMIT 1"),
    latestDone: p(
      "SELECT * FROM audit_runs WHERE status = 'done' ORDER BY finished_at DESC LIMIT 1",
    ),
    unfinished: p(`SELECT * FROM audit_runs WHERE status IN ('running', 'paused', 'failed')
      ORDER BY status = 'running' DESC, started_at DESC LIMIT 1`),
    listRuns: p("SELECT * FROM audit_runs ORDER BY started_at DESC, id DESC LIMIT ?"),
    claim: p(`UPDATE audit_runs SET status = 'running', error = NULL, owner = ?, host = ?,
      heartbeat_at = ? WHERE id = ?`),
    heartbeat: p(`UPDATE audit_runs SET heartbeat_at = ?
      WHERE id = ? AND owner = ? AND status = 'running'`),
    release: p(`UPDATE audit_runs SET status = ?, error = ?
      WHERE id = ? AND owner = ? AND status = 'running'`),
    finish: p(`UPDATE audit_runs SET status = 'done', finished_at = ?, passed = ?, error = NULL
      WHERE id = ? AND owner = ? AND status = 'running'`),
    setNextBatch: p("UPDATE audit_runs SET next_batch = ?, heartbeat_at = ? WHERE id = ?"),
    batchItems: p("SELECT * FROM audit_items WHERE run_id = ? AND batch = ? ORDER BY started_at"),
    runItems: p("SELECT * FROM audit_items WHERE run_id = ? ORDER BY batch, started_at"),
    itemCounts: p("SELECT count(*) FROM audit_items WHERE run_id = ?"),
    correctionCounts: p("SELECT count(*) FROM corrections WHERE run_id = ?"),
    recordItem: p(`UPDATE audit_items SET verdict = ?, corrected_output = ?, reasoning = ?,
      confidence = ?, outcome = ?, pattern = ?, review_item_id = ?, reviewed_at = ?,
      pattern_written = ? WHERE run_id = ? AND action_id = ? AND verdict IS NULL`),
    insertCorrection: p(`INSERT OR IGNORE INTO corrections (id, run_id, action_id, agent, source,
      original, corrected, reasoning, reviewer_model, confidence_before, confidence_after,
      created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    pendingAgents: p("SELECT DISTINCT agent FROM corrections WHERE applied_at IS NULL"),
    pending: p(
      "SELECT * FROM corrections WHERE applied_at IS NULL AND agent = ? ORDER BY created_at, id",
    ),
    waiting: p("UPDATE corrections SET apply_note = ? WHERE id = ? AND applied_at IS NULL"),
    applied: p(
      "UPDATE corrections SET applied_at = ?, apply_note = ?, apply_error = NULL WHERE id = ?",
    ),
    applyFailed: p("UPDATE corrections SET apply_error = ? WHERE id = ?"),
    runCorrections: p("SELECT * FROM corrections WHERE run_id = ? ORDER BY created_at, id"),
    actionCorrections: p("SELECT * FROM corrections WHERE action_id = ? ORDER BY created_at"),
    insertInsight: p(`INSERT OR IGNORE INTO insights (id, run_id, batch, action_ids, agents,
      description, confidence, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    runInsights: p("SELECT * FROM insights WHERE run_id = ? ORDER BY batch, created_at"),
    actionItems: p(`SELECT i.*, r.reviewer_model FROM audit_items i
      JOIN audit_runs r ON r.id = i.run_id WHERE i.action_id = ? ORDER BY r.started_at`),
    markPassed: p(`UPDATE actions SET audit_status = 'passed'
      WHERE started_at >= ? AND started_at < ? AND audit_status IS NULL`),
    setAudit: p("UPDATE actions SET audit_status = ? WHERE id = ?"),
  };
}
