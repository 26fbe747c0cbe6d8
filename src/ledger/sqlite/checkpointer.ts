import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type { Database } from "better-sqlite3";

/**
 * Folds the write-ahead log into the database on a second thread while the prune moves rows.
 *
 * A prune writes hundreds of MB to the log. Left to SQLite's auto-checkpoint, whichever
 * connection commits past 10,000 log pages copies them all inside its commit: the prune, which
 * then spends about a third of its time there, or the gateway, whose one small write then takes
 * a 40 MB copy's time. So for the prune's duration auto-checkpoint is off on the prune's
 * connection (under the daemon that is the gateway's too) and a worker with its own connection
 * runs PASSIVE checkpoints every few ms. A PASSIVE checkpoint takes no lock a writer needs, so it
 * overlaps the prune's next batch on the other core and nobody's commit pays for it.
 *
 * If the worker cannot start or dies, auto-checkpoint is turned back on at once: the log is
 * never left to grow unchecked.
 */
export interface Checkpointer {
  /**
   * Call between two of the prune's transactions. When the log has grown past `maxLogFrames`,
   * waits (the write lock free) while the worker copies the rest of it, so the next write starts
   * the log over. Checkpointing alongside a writer that holds the lock most of the time never
   * quite finishes, and a log that only grows makes every page lookup, and every writer, slower.
   */
  keepUp(): Promise<void>;
  /** One checkpoint now, on the worker; resolves whether it copied the whole log. */
  checkpointNow(): Promise<boolean>;
  /** Settles once the worker has made its first pass (measured the log), or has stopped. */
  readonly started: Promise<void>;
  /** Stops the worker and turns auto-checkpoint back on; resolves with what the worker did. */
  stop(): Promise<CheckpointerStats>;
}

export interface CheckpointerStats {
  checkpoints: number;
  /** Log pages copied into the database. */
  pages: number;
  /** The longest the log grew, in pages. */
  maxLogFrames: number;
  /** Why the worker stopped early, if it did; auto-checkpoint covered the rest of the run. */
  error: string | null;
}

// A plain script run with `eval`, so it works the same from dist/ and from the TypeScript
// sources under tsx and vitest; better-sqlite3 is resolved here and handed over by path.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.module);
// Niced, like the prune's reader thread (on Linux the priority is per thread): the gateway's
// writes come first on a small machine.
try { require("node:os").setPriority(10); } catch {}
let db;
try {
  db = new Database(workerData.path, { fileMustExist: true });
  db.pragma("synchronous = NORMAL");
} catch (error) {
  // Thrown, a SqliteError would reach the main thread without its message.
  throw new Error(\`cannot open \${workerData.path} to checkpoint it: \${error.message}\`);
}
// shared[0]: frames in the log at the last checkpoint; shared[1]: the most ever seen.
const shared = new Int32Array(workerData.shared);
let checkpoints = 0;
let pages = 0;
function checkpoint() {
  const [result] = db.pragma("wal_checkpoint(PASSIVE)");
  checkpoints += 1;
  pages += Math.max(0, result.checkpointed);
  Atomics.store(shared, 0, result.log);
  if (result.log > shared[1]) Atomics.store(shared, 1, result.log);
  return result.log >= 0 && result.checkpointed === result.log;
}
let timer;
function finish() {
  clearTimeout(timer);
  db.close();
  parentPort.postMessage({ checkpoints, pages });
}
parentPort.on("message", (message) => {
  if (message === "drain") parentPort.postMessage({ drained: checkpoint() });
  else finish();
});
function tick() {
  checkpoint();
  timer = setTimeout(tick, workerData.everyMs);
}
tick();
parentPort.postMessage({ started: true });
`;

const betterSqlite = createRequire(import.meta.url).resolve("better-sqlite3");

type Reply = { drained: boolean } | { started: true } | { checkpoints: number; pages: number };

export function startCheckpointer(
  db: Database,
  path: string,
  { everyMs = 20, maxLogFrames = 4096 } = {},
): Checkpointer {
  const autocheckpoint = Number(db.pragma("wal_autocheckpoint", { simple: true }));
  const restore = () => {
    if (db.open) db.pragma(`wal_autocheckpoint = ${autocheckpoint}`);
  };
  const shared = new Int32Array(new SharedArrayBuffer(8));
  let error: string | null = null;
  let stats: { checkpoints: number; pages: number } | null = null;
  let alive = true;
  let drained: ((done: boolean) => void) | null = null;
  let markStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    markStarted = resolve;
  });
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { module: betterSqlite, path, everyMs, shared: shared.buffer },
  });
  db.pragma("wal_autocheckpoint = 0");
  const exited = new Promise<void>((resolve) => {
    worker.on("message", (message: Reply) => {
      if ("drained" in message) {
        drained?.(message.drained);
        return;
      }
      if ("started" in message) return markStarted();
      stats = message;
      // The worker's port keeps it alive; its connection is closed, so ending it is safe.
      void worker.terminate();
    });
    worker.on("error", (e: unknown) => {
      const message = (e as { message?: unknown } | null)?.message;
      error = typeof message === "string" ? message : String(e);
      restore();
    });
    worker.on("exit", () => {
      alive = false;
      markStarted();
      drained?.(false);
      restore();
      resolve();
    });
  });
  const drain = () =>
    new Promise<boolean>((resolve) => {
      if (!alive) return resolve(false);
      drained = (done) => {
        drained = null;
        resolve(done);
      };
      worker.postMessage("drain");
    });
  return {
    started,
    checkpointNow: drain,
    async keepUp() {
      // A gateway write landing mid-copy leaves a few frames behind; one more pass gets them.
      for (let attempt = 0; attempt < 3; attempt++) {
        if (!alive || Atomics.load(shared, 0) <= maxLogFrames) return;
        if (await drain()) Atomics.store(shared, 0, 0);
      }
    },
    async stop() {
      if (alive) worker.postMessage("stop");
      await exited;
      restore();
      const done = stats as { checkpoints: number; pages: number } | null;
      return {
        checkpoints: done?.checkpoints ?? 0,
        pages: done?.pages ?? 0,
        maxLogFrames: Atomics.load(shared, 1),
        error,
      };
    },
  };
}
