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
  close(): Promise<void>;
}

export function inThreadReader(store: RetentionStatements): BatchReader {
  return {
    read: async (request) => readBatch(store, request),
    close: async () => {},
  };
}

/**
 * A reader thread when one starts, else (or from the moment it fails) reads in this thread: a
 * prune never fails for want of a second thread. `onFallback` hears why.
 */
export function openReader(
  store: RetentionStatements,
  path: string,
  onFallback?: (reason: string) => void,
): BatchReader {
  const local = inThreadReader(store);
  let thread: ThreadReader | null;
  try {
    thread = new ThreadReader(path);
  } catch (error) {
    onFallback?.(String(error));
    return local;
  }
  return {
    read: async (request) => {
      if (!thread) return local.read(request);
      try {
        return await thread.read(request);
      } catch (error) {
        onFallback?.(error instanceof Error ? error.message : String(error));
        void thread.close();
        thread = null;
        return local.read(request);
      }
    },
    close: async () => {
      await thread?.close();
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
  private readonly exited: Promise<void>;

  constructor(path: string) {
    this.worker = startWorker(path);
    this.worker.on("message", (message: { id: number; data?: BatchData; error?: string }) => {
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error !== undefined) waiter?.reject(new Error(message.error));
      else waiter?.resolve(message.data!);
    });
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
    if (!this.failure) this.worker.postMessage({ close: true });
    await this.exited;
  }

  private fail(error: unknown): void {
    this.failure ??= error instanceof Error ? error : new Error(String(error));
    for (const waiter of this.pending.values()) waiter.reject(this.failure);
    this.pending.clear();
  }
}
