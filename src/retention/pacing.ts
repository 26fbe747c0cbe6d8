import { setTimeout as sleep } from "node:timers/promises";

export interface PacingOptions {
  /** Most rows one transaction handles (default 2000). */
  maxBatch?: number;
  /** Fewest rows one transaction handles (default 50). */
  minBatch?: number;
  /** How long one transaction should hold the write lock, in ms (default 10). */
  targetBatchMs?: number;
  /**
   * Pause after each transaction, as a fraction of its duration (default 1: the lock is free at
   * least half the time) with a floor of `minPauseMs` (default 2).
   */
  pauseRatio?: number;
  minPauseMs?: number;
}

/**
 * Sizes prune transactions by time, not by row count: rows cost from a few microseconds (a small
 * compressed row) to a millisecond (a row with large bodies on a cold disk), and what the gateway
 * feels is how long the write lock is held. Between transactions the lock is left free for at
 * least as long as it was held, because another process waiting on SQLite's busy handler polls
 * at growing intervals and would otherwise keep finding the lock taken again.
 */
export class Pacer {
  private size: number;
  private readonly maxBatch: number;
  private readonly minBatch: number;
  private readonly targetMs: number;
  private readonly pauseRatio: number;
  private readonly minPauseMs: number;
  /** The longest transaction so far, ms: what a writer in this process may wait at most. */
  longestMs = 0;

  constructor(options: PacingOptions = {}) {
    this.maxBatch = options.maxBatch ?? 2000;
    this.minBatch = Math.min(options.minBatch ?? 50, this.maxBatch);
    this.targetMs = options.targetBatchMs ?? 10;
    this.pauseRatio = options.pauseRatio ?? 1;
    this.minPauseMs = options.minPauseMs ?? 2;
    this.size = Math.min(500, this.maxBatch);
  }

  get batchSize(): number {
    return this.size;
  }

  /** Adjusts the next batch from the last one's duration, then yields to the event loop. */
  async after(elapsedMs: number, rows: number): Promise<void> {
    this.longestMs = Math.max(this.longestMs, elapsedMs);
    if (rows >= this.size) {
      const perRow = elapsedMs / Math.max(1, rows);
      const ideal = perRow > 0 ? this.targetMs / perRow : this.maxBatch;
      // Grow gently, shrink at once: one slow batch is what a waiting writer notices.
      const next = ideal > this.size ? Math.min(ideal, this.size * 1.5) : ideal;
      this.size = Math.round(Math.max(this.minBatch, Math.min(this.maxBatch, next)));
    }
    const pause = Math.max(this.minPauseMs, elapsedMs * this.pauseRatio);
    await sleep(pause);
  }
}
