import { createInflate } from "node:zlib";
import { NightshiftError } from "../../errors.js";

/** What one PDF may cost to read; a statement needs a small fraction of each. */
export interface PdfLimits {
  /** V8 heap of the parsing thread, in MB. */
  memoryMb: number;
  /** Wall time for the whole text extraction. */
  timeoutMs: number;
  /** All Flate streams of the file together, inflated. */
  maxInflatedBytes: number;
  /** A stream inflating past this many times its compressed size (beyond 1 MiB) is a bomb. */
  maxRatio: number;
  /** Arrays and dictionaries nested deeper than this (statements nest a handful). */
  maxNesting: number;
}

export const DEFAULT_PDF_LIMITS: PdfLimits = {
  memoryMb: 160,
  timeoutMs: 20_000,
  maxInflatedBytes: 128 * 1024 * 1024,
  maxRatio: 500,
  maxNesting: 512,
};

const RATIO_FLOOR = 1024 * 1024;
const STREAM = /stream\r?\n/g;

/**
 * Inflates every FlateDecode stream of the file, counting and discarding the output, before the
 * parser sees it: a 4 MB file whose stream inflates to 4 GB is refused after reading at most the
 * limit, in 16 KB pieces, instead of being inflated whole into memory by the parser. Streams
 * that do not inflate cleanly are left to the parser to judge.
 */
export async function checkInflation(
  bytes: Uint8Array,
  file: string,
  limits: PdfLimits = DEFAULT_PDF_LIMITS,
): Promise<void> {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  checkNesting(text, file, limits.maxNesting);
  let total = 0;
  for (const match of text.matchAll(STREAM)) {
    const start = match.index + match[0].length;
    const dictStart = text.lastIndexOf("<<", match.index);
    if (dictStart === -1 || match.index - dictStart > 4096) continue;
    if (!text.slice(dictStart, match.index).includes("/FlateDecode")) continue;
    const end = text.indexOf("endstream", start);
    const data = bytes.subarray(start, end === -1 ? bytes.length : end);
    const cap = Math.min(
      limits.maxInflatedBytes - total,
      Math.max(RATIO_FLOOR, data.length * limits.maxRatio),
    );
    const size = await inflatedSize(data, cap);
    if (size > cap) throw refusal(file, limits, total + size, data.length, size);
    total += size;
  }
}

/**
 * The parser reads nested arrays and dictionaries recursively: 300,000 levels in a 600 KB file
 * overflow its stack after it has spent hundreds of MB getting there. Counted here first, with
 * stream data skipped (binary bytes there are not syntax).
 */
function checkNesting(text: string, file: string, maxNesting: number): void {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || (c === 0x3c && text.charCodeAt(i + 1) === 0x3c)) {
      depth += 1;
      if (c === 0x3c) i += 1;
      if (depth > maxNesting) {
        throw new NightshiftError(
          `${file}: cannot import: objects nested deeper than ${maxNesting} levels (a malformed or hostile file)`,
          { code: "bad_file" },
        );
      }
    } else if (c === 0x5d || (c === 0x3e && text.charCodeAt(i + 1) === 0x3e)) {
      depth = Math.max(0, depth - 1);
      if (c === 0x3e) i += 1;
    } else if (c === 0x73 && text.startsWith("stream", i) && !text.startsWith("streamx", i)) {
      const end = text.indexOf("endstream", i + 6);
      if (end === -1) return;
      i = end + 8;
    }
  }
}

function refusal(
  file: string,
  limits: PdfLimits,
  total: number,
  compressed: number,
  size: number,
): NightshiftError {
  const mb = (n: number) => `${Math.round(n / (1024 * 1024))} MB`;
  const reason =
    total > limits.maxInflatedBytes
      ? `its compressed streams inflate past the limit of ${mb(limits.maxInflatedBytes)}`
      : `a stream of ${compressed} bytes inflates past ${size} bytes, over ${limits.maxRatio} times its size`;
  return new NightshiftError(
    `${file}: cannot import: ${reason} (a decompression bomb, or not a bank statement)`,
    { code: "too_large" },
  );
}

/** Bytes the data inflates to, counting no further than just past `cap`. */
function inflatedSize(data: Uint8Array, cap: number): Promise<number> {
  return new Promise((resolve) => {
    const inflate = createInflate();
    let size = 0;
    inflate.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > cap) {
        inflate.destroy();
        resolve(size);
      }
    });
    inflate.on("end", () => resolve(size));
    inflate.on("error", () => resolve(size));
    inflate.on("close", () => resolve(size));
    inflate.end(data);
  });
}
