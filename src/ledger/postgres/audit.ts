import type pg from "pg";
import {
  mayClaim,
  type Row,
  toActionItem,
  toCorrection,
  toInsight,
  toItem,
  toRun,
} from "../audit-rows.js";
import {
  type ActionAuditItem,
  type AuditItem,
  type AuditRun,
  type AuditStore,
  type BatchCommit,
  type ClaimResult,
  type Correction,
  type Insight,
  type NewAuditItem,
  type NewAuditRun,
  type NewCorrection,
  type RunClaim,
  RunTakenOverError,
} from "../stores/audit.js";
import { insertCorrection, insertItems, writeBatch } from "./audit-batch.js";
import { type Client, PostgresAuditSelection } from "./audit-selection.js";
import { inTransaction } from "./transaction.js";

/**
 * Claims are decided under this transaction-scoped advisory lock, so two daemons deciding at once
 * take turns; the unique index on running runs (0007-audit.sql) backs it up in the schema.
 */
const AUDIT_CLAIM_LOCK = 0x6e_73_61_75; // "nsau"

/**
 * The audit's tables on a PostgreSQL server that several daemons share: runs, batches and
 * corrections here; what it selects and measures over the action log in audit-selection.ts.
 */
export class PostgresAuditStore extends PostgresAuditSelection implements AuditStore {
  private async runRow(id: string, client: Client = this.pool): Promise<Row | undefined> {
    return (await this.rows("SELECT * FROM audit_runs WHERE id = $1", [id], client))[0];
  }

  /** Inside the claim lock: claims the unfinished run if `claim` may, or says who holds it. */
  private async claimIn(client: pg.PoolClient, claim: RunClaim): Promise<ClaimResult> {
    const [row] = await this.rows(
      `SELECT * FROM audit_runs WHERE status IN ('running', 'paused', 'failed')
       ORDER BY status = 'running' DESC, started_at DESC LIMIT 1 FOR UPDATE`,
      [],
      client,
    );
    if (!row) return { kind: "none" };
    const run = toRun(row);
    const owner = (row.owner as string | null) ?? null;
    if (!mayClaim(run, owner, claim)) return { kind: "busy", run };
    const takenOver = run.status === "running" && owner !== claim.owner;
    const [claimed] = await this.rows(
      `UPDATE audit_runs SET status = 'running', error = NULL, owner = $1, host = $2,
       heartbeat_at = $3 WHERE id = $4 RETURNING *`,
      [claim.owner, claim.host, claim.now, run.id],
      client,
    );
    return { kind: "resumed", run: toRun(claimed!), takenOver };
  }

  private locked<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, async (client) => {
      await client.query("SELECT pg_advisory_xact_lock($1)", [AUDIT_CLAIM_LOCK]);
      return work(client);
    });
  }

  async claimRun(claim: RunClaim): Promise<ClaimResult> {
    return this.locked((client) => this.claimIn(client, claim));
  }

  async createRun(run: NewAuditRun, items: NewAuditItem[], claim: RunClaim): Promise<ClaimResult> {
    return this.locked(async (client) => {
      const other = await this.claimIn(client, claim);
      if (other.kind !== "none") return other;
      const [created] = await this.rows(
        `INSERT INTO audit_runs (id, seed, trace_id, mode, reviewer_role, reviewer_model,
          window_start, window_end, sample_rate, status, batches, next_batch, started_at,
          owner, host, heartbeat_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'running', $10, 0, $11, $12, $13, $14)
         RETURNING *`,
        [
          run.id,
          run.seed,
          run.traceId,
          run.mode,
          run.reviewerRole,
          run.reviewerModel,
          run.windowStart,
          run.windowEnd,
          run.sampleRate,
          run.batches,
          run.startedAt,
          claim.owner,
          claim.host,
          claim.now,
        ],
        client,
      );
      await insertItems(client, run.id, items);
      return { kind: "created", run: toRun(created!), takenOver: false };
    });
  }

  async heartbeat(runId: string, owner: string, now: number): Promise<boolean> {
    const result = await this.pool.query(
      `UPDATE audit_runs SET heartbeat_at = $1
       WHERE id = $2 AND owner = $3 AND status = 'running'`,
      [now, runId, owner],
    );
    return result.rowCount === 1;
  }

  async releaseRun(
    runId: string,
    owner: string,
    status: "paused" | "failed",
    error: string | null = null,
  ): Promise<boolean> {
    const result = await this.pool.query(
      `UPDATE audit_runs SET status = $1, error = $2
       WHERE id = $3 AND owner = $4 AND status = 'running'`,
      [status, error, runId, owner],
    );
    return result.rowCount === 1;
  }

  async finishRun(runId: string, owner: string, finishedAt: number): Promise<number> {
    return inTransaction(this.pool, async (client) => {
      const row = await this.ownedRow(client, runId, owner);
      const passed = await client.query(
        `UPDATE actions SET audit_status = 'passed'
         WHERE started_at >= $1 AND started_at < $2 AND audit_status IS NULL`,
        [row.window_start, row.window_end],
      );
      await client.query(
        `UPDATE audit_runs SET status = 'done', finished_at = $1, passed = $2, error = NULL
         WHERE id = $3`,
        [finishedAt, passed.rowCount ?? 0, runId],
      );
      return passed.rowCount ?? 0;
    });
  }

  /** The run's row, locked for this transaction, if `owner` still holds it; else throws. */
  private async ownedRow(client: pg.PoolClient, runId: string, owner: string): Promise<Row> {
    const [row] = await this.rows(
      "SELECT * FROM audit_runs WHERE id = $1 FOR UPDATE",
      [runId],
      client,
    );
    if (!row || row.owner !== owner || row.status !== "running") {
      throw new RunTakenOverError(runId, row ? toRun(row) : undefined);
    }
    return row;
  }

  async commitBatch(c: BatchCommit): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      await this.ownedRow(client, c.runId, c.owner);
      await writeBatch(client, c);
    });
  }

  async getRun(id: string): Promise<AuditRun | undefined> {
    const row = await this.runRow(id);
    return row ? toRun(row) : undefined;
  }

  async findRun(idOrPrefix: string): Promise<AuditRun | undefined> {
    const exact = await this.getRun(idOrPrefix);
    if (exact || idOrPrefix.length < 8) return exact;
    const rows = (
      await this.rows("SELECT * FROM audit_runs WHERE id >= $1 ORDER BY id LIMIT 2", [idOrPrefix])
    ).filter((r) => String(r.id).startsWith(idOrPrefix));
    return rows.length === 1 ? toRun(rows[0]!) : undefined;
  }

  async latestRun(): Promise<AuditRun | undefined> {
    const [row] = await this.rows(
      "SELECT * FROM audit_runs ORDER BY started_at DESC, id DESC LIMIT 1",
    );
    return row ? toRun(row) : undefined;
  }

  async lastFinishedRun(): Promise<AuditRun | undefined> {
    const [row] = await this.rows(
      "SELECT * FROM audit_runs WHERE status = 'done' ORDER BY finished_at DESC LIMIT 1",
    );
    return row ? toRun(row) : undefined;
  }

  async unfinishedRun(): Promise<AuditRun | undefined> {
    const [row] = await this.rows(`SELECT * FROM audit_runs
      WHERE status IN ('running', 'paused', 'failed')
      ORDER BY status = 'running' DESC, started_at DESC LIMIT 1`);
    return row ? toRun(row) : undefined;
  }

  async listRuns(limit = 20): Promise<AuditRun[]> {
    const rows = await this.rows(
      "SELECT * FROM audit_runs ORDER BY started_at DESC, id DESC LIMIT $1",
      [limit],
    );
    return rows.map(toRun);
  }

  async runCounts(runIds: string[]) {
    const rows = await this.rows(
      `SELECT r.id,
        (SELECT count(*) FROM audit_items i WHERE i.run_id = r.id) AS items,
        (SELECT count(*) FROM corrections c WHERE c.run_id = r.id) AS corrections
       FROM audit_runs r WHERE r.id = ANY($1)`,
      [runIds],
    );
    return new Map(
      rows.map((r) => [
        String(r.id),
        { items: Number(r.items), corrections: Number(r.corrections) },
      ]),
    );
  }

  async batchItems(runId: string, batch: number): Promise<AuditItem[]> {
    const sql = "SELECT * FROM audit_items WHERE run_id = $1 AND batch = $2 ORDER BY started_at";
    return (await this.rows(sql, [runId, batch])).map(toItem);
  }

  async runItems(runId: string): Promise<AuditItem[]> {
    const sql = "SELECT * FROM audit_items WHERE run_id = $1 ORDER BY batch, started_at";
    return (await this.rows(sql, [runId])).map(toItem);
  }

  async runCorrections(runId: string): Promise<Correction[]> {
    const sql = "SELECT * FROM corrections WHERE run_id = $1 ORDER BY created_at, id";
    return (await this.rows(sql, [runId])).map(toCorrection);
  }

  async actionCorrections(actionId: string): Promise<Correction[]> {
    const sql = "SELECT * FROM corrections WHERE action_id = $1 ORDER BY created_at";
    return (await this.rows(sql, [actionId])).map(toCorrection);
  }

  async runInsights(runId: string): Promise<Insight[]> {
    const sql = "SELECT * FROM insights WHERE run_id = $1 ORDER BY batch, created_at";
    return (await this.rows(sql, [runId])).map(toInsight);
  }

  async actionItems(actionId: string): Promise<ActionAuditItem[]> {
    const sql = `SELECT i.*, r.reviewer_model FROM audit_items i
      JOIN audit_runs r ON r.id = i.run_id WHERE i.action_id = $1 ORDER BY r.started_at`;
    return (await this.rows(sql, [actionId])).map(toActionItem);
  }

  async insertCorrection(correction: NewCorrection): Promise<boolean> {
    return insertCorrection(this.pool, correction);
  }

  async pendingAgents(): Promise<string[]> {
    const rows = await this.rows(
      "SELECT DISTINCT agent FROM corrections WHERE applied_at IS NULL ORDER BY agent",
    );
    return rows.map((r) => String(r.agent));
  }

  async pendingCorrections(agent: string): Promise<Correction[]> {
    const sql = `SELECT * FROM corrections WHERE applied_at IS NULL AND agent = $1
      ORDER BY created_at, id`;
    return (await this.rows(sql, [agent])).map(toCorrection);
  }

  async noteWaiting(id: string, note: string): Promise<void> {
    await this.pool.query(
      "UPDATE corrections SET apply_note = $1 WHERE id = $2 AND applied_at IS NULL",
      [note, id],
    );
  }

  async markApplied(id: string, at: number, note: string | null): Promise<void> {
    await this.pool.query(
      "UPDATE corrections SET applied_at = $1, apply_note = $2, apply_error = NULL WHERE id = $3",
      [at, note, id],
    );
  }

  async markApplyFailed(id: string, error: string): Promise<void> {
    await this.pool.query("UPDATE corrections SET apply_error = $1 WHERE id = $2", [error, id]);
  }
}
