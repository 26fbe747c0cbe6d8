import type { Action, ActionStore, NewAction } from "./actions.js";
import { completeAction } from "./actions.js";

export interface WriterOptions {
  /** A finished action reaches the database within this many ms. */
  flushIntervalMs?: number;
  /** Flush at once when this many actions wait. */
  batchSize?: number;
  /**
   * How long a background flush keeps retrying, every millisecond or so, while another process
   * (a `nightshift prune` from a terminal) holds the write lock, before that counts as a failure
   * (default 5000, SQLite's busy_timeout here).
   */
  lockWaitMs?: number;
  /** Told about a failed flush (a full disk, a locked file); the batch is kept and retried. */
  onError?: (error: unknown, pending: number) => void;
  /** Told about each committed batch, right after its commit. */
  onCommit?: (actions: readonly Action[]) => void;
}

/** How soon a background flush that found the ledger locked tries again, in ms. */
const LOCKED_RETRY_MS = 1;

function isLocked(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_BUSY");
}

/**
 * Batches action writes so the request path never waits on SQLite: `write` only queues, and a
 * timer commits the queue in one transaction. One transaction per batch is what makes ingest fast
 * (thousands of rows per commit instead of one), and the short interval is what bounds loss on a
 * kill -9 to the last few milliseconds of finished requests. A failed flush keeps the batch and
 * retries, so a full disk delays writes instead of dropping them.
 *
 * Background flushes (the timer, a full batch) never wait on SQLite's lock: a wait there would
 * freeze the gateway's event loop, and SQLite's busy handler sleeps 1, 2, 5, 10, 15, 20 ms...
 * between tries, so a writer facing a lock that is free only in short gaps keeps missing them.
 * Instead they try without waiting and, finding the lock held, try again a millisecond later.
 * An explicit `flush()` still waits (busy_timeout): its caller is about to read what it wrote.
 */
export class ActionWriter {
  private queue: Action[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly flushIntervalMs: number;
  private readonly batchSize: number;
  private closed = false;
  private failures = 0;
  private lockedSince: number | undefined;
  private readonly lockWaitMs: number;

  constructor(
    private readonly store: ActionStore,
    private readonly options: WriterOptions = {},
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? 50;
    this.batchSize = options.batchSize ?? 512;
    this.lockWaitMs = options.lockWaitMs ?? 5000;
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Queues an action; its id (made now if absent) is returned at once. */
  write(action: NewAction): Action {
    const complete = completeAction(action);
    this.queue.push(complete);
    if (this.closed) this.flush();
    else if (this.queue.length >= this.batchSize) this.commit(false);
    else this.schedule();
    return complete;
  }

  /** Commits everything queued, waiting for the write lock if need be. Returns how many. */
  flush(): number {
    return this.commit(true);
  }

  private commit(wait: boolean): number {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.queue.length === 0) return 0;
    const batch = this.queue;
    this.queue = [];
    try {
      if (wait) this.store.insert(batch);
      else this.store.insertWithoutWaiting(batch);
    } catch (error) {
      this.queue = batch.concat(this.queue);
      this.retry(error);
      return 0;
    }
    this.failures = 0;
    this.lockedSince = undefined;
    this.options.onCommit?.(batch);
    return batch.length;
  }

  private retry(error: unknown): void {
    if (isLocked(error) && !this.closed) {
      const now = performance.now();
      this.lockedSince ??= now;
      if (now - this.lockedSince < this.lockWaitMs) {
        this.schedule(LOCKED_RETRY_MS);
        return;
      }
    }
    this.failures += 1;
    this.options.onError?.(error, this.queue.length);
    // Back off, up to 5 s, so a full disk is retried without spinning.
    this.schedule(Math.min(5000, this.flushIntervalMs * 2 ** this.failures));
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
      this.commit(false);
    }, delay);
  }
}
