import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { BatchData, BatchRequest } from "../stores/retention.js";
import { readBatch } from "./retention-batches.js";
import type { RetentionStatements } from "./retention-statements.js";

/**
 * Where a prune's batches are read. Reading is half of a prune's work (the candidate scans, and
 * for compression the parsing and hashing of every body); on a second thread it overlaps the
 * writes, and under the daemon it keeps the gateway's event loop free. The thread's own
 * connection reads a WAL snapshot without any lock the writers need, and every write re-checks
 * what its read saw, so reading ahead is safe.
 */
export interface BatchReader {
  read(request: BatchRequest): Promise<BatchData>;
  /**
   * Settles once reads go to the reader thread (true), or once there will be none (false: the
   * prune was small enough never to start one, it could not start, or the reader is closed).
   */
  threaded(): Promise<boolean>;
  close(): Promise<void>;
}

export function inThreadReader(store: RetentionStatements): BatchReader {
  return {
    read: async (request) => readBatch(store, request),
    threaded: async () => false,
    close: async () => {},
  };
}

/**
 * Reads in this thread until a read fills its batch (there is more to move than one batch), then
 * starts a reader thread and sends every later read to it, once it has opened the ledger. A small
 * prune, the common case between two weekly runs, never pays for a thread; a big one reads only
 * its first batch here. A prune never fails for want of a second thread: if it
 * cannot start or dies, reads come back here, and `onFallback` hears why. `onStart` is told when
 * the prune turns out to be that big one, so the session's other helpers start with this one.
 */
export function openReader(
  store: RetentionStatements,
  path: string,
  onFallback?: (reason: string) => void,
  onStart?: () => void,
): BatchReader {
  const local = inThreadReader(store);
  let thread: ThreadReader | null = null;
  let state: "local" | "starting" | "threaded" | "off" = "local";
  let settle: (threaded: boolean) => void = () => {};
  const threaded = new Promise<boolean>((resolve) => {
    settle = resolve;
  });
  const fallBack = (reason: string) => {
    if (state === "off") return;
    state = "off";
    settle(false);
    onFallback?.(reason);
    void thread?.close();
    thread = null;
  };
  const start = () => {
    state = "starting";
    onStart?.();
    try {
      thread = new ThreadReader(path, fallBack);
    } catch (error) {
      fallBack(String(error));
      return;
    }
    void thread.ready.then(() => {
      if (state !== "starting") return;
      state = "threaded";
      settle(true);
    });
  };
  return {
    read: async (request) => {
      // Once started, reads wait for the thread rather than run here meanwhile: a batch read
      // here (parsing and hashing bodies) holds up the gateway's writes in this process.
      if (state === "starting") await threaded;
      if (state === "threaded" && thread) {
        try {
          return await thread.read(request);
        } catch (error) {
          fallBack(error instanceof Error ? error.message : String(error));
        }
      }
      const data = await local.read(request);
      if (state === "local" && data.rows.length >= request.limit) start();
      return data;
    },
    threaded: () => threaded,
    close: async () => {
      // Already settled (the thread took over, or failed) stays as it was.
      settle(false);
      state = "off";
      const closing = thread;
      thread = null;
      await closing?.close();
    },
  };
}

// Built, the worker is read-worker.js beside this file. From the TypeScript sources (tests, the
// benchmarks) it is read-worker.ts, which a small bootstrap loads through tsx's loader, a
// development dependency that only the sources need.
const fromSource = fileURLToPath(import.meta.url).endsWith(".ts");
const workerUrl = new URL(
  fromSource ? "./retention-read-worker.ts" : "./retention-read-worker.js",
  import.meta.url,
);
const TSX_BOOTSTRAP = `
const { workerData } = require("node:worker_threads");
import(workerData.tsx).then((tsx) => tsx.register()).then(() => import(workerData.entry));
`;

function startWorker(path: string): Worker {
  if (!fromSource) return new Worker(workerUrl, { workerData: { path } });
  // tsx/esm/api's ESM build: its CommonJS one resolves its own files wrongly from a worker.
  const esm = createRequire(import.meta.url).resolve("tsx/esm");
  const tsx = pathToFileURL(join(dirname(esm), "api", "index.mjs")).href;
  return new Worker(TSX_BOOTSTRAP, {
    eval: true,
    workerData: { path, tsx, entry: workerUrl.href },
  });
}

class ThreadReader {
  private readonly worker: Worker;
  private readonly pending = new Map<
    number,
    { resolve(data: BatchData): void; reject(error: Error): void }
  >();
  private nextId = 0;
  private failure: Error | null = null;
  /** close() was called: the thread's exit is expected, not a failure to report. */
  private closing = false;
  private readonly exited: Promise<void>;
  /** Resolves when the thread has opened the ledger and takes requests. */
  readonly ready: Promise<void>;
  private markReady: () => void = () => {};

  /** `onFailure` hears, once, why the thread failed or exited before it was closed. */
  constructor(
    path: string,
    private readonly onFailure: (reason: string) => void,
  ) {
    this.ready = new Promise((resolve) => {
      this.markReady = resolve;
    });
    this.worker = startWorker(path);
    this.worker.on(
      "message",
      (message: { ready?: true; id: number; data?: BatchData; error?: string }) => {
        if (message.ready) {
          this.markReady();
          return;
        }
        const waiter = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.error !== undefined) waiter?.reject(new Error(message.error));
        else waiter?.resolve(message.data!);
      },
    );
    this.worker.on("error", (error) => this.fail(error));
    this.exited = new Promise((resolve) =>
      this.worker.on("exit", () => {
        this.fail(new Error("the prune's reader thread exited"));
        resolve();
      }),
    );
  }

  read(request: BatchRequest): Promise<BatchData> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, request });
    });
  }

  async close(): Promise<void> {
    if (!this.failure) {
      this.closing = true;
      this.worker.postMessage({ close: true });
    }
    await this.exited;
  }

  private fail(error: unknown): void {
    if (this.failure) return;
    this.failure = error instanceof Error ? error : new Error(String(error));
    if (!this.closing) this.onFailure(this.failure.message);
    for (const waiter of this.pending.values()) waiter.reject(this.failure);
    this.pending.clear();
  }
}
