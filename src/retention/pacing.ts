import { setTimeout as sleep } from "node:timers/promises";

export interface PacingOptions {
  /** Most rows one batch handles (default 2000). */
  maxBatch?: number;
  /** Fewest rows one batch handles (default 50). */
  minBatch?: number;
  /** How long the read or the write of one batch should take, in ms (default 10). */
  targetBatchMs?: number;
  /**
   * How long the write lock stays free after each write, as a fraction of the write's duration
   * (default 0.25: the lock is held at most 80% of the time), counting any wait for the next
   * batch's read, with a floor of `minPauseMs` (default 1).
   */
  pauseRatio?: number;
  minPauseMs?: number;
  /** Waits out a pause (default: a real timer); tests record the pauses instead of timing them. */
  pause?: (ms: number) => Promise<void>;
}

/**
 * Sizes prune batches by time, not by row count: rows cost from a few microseconds (a small
 * compressed row) to a millisecond (large bodies on a cold disk), and what the gateway feels is
 * how long the write lock is held and, in the daemon's own process, how long the event loop is.
 *
 * After each write the lock is left free for a quarter of the time it was held. That is plenty
 * for the gateway's writer, which retries every millisecond and so finds any gap: it waits at
 * most one batch. Other writers (a CLI command, another tool on the file) wait on SQLite's busy
 * handler, which does not queue: it sleeps 1, 2, 5, 10, 15, 20, 25... ms and retries, and against
 * a lock free only in short gaps it misses many of them; such a write may take a few hundred ms
 * during a prune, well inside its 5 s busy_timeout. A ratio of 1 (a simulation of that handler
 * put its p99 near 30 ms there) halves the prune's speed now that the reads run on another
 * thread and no longer fill the gaps.
 */
export class Pacer {
  private size: number;
  private readonly maxBatch: number;
  private readonly minBatch: number;
  private readonly targetMs: number;
  private readonly pauseRatio: number;
  private readonly minPauseMs: number;
  private readonly pause: (ms: number) => Promise<void>;
  /** The longest transaction so far, ms: what a writer in this process may wait at most. */
  longestMs = 0;

  constructor(options: PacingOptions = {}) {
    this.maxBatch = options.maxBatch ?? 2000;
    this.minBatch = Math.min(options.minBatch ?? 50, this.maxBatch);
    this.targetMs = options.targetBatchMs ?? 10;
    this.pauseRatio = options.pauseRatio ?? 0.25;
    this.minPauseMs = options.minPauseMs ?? 1;
    this.pause = options.pause ?? ((ms) => sleep(ms));
    this.size = Math.min(500, this.maxBatch);
  }

  get batchSize(): number {
    return this.size;
  }

  /**
   * Adjusts the next batch from the last one's timings, then waits. `readMs` ran without the
   * write lock and already counts as time the lock was free.
   */
  async after(readMs: number, writeMs: number, rows: number): Promise<void> {
    const longest = Math.max(readMs, writeMs);
    this.longestMs = Math.max(this.longestMs, longest);
    if (rows >= this.size) {
      const perRow = longest / Math.max(1, rows);
      const ideal = perRow > 0 ? this.targetMs / perRow : this.maxBatch;
      // Grow gently, shrink at once: one slow batch is what a waiting writer notices.
      const next = ideal > this.size ? Math.min(ideal, this.size * 1.5) : ideal;
      this.size = Math.round(Math.max(this.minBatch, Math.min(this.maxBatch, next)));
    }
    await this.pause(Math.max(this.minPauseMs, writeMs * this.pauseRatio - readMs));
  }
}
