import type { Action, ActionStore, NewAction } from "./actions.js";
import { completeAction } from "./actions.js";

export interface WriterOptions {
  /** A finished action reaches the database within this many ms. */
  flushIntervalMs?: number;
  /** Flush at once when this many actions wait. */
  batchSize?: number;
  /** Told about a failed flush (a full disk, a locked file); the batch is kept and retried. */
  onError?: (error: unknown, pending: number) => void;
}

/**
 * Batches action writes so the request path never waits on SQLite: `write` only queues, and a
 * timer commits the queue in one transaction. One transaction per batch is what makes ingest fast
 * (thousands of rows per commit instead of one), and the short interval is what bounds loss on a
 * kill -9 to the last few milliseconds of finished requests. A failed flush keeps the batch and
 * retries, so a full disk delays writes instead of dropping them.
 */
export class ActionWriter {
  private queue: Action[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly flushIntervalMs: number;
  private readonly batchSize: number;
  private closed = false;
  private failures = 0;

  constructor(
    private readonly store: ActionStore,
    private readonly options: WriterOptions = {},
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? 50;
    this.batchSize = options.batchSize ?? 512;
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Queues an action; its id (made now if absent) is returned at once. */
  write(action: NewAction): Action {
    const complete = completeAction(action);
    this.queue.push(complete);
    if (this.closed || this.queue.length >= this.batchSize) this.flush();
    else this.schedule();
    return complete;
  }

  /** Commits everything queued; safe to call at any time. Returns how many were written. */
  flush(): number {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.queue.length === 0) return 0;
    const batch = this.queue;
    this.queue = [];
    try {
      this.store.insert(batch);
      this.failures = 0;
      return batch.length;
    } catch (error) {
      this.queue = batch.concat(this.queue);
      this.failures += 1;
      this.options.onError?.(error, this.queue.length);
      // Back off, up to 5 s, so a full disk is retried without spinning.
      this.schedule(Math.min(5000, this.flushIntervalMs * 2 ** this.failures));
      return 0;
    }
  }

  /** Flushes and stops the timer; later writes are committed at once. */
  close(): void {
    this.closed = true;
    this.flush();
  }

  private schedule(delay = this.flushIntervalMs): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, delay);
  }
}
