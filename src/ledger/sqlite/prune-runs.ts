import type { Statement } from "better-sqlite3";
import type { Db } from "../db.js";
import type { PruneRunRow } from "../stores/retention.js";

/**
 * The record of prune runs on SQLite (prune_runs): started, finished, listed, and those a killed
 * process left running marked interrupted. Separate from the tier statements over `actions`
 * (retention-statements.ts), which the prune's reader thread prepares on its own connection.
 */
export class PruneRuns {
  private readonly insert: Statement;
  private readonly finishStmt: Statement;

  constructor(readonly db: Db) {
    this.insert = db.prepare(
      `INSERT INTO prune_runs (id, trigger, status, pid, started_at, size_before)
       VALUES (?, ?, 'running', ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET status = 'running', pid = excluded.pid, finished_at = NULL`,
    );
    this.finishStmt = db.prepare(
      `UPDATE prune_runs SET status = @status, finished_at = @finishedAt, size_after = @sizeAfter,
         report = @report, error = @error WHERE id = @id`,
    );
  }

  /** Records a run as running; a resumed run (same id) keeps its first start and size. */
  startRun(id: string, trigger: string, startedAt: number, sizeBefore: number): void {
    this.insert.run(id, trigger, process.pid, startedAt, sizeBefore);
  }

  finish(run: {
    id: string;
    status: PruneRunRow["status"];
    finishedAt: number;
    sizeAfter: number | null;
    report: unknown;
    error: string | null;
  }): void {
    this.finishStmt.run({
      id: run.id,
      status: run.status,
      finishedAt: run.finishedAt,
      sizeAfter: run.sizeAfter,
      report: run.report === null ? null : JSON.stringify(run.report),
      error: run.error,
    });
  }

  run(id: string): PruneRunRow | undefined {
    return this.db.prepare("SELECT * FROM prune_runs WHERE id = ?").get(id) as
      | PruneRunRow
      | undefined;
  }

  runs(limit = 20): PruneRunRow[] {
    return this.db
      .prepare("SELECT * FROM prune_runs ORDER BY started_at DESC LIMIT ?")
      .all(limit) as PruneRunRow[];
  }

  /** Runs left 'running' by a process that is gone (killed) become 'interrupted'. */
  markInterrupted(at: number): number {
    const stale = (
      this.db.prepare("SELECT id, pid FROM prune_runs WHERE status = 'running'").all() as Array<{
        id: string;
        pid: number;
      }>
    ).filter((run) => !isAlive(run.pid));
    const mark = this.db.prepare(
      "UPDATE prune_runs SET status = 'interrupted', finished_at = ? WHERE id = ? AND status = 'running'",
    );
    this.db
      .transaction(() => {
        for (const run of stale) mark.run(at, run.id);
      })
      .immediate();
    return stale.length;
  }
}

/** Whether a prune's process still runs: a SQLite ledger is on this machine, so its pid says. */
function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
