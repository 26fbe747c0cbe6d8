import type pg from "pg";
import { correctionValues, insightValues, json } from "../audit-rows.js";
import type { BatchCommit, NewAuditItem, NewCorrection } from "../stores/audit.js";

/** One batch's writes, inside the caller's transaction (see PostgresAuditStore.commitBatch). */
export async function writeBatch(client: pg.PoolClient, c: BatchCommit): Promise<void> {
  for (const r of c.results) {
    await client.query(
      `UPDATE audit_items SET verdict = $1, corrected_output = $2, reasoning = $3,
        confidence = $4, outcome = $5, pattern = $6, review_item_id = $7, reviewed_at = $8,
        pattern_written = $9 WHERE run_id = $10 AND action_id = $11 AND verdict IS NULL`,
      [
        r.verdict,
        json(r.correctedOutput),
        r.reasoning,
        r.confidence,
        r.outcome,
        json(r.pattern),
        r.reviewItemId,
        c.at,
        r.patternWritten ? 1 : 0,
        c.runId,
        r.actionId,
      ],
    );
  }
  for (const x of c.corrections) await insertCorrection(client, x);
  for (const { actionId, status } of c.statuses) {
    await client.query("UPDATE actions SET audit_status = $1 WHERE id = $2", [status, actionId]);
  }
  for (const i of c.insights) {
    await client.query(
      `INSERT INTO insights (id, run_id, batch, action_ids, agents, description, confidence,
        created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
      insightValues(i),
    );
  }
  await client.query("UPDATE audit_runs SET next_batch = $1, heartbeat_at = $2 WHERE id = $3", [
    c.batch + 1,
    c.at,
    c.runId,
  ]);
}

/** Inserts a correction unless its run already corrected the action; true when inserted. */
export async function insertCorrection(
  client: pg.Pool | pg.PoolClient,
  x: NewCorrection,
): Promise<boolean> {
  const result = await client.query(
    `INSERT INTO corrections (id, run_id, action_id, agent, source, original, corrected,
      reasoning, reviewer_model, confidence_before, confidence_after, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     ON CONFLICT DO NOTHING`,
    correctionValues(x),
  );
  return result.rowCount === 1;
}

/** A new run's items, in multi-row inserts. */
export async function insertItems(client: pg.PoolClient, runId: string, items: NewAuditItem[]) {
  // Multi-row inserts of at most 1,000 rows (7 parameters each, far under the 65,535 limit).
  for (let start = 0; start < items.length; start += 1000) {
    const chunk = items.slice(start, start + 1000);
    const values: unknown[] = [];
    const tuples = chunk.map((item, i) => {
      values.push(
        runId,
        item.actionId,
        item.agent,
        item.reason,
        item.batch,
        item.startedAt,
        item.confidenceBefore,
      );
      const b = i * 7;
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, $${b + 7})`;
    });
    await client.query(
      `INSERT INTO audit_items (run_id, action_id, agent, reason, batch, started_at,
        confidence_before) VALUES ${tuples.join(", ")}`,
      values,
    );
  }
}
