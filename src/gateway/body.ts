import type { IncomingMessage } from "node:http";
import { NightshiftError } from "../errors.js";

/**
 * Reads a request body of at most `limit` bytes. A declared Content-Length over the limit is
 * refused before a byte is read; a chunked body is counted as it arrives and dropped the moment
 * it passes the limit, so a 50 MB upload costs at most `limit` bytes of memory. The refusal is a
 * 413 whose reply closes the connection (the rest of the upload is never read).
 */
export function readLimitedBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > limit) {
      reject(tooLarge(`a body of ${declared} bytes`, limit));
      return;
    }
    let parts: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        parts.push(chunk);
        return;
      }
      parts = [];
      req.off("data", onData);
      req.pause();
      reject(tooLarge("the body", limit));
    };
    req.on("data", onData);
    req.on("end", () => resolve(parts.length === 1 ? parts[0]! : Buffer.concat(parts)));
    req.on("error", reject);
  });
}

function tooLarge(what: string, limit: number): NightshiftError {
  return new NightshiftError(
    `${what} is over the limit of ${limit} bytes (server.max_body_bytes)`,
    { status: 413, code: "too_large" },
  );
}
