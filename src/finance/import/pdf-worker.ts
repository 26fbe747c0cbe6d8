import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { NightshiftError } from "../../errors.js";
import { checkInflation, DEFAULT_PDF_LIMITS, type PdfLimits } from "./pdf-limits.js";
import type { Line } from "./pdf-text.js";

// Built, the thread runs pdf-worker-main.js beside this file; from the TypeScript sources (tests,
// benchmarks, `npm run dev`) a bootstrap loads pdf-worker-main.ts through tsx, as the retention
// reader does.
const fromSource = fileURLToPath(import.meta.url).endsWith(".ts");
const entry = new URL(
  fromSource ? "./pdf-worker-main.ts" : "./pdf-worker-main.js",
  import.meta.url,
);
// pdfjs (4 MB of plain JavaScript) is loaded by Node itself before tsx's hooks are in place:
// through them it took 2–3 s more to start the thread, transformed for nothing. The thread's own
// import of it then finds it in the module cache.
const TSX_BOOTSTRAP = `
const { workerData } = require("node:worker_threads");
Promise.all(workerData.preload.map((url) => import(url)))
  .then(() => import(workerData.tsx))
  .then((tsx) => tsx.register())
  .then(() => import(workerData.entry));
`;

type WorkerError = { message: string; name: string; code: string | null; stack: string | null };
type Reply = { id: number; lines: Line[] } | { id: number; error: WorkerError };

/** A warm thread is kept this long after its last file, so an import of many PDFs loads pdfjs once. */
const IDLE_MS = 10_000;

interface Thread {
  worker: Worker;
  memoryMb: number;
  idle: NodeJS.Timeout | undefined;
  /** Resolves once the thread has loaded pdfjs; rejects if it dies or takes over START_MS. */
  ready: Promise<void>;
}

/** Loading pdfjs in a new thread takes a second on an idle machine, far longer on a busy one. */
const START_MS = 120_000;

let thread: Thread | undefined;
let queue: Promise<unknown> = Promise.resolve();
let nextId = 0;

/**
 * Extracts a PDF's lines in a thread of its own, under a heap limit and a time limit, after its
 * compressed streams and nesting have been checked. A hostile or broken file (a decompression
 * bomb, nesting that overflows the parser's stack, a loop that never ends) costs the thread,
 * never the process: it ends in a NightshiftError naming the file and the limit it hit, and the
 * thread is replaced. Files are read one at a time.
 */
export function readPdfLinesIsolated(
  bytes: Uint8Array,
  file: string,
  limits: PdfLimits = DEFAULT_PDF_LIMITS,
): Promise<Line[]> {
  // The bomb and nesting checks run here, on zlib's own threads and in 16 KB pieces: a hostile
  // file is refused without starting (or loading pdfjs into) the parsing thread at all.
  const run = queue.then(async () => {
    await checkInflation(bytes, file, limits);
    return readOne(bytes, file, limits);
  });
  queue = run.catch(() => undefined);
  return run;
}

async function readOne(bytes: Uint8Array, file: string, limits: PdfLimits): Promise<Line[]> {
  const current = acquire(limits.memoryMb);
  try {
    await current.ready;
  } catch (error) {
    retire(current);
    throw refused(file, `the PDF reader did not start: ${(error as Error).message}`);
  }
  return readReady(current, bytes, file, limits);
}

function readReady(current: Thread, bytes: Uint8Array, file: string, limits: PdfLimits) {
  const id = nextId++;
  return new Promise<Line[]>((resolve, reject) => {
    const { worker } = current;
    const done = (outcome: () => void, healthy: boolean) => {
      clearTimeout(timer);
      worker.off("message", onMessage);
      worker.off("error", onError);
      worker.off("exit", onExit);
      if (healthy) release(current);
      else retire(current);
      outcome();
    };
    const timer = setTimeout(
      () =>
        done(
          () => reject(refused(file, `reading it took over ${limits.timeoutMs / 1000} s`)),
          false,
        ),
      limits.timeoutMs,
    );
    const onMessage = (reply: Reply) => {
      if (reply.id !== id) return;
      if ("lines" in reply) done(() => resolve(reply.lines), true);
      // A typed refusal (not a PDF, encrypted, a bomb caught before parsing) leaves the thread
      // sound; a failure (a stack overflow inside pdfjs, a bug) may not: a fresh one next time.
      else done(() => reject(fromWorker(file, reply.error)), reply.error.code !== null);
    };
    const onError = (error: Error & { code?: string }) =>
      done(
        () =>
          reject(
            error.code === "ERR_WORKER_OUT_OF_MEMORY"
              ? refused(file, `reading it needed more than ${limits.memoryMb} MB`)
              : error,
          ),
        false,
      );
    const onExit = (code: number) =>
      done(() => reject(refused(file, `the PDF reader stopped (exit code ${code})`)), false);
    worker.on("message", onMessage);
    worker.on("error", onError);
    worker.on("exit", onExit);
    worker.ref();
    worker.postMessage({ id, bytes, file, limits });
  });
}

function acquire(memoryMb: number): Thread {
  if (thread && thread.memoryMb !== memoryMb) retire(thread);
  if (!thread) {
    const worker = start(memoryMb);
    thread = { worker, memoryMb, idle: undefined, ready: readyOf(worker) };
  }
  clearTimeout(thread.idle);
  return thread;
}

function readyOf(worker: Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => finish(new Error(`not ready within ${START_MS / 1000} s`)),
      START_MS,
    );
    const onMessage = (message: { ready?: boolean }) => message.ready && finish();
    const onError = (error: Error) => finish(error);
    const onExit = (code: number) => finish(new Error(`exit code ${code}`));
    const finish = (error?: Error) => {
      clearTimeout(timer);
      worker.off("message", onMessage);
      worker.off("error", onError);
      worker.off("exit", onExit);
      if (error) reject(error);
      else resolve();
    };
    worker.on("message", onMessage);
    worker.on("error", onError);
    worker.on("exit", onExit);
  });
}

function release(current: Thread): void {
  // Unreferenced while idle: a warm thread never keeps a finished command alive.
  current.worker.unref();
  current.idle = setTimeout(() => retire(current), IDLE_MS);
  current.idle.unref();
}

function retire(current: Thread): void {
  clearTimeout(current.idle);
  if (thread === current) thread = undefined;
  void current.worker.terminate();
}

function start(memoryMb: number): Worker {
  const resourceLimits = {
    maxOldGenerationSizeMb: memoryMb,
    maxYoungGenerationSizeMb: 32,
    stackSizeMb: 4,
  };
  if (!fromSource) return new Worker(entry, { resourceLimits });
  const require = createRequire(import.meta.url);
  const esm = require.resolve("tsx/esm");
  const tsx = pathToFileURL(join(dirname(esm), "api", "index.mjs")).href;
  const preload = ["pdfjs-dist/legacy/build/pdf.mjs", "pdfjs-dist/legacy/build/pdf.worker.mjs"].map(
    (specifier) => pathToFileURL(require.resolve(specifier)).href,
  );
  return new Worker(TSX_BOOTSTRAP, {
    eval: true,
    workerData: { tsx, entry: entry.href, preload },
    resourceLimits,
  });
}

function fromWorker(file: string, error: WorkerError): Error {
  if (error.code !== null) return new NightshiftError(error.message, { code: error.code });
  // pdfjs rewraps the RangeError in an exception of its own; the message survives.
  if (/maximum call stack/i.test(error.message)) {
    return refused(
      file,
      "it is nested too deeply for the PDF reader (a malformed or hostile file)",
    );
  }
  // A bug in the parser on this file: keep its stack for the report, say which file.
  const bug = new Error(`${file}: the PDF reader failed: ${error.message}`);
  if (error.stack) bug.stack = `${bug.message}\n${error.stack}`;
  return bug;
}

function refused(file: string, reason: string): NightshiftError {
  return new NightshiftError(`${file}: cannot import: ${reason}`, { code: "too_large" });
}
