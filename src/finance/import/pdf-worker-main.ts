import { parentPort } from "node:worker_threads";
import { NightshiftError } from "../../errors.js";
import type { PdfLimits } from "./pdf-limits.js";
import { readPdfLines } from "./pdf-text.js";

/**
 * The parsing thread: for each file posted to it (its streams already checked for bombs),
 * extracts its lines and posts them back. Files come one at a time; the thread stays up between them so pdfjs is loaded
 * once, and is replaced after any file that hits a limit.
 */
interface Job {
  id: number;
  bytes: Uint8Array;
  file: string;
  limits: PdfLimits;
}

parentPort!.on("message", (job: Job) => {
  void read(job).then((reply) => parentPort!.postMessage(reply));
});
// pdfjs is loaded before the first file, so a file's time limit measures reading it, not this.
await import("pdfjs-dist/legacy/build/pdf.mjs");
parentPort!.postMessage({ ready: true });

async function read({ id, bytes, file }: Job): Promise<unknown> {
  try {
    return { id, lines: await readPdfLines(bytes, file) };
  } catch (error) {
    const known = error instanceof NightshiftError;
    return {
      id,
      error: {
        message: (error as Error)?.message ?? String(error),
        name: (error as Error)?.name ?? "Error",
        code: known ? error.code : null,
        stack: known ? null : ((error as Error)?.stack ?? null),
      },
    };
  }
}
