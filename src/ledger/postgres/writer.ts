import type pg from "pg";
import { NightshiftError } from "../../errors.js";
import { type Action, completeAction, type NewAction } from "../actions.js";
import type { ActionAppender } from "../stores/index.js";
import { insertActions } from "./insert.js";
import { type CopyBatch, copyActions, encodeCopyBatch } from "./insert-copy.js";
import { isConnectionLoss } from "./pool.js";

export interface PostgresWriterOptions {
  /** A finished action reaches the database within this many ms. */
  flushIntervalMs?: number;
  /** Commit at once when this many wait; also the most rows one statement carries. */
  batchSize?: number;
  /** How long `close` keeps retrying an unreachable server before giving the rest up. */
  closeTimeoutMs?: number;
  /** Told about a failed commit; the batch is kept and retried. */
  onError?: (error: unknown, pending: number) => void;
  /**
   * Told about actions the server refuses on their own (not a lost connection): a batch that
   * fails is retried row by row, and only the rows that fail alone come here, instead of
   * blocking every later write. Without it they are retried like the rest.
   */
  onRejected?: (actions: Action[], error: unknown) => void;
  /** Told about each committed batch, right after its commit. */
  onCommit?: (actions: readonly Action[]) => void;
}

const MAX_BACKOFF_MS = 5000;

/**
 * The gateway's batched writer for PostgreSQL: `write` queues and returns at once; one commit is
 * in flight at a time, carrying up to `batchSize` rows in one COPY transaction. A commit that fails keeps
 * its rows at the head of the queue and is retried with backoff (the server restarting, the
 * network gone), and rows already committed by a commit whose acknowledgement was lost are not
 * written twice (the COPY fails on them and the INSERT's ON CONFLICT DO NOTHING skips them), so nothing is lost and nothing doubles.
 */
export class PostgresActionWriter implements ActionAppender {
  private queue: Action[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<boolean> | undefined;
  private failures = 0;
  private closed = false;
  private ahead: { first: Action; count: number; copy: CopyBatch } | undefined;
  private readonly flushIntervalMs: number;
  private readonly batchSize: number;

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: PostgresWriterOptions = {},
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? 50;
    this.batchSize = options.batchSize ?? 512;
  }

  get pending(): number {
    return this.queue.length;
  }

  write(action: NewAction): Action {
    const complete = completeAction(action);
    this.queue.push(complete);
    if (this.queue.length >= this.batchSize) this.kick(0);
    else this.kick(this.flushIntervalMs);
    return complete;
  }

  /** Commits everything queued; throws (keeping the rows queued) if a commit fails. */
  async flush(): Promise<number> {
    let committed = 0;
    for (;;) {
      if (this.inFlight) await this.inFlight;
      if (this.queue.length === 0) return committed;
      const size = Math.min(this.queue.length, this.batchSize);
      const error = await this.commitOnce();
      if (error !== undefined) {
        // The rows stay queued; the background retry takes them on, as after a timer's failure.
        this.kick(this.flushIntervalMs);
        throw error;
      }
      committed += size;
    }
  }

  /** Stops the timer and commits the rest, retrying for up to closeTimeoutMs. */
  async close(): Promise<void> {
    this.closed = true;
    this.clearTimer();
    const deadline = performance.now() + (this.options.closeTimeoutMs ?? 30_000);
    let delay = 50;
    for (;;) {
      try {
        await this.flush();
        return;
      } catch (error) {
        if (performance.now() + delay > deadline) {
          throw new NightshiftError(
            `the PostgreSQL ledger stayed unreachable: ${this.queue.length} actions not written (${String(error)})`,
            { status: 503, code: "ledger", cause: error },
          );
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(MAX_BACKOFF_MS, delay * 2);
      }
    }
  }

  /** The rows not yet committed, for a caller that must keep them elsewhere after `close` fails. */
  takePending(): Action[] {
    const rest = this.queue;
    this.queue = [];
    return rest;
  }

  private kick(delay: number): void {
    if (this.inFlight || this.closed) return;
    if (delay > 0 && this.timer) return;
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.background();
    }, delay);
  }

  private async background(): Promise<void> {
    const error = await this.commitOnce();
    if (this.closed) return;
    if (error !== undefined) {
      this.failures += 1;
      this.options.onError?.(error, this.queue.length);
      this.kick(Math.min(MAX_BACKOFF_MS, this.flushIntervalMs * 2 ** this.failures));
    } else if (this.queue.length >= this.batchSize) this.kick(0);
    else if (this.queue.length > 0) this.kick(this.flushIntervalMs);
  }

  /** One batch from the head of the queue; resolves with the error if it failed. */
  private async commitOnce(): Promise<unknown> {
    // One commit at a time: a flush() and the timer must not send the same head twice.
    while (this.inFlight) await this.inFlight;
    const batch = this.queue.slice(0, this.batchSize);
    if (batch.length === 0) return undefined;
    let failure: unknown;
    const run = this.commit(batch).then(
      () => true,
      (error: unknown) => {
        failure = error;
        return false;
      },
    );
    this.inFlight = run;
    const ok = await run;
    this.inFlight = undefined;
    return ok ? undefined : failure;
  }

  /** Commits `batch` (the queue's head) and removes it from the queue once it is in. */
  private async commit(batch: Action[]): Promise<boolean> {
    try {
      await copyActions(this.pool, this.encoded(batch), () => this.encodeNext(batch.length));
    } catch (copyError) {
      if (isConnectionLoss(copyError)) throw copyError;
      // Rows of this batch already in (a lost acknowledgement), or a row the server refuses:
      // the INSERT skips the former, and its failure sends the batch row by row for the latter.
      try {
        await insertActions(this.pool, batch);
      } catch (error) {
        if (isConnectionLoss(error) || !this.options.onRejected) throw error;
        await this.commitRowByRow(batch, error);
      }
    }
    this.queue.splice(0, batch.length);
    this.failures = 0;
    this.options.onCommit?.(batch);
    return true;
  }

  /** The batch as COPY text: encoded ahead while the previous one was committing, or now. */
  private encoded(batch: Action[]): CopyBatch {
    const ahead = this.ahead;
    this.ahead = undefined;
    if (ahead && ahead.first === batch[0] && ahead.count === batch.length) return ahead.copy;
    return encodeCopyBatch(batch);
  }

  /**
   * Encodes the batch after the one the server is taking, so this process's share of the work
   * (JSON, escaping) overlaps the server's instead of following it. The queue only grows at
   * its tail and loses rows at its head, so the same first row and count mean the same rows.
   */
  private encodeNext(after: number): void {
    const next = this.queue.slice(after, after + this.batchSize);
    if (next.length < this.batchSize) return; // a partial batch may still grow before it goes
    this.ahead = { first: next[0]!, count: next.length, copy: encodeCopyBatch(next) };
  }

  private async commitRowByRow(batch: Action[], batchError: unknown): Promise<void> {
    const rejected: Action[] = [];
    let lastError = batchError;
    for (const action of batch) {
      try {
        await insertActions(this.pool, [action]);
      } catch (error) {
        if (isConnectionLoss(error)) throw error;
        rejected.push(action);
        lastError = error;
      }
    }
    if (rejected.length) this.options.onRejected?.(rejected, lastError);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
