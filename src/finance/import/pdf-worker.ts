import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { NightshiftError } from "../../errors.js";
import { DEFAULT_PDF_LIMITS, type PdfLimits } from "./pdf-limits.js";
import type { Line } from "./pdf-text.js";

// Built, the thread runs pdf-worker-main.js beside this file; from the TypeScript sources (tests,
// benchmarks, `npm run dev`) a bootstrap loads pdf-worker-main.ts through tsx, as the retention
// reader does.
const fromSource = fileURLToPath(import.meta.url).endsWith(".ts");
const entry = new URL(
  fromSource ? "./pdf-worker-main.ts" : "./pdf-worker-main.js",
  import.meta.url,
);
const TSX_BOOTSTRAP = `
const { workerData } = require("node:worker_threads");
import(workerData.tsx).then((tsx) => tsx.register()).then(() => import(workerData.entry));
`;

type Reply =
  | { lines: Line[] }
  | { error: { message: string; name: string; code: string | null; stack: string | null } };

/**
 * Extracts a PDF's lines in a thread of its own, under a heap limit and a time limit, after its
 * compressed streams have been checked for bombs. A hostile or broken file (a decompression bomb,
 * nesting that overflows the parser's stack, a loop that never ends) costs the thread, never the
 * process: it ends in a NightshiftError naming the file and the limit it hit.
 */
export function readPdfLinesIsolated(
  bytes: Uint8Array,
  file: string,
  limits: PdfLimits = DEFAULT_PDF_LIMITS,
): Promise<Line[]> {
  return new Promise((resolve, reject) => {
    const worker = start({ bytes, file, limits });
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      outcome();
    };
    const timer = setTimeout(
      () =>
        finish(() => reject(refused(file, `reading it took over ${limits.timeoutMs / 1000} s`))),
      limits.timeoutMs,
    );
    worker.on("message", (reply: Reply) =>
      finish(() =>
        "lines" in reply ? resolve(reply.lines) : reject(fromWorker(file, reply.error)),
      ),
    );
    worker.on("error", (error: Error & { code?: string }) =>
      finish(() =>
        reject(
          error.code === "ERR_WORKER_OUT_OF_MEMORY"
            ? refused(file, `reading it needed more than ${limits.memoryMb} MB`)
            : error,
        ),
      ),
    );
    worker.on("exit", (code) =>
      finish(() => reject(refused(file, `the PDF reader stopped (exit code ${code})`))),
    );
  });
}

function start(data: { bytes: Uint8Array; file: string; limits: PdfLimits }): Worker {
  const resourceLimits = {
    maxOldGenerationSizeMb: data.limits.memoryMb,
    maxYoungGenerationSizeMb: 32,
    stackSizeMb: 4,
  };
  if (!fromSource) return new Worker(entry, { workerData: data, resourceLimits });
  const esm = createRequire(import.meta.url).resolve("tsx/esm");
  const tsx = pathToFileURL(join(dirname(esm), "api", "index.mjs")).href;
  return new Worker(TSX_BOOTSTRAP, {
    eval: true,
    workerData: { ...data, tsx, entry: entry.href },
    resourceLimits,
  });
}

function fromWorker(file: string, error: Extract<Reply, { error: unknown }>["error"]): Error {
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
