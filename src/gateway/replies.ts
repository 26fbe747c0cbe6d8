import type { ServerResponse } from "node:http";

export type ApiFlavor = "ollama" | "openai";

/**
 * An error the way the client's own library expects it: Ollama answers `{"error": "..."}`, and its
 * OpenAI-compatible endpoints `{"error": {"message", "type", ...}}`, which the `openai` client
 * turns into an APIError with that message.
 */
export function errorBody(flavor: ApiFlavor, status: number, message: string): unknown {
  if (flavor === "ollama") return { error: message };
  const type =
    status === 401 ? "authentication_error" : status < 500 ? "invalid_request_error" : "api_error";
  return { error: { message, type, param: null, code: null } };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const body = JSON.stringify(value);
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

export function sendError(
  res: ServerResponse,
  flavor: ApiFlavor,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, errorBody(flavor, status, message), headers);
}
