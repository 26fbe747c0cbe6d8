import type { Action, ActionStore, NewAction } from "./actions.js";
import { completeAction } from "./actions.js";
import { type Unstorable, unstorableMarker } from "./storable.js";

function unstorable(value: unknown, reason: string): Unstorable | null {
  return value === null || value === undefined ? null : unstorableMarker(value, reason);
}

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
 * Failures of the store itself (a full disk, an I/O error, a closed or read-only file): every
 * row would fail alike, so the batch is kept and retried. Anything else is taken to be about one
 * row in the batch, which is then found and stored degraded instead of blocking the rest.
 */
function isStoreWide(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string") {
    return /^SQLITE_(BUSY|FULL|IOERR|READONLY|CANTOPEN|NOMEM|CORRUPT|NOTADB|LOCKED|PROTOCOL|PERM|AUTH)/.test(
      code,
    );
  }
  return /database connection is not open/i.test(String((error as Error)?.message ?? error));
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
      this.insertBatch(batch, wait);
    } catch (error) {
      if (!isStoreWide(error)) return this.isolate(batch, wait);
      this.queue = batch.concat(this.queue);
      this.retry(error);
      return 0;
    }
    this.failures = 0;
    this.lockedSince = undefined;
    this.options.onCommit?.(batch);
    return batch.length;
  }

  private insertBatch(batch: Action[], wait: boolean): void {
    if (wait) this.store.insert(batch);
    else this.store.insertWithoutWaiting(batch);
  }

  /**
   * A batch failed for a reason that is not the store's: commits its rows one at a time so the
   * good ones land, and stores each failing row with its bodies replaced by a marker (the error,
   * and the digest of what was dropped). A row that cannot be stored even so is reported and
   * dropped: keeping it would block every row behind it for ever.
   */
  private isolate(batch: Action[], wait: boolean): number {
    let committed = 0;
    const rest = [...batch];
    while (rest.length > 0) {
      const action = rest.shift()!;
      try {
        this.insertBatch([action], wait);
        committed += 1;
      } catch (error) {
        const failure = isStoreWide(error) ? error : this.storeDegraded(action, error, wait);
        if (failure === null) {
          committed += 1;
          continue;
        }
        this.queue = [action, ...rest, ...this.queue];
        this.retry(failure);
        return committed;
      }
    }
    this.options.onCommit?.(batch);
    return committed;
  }

  /**
   * Stores the row with its bodies replaced; null when that worked (or the row is already in the
   * ledger), else the error: a row that fails even without its bodies points at the store (a
   * trigger, a full disk), so the caller keeps it and retries.
   */
  private storeDegraded(action: Action, error: unknown, wait: boolean): unknown {
    const reason = `not stored as sent: ${String((error as Error)?.message ?? error).slice(0, 500)}`;
    const degraded: Action = {
      ...action,
      request: unstorable(action.request, reason),
      response: unstorable(action.response, reason),
      meta: { degraded: reason },
    };
    try {
      this.insertBatch([degraded], wait);
      return null;
    } catch (again) {
      const code = String((again as { code?: unknown }).code ?? "");
      if (code !== "SQLITE_CONSTRAINT_PRIMARYKEY" && code !== "SQLITE_CONSTRAINT_UNIQUE") {
        return again;
      }
      // Its id is already in the ledger: writing it again can never succeed.
      this.options.onError?.(new Error(`action ${action.id} dropped: ${String(again)}`), 0);
      return null;
    }
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

  /**
   * Flushes and stops the timer; later writes are committed at once. Bounded: one attempt, and
   * a store that cannot take the queue (a full disk) is reported, not retried for ever, so a
   * shutdown always ends.
   */
  close(): void {
    this.closed = true;
    this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length > 0) {
      this.options.onError?.(
        new Error(`${this.queue.length} actions could not be written before closing`),
        this.queue.length,
      );
    }
  }

  private schedule(delay = this.flushIntervalMs): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.commit(false);
    }, delay);
  }
}
