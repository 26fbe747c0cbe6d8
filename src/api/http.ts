import type { IncomingMessage, ServerResponse } from "node:http";
import { NightshiftError } from "../errors.js";

/** Decisions and queries are small; anything bigger is a mistake or an attack. */
export const MAX_API_BODY_BYTES = 1024 * 1024;

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  res.end(text);
}

/**
 * Reads a JSON object body. Requires content-type application/json: a browser cannot send that
 * cross-origin without a CORS preflight (which the API never grants), so a web page the user
 * visits cannot make decisions through a daemon on 127.0.0.1. An empty body is {}.
 */
export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const type = String(req.headers["content-type"] ?? "")
    .split(";")[0]!
    .trim()
    .toLowerCase();
  if (type !== "application/json") {
    throw new NightshiftError(
      `send the request body as JSON with content-type: application/json (got "${type || "none"}")`,
      { status: 415, code: "unsupported_media_type" },
    );
  }
  const raw = await readBody(req);
  if (raw.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new NightshiftError(`request body is not valid JSON: ${(error as Error).message}`);
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw new NightshiftError("request body must be a JSON object");
  }
  return value as Record<string, unknown>;
}

function readBody(req: IncomingMessage): Promise<string> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > MAX_API_BODY_BYTES) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_API_BODY_BYTES) {
        req.off("data", onData);
        // Keep draining so the 413 reply reaches a client still sending.
        req.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function tooLarge(): NightshiftError {
  return new NightshiftError(`request body is over the limit of ${MAX_API_BODY_BYTES} bytes`, {
    status: 413,
    code: "too_large",
  });
}

/** A positive integer query parameter, or the default; a clear 400 otherwise. */
export function intParam(
  params: URLSearchParams,
  name: string,
  fallback: number,
  max: number,
): number {
  const raw = params.get(name);
  if (raw === null || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new NightshiftError(`${name}=${raw}: expected a positive whole number`);
  }
  return Math.min(value, max);
}

/** Writes any error as {"error": message} with its status; bugs are 500 and logged. */
export function sendError(res: ServerResponse, error: unknown, log: (line: string) => void): void {
  const known = error instanceof NightshiftError;
  if (!known) log(`nightshift api: ${(error as Error)?.stack ?? String(error)}`);
  const status = known ? error.status : 500;
  const message = known ? error.message : "internal error; see the daemon's log";
  if (res.headersSent) res.destroy();
  else sendJson(res, status, { error: message, ...(known ? { code: error.code } : {}) });
}
