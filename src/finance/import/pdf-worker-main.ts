import { parentPort, workerData } from "node:worker_threads";
import { NightshiftError } from "../../errors.js";
import { checkInflation, type PdfLimits } from "./pdf-limits.js";
import { readPdfLines } from "./pdf-text.js";

/** The parsing thread: checks the file's streams, extracts its lines, and posts them back. */
const { bytes, file, limits } = workerData as {
  bytes: Uint8Array;
  file: string;
  limits: PdfLimits;
};

try {
  await checkInflation(bytes, file, limits);
  const lines = await readPdfLines(bytes, file);
  parentPort!.postMessage({ lines });
} catch (error) {
  const known = error instanceof NightshiftError;
  parentPort!.postMessage({
    error: {
      message: (error as Error)?.message ?? String(error),
      name: (error as Error)?.name ?? "Error",
      code: known ? error.code : null,
      stack: known ? null : ((error as Error)?.stack ?? null),
    },
  });
}
