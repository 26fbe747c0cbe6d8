import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { newActionId, newTraceId } from "../ledger/ids.js";
import { type Call, endCall, type GatewayLedger } from "./call.js";
import { identityHeaders } from "./proxy.js";
import { type ApiFlavor, sendError } from "./replies.js";

/** Why the gateway answered a request itself without routing it. */
export type RefusalReason =
  | "bad_path"
  | "host"
  | "origin"
  | "content-type"
  | "auth"
  | "method"
  | "no_route"
  | "malformed"
  | "internal";

/** Counts of refused requests by reason, for the log and /metrics. */
export type RefusalCounts = Record<RefusalReason, number>;

export function emptyRefusalCounts(): RefusalCounts {
  return {
    bad_path: 0,
    host: 0,
    origin: 0,
    "content-type": 0,
    auth: 0,
    method: 0,
    no_route: 0,
    malformed: 0,
    internal: 0,
  };
}

export interface Refused {
  flavor: ApiFlavor;
  status: number;
  reason: RefusalReason;
  message: string;
  headers?: Record<string, string>;
}

/**
 * Answers a request the gateway will not route, in the client's error shape, and logs it as a
 * `rejected` action like any other call: every answer the gateway gives carries an action id
 * that is in the ledger. The agent is never taken from the request here (a refused cross-site
 * POST to /agents/finance must not count as finance's work), and no header value that could
 * hold a secret (Authorization) is kept: only the Host, Origin and the path.
 */
export function refuseRequest(
  ledger: GatewayLedger,
  counts: RefusalCounts,
  req: IncomingMessage,
  res: ServerResponse,
  refused: Refused,
): void {
  counts[refused.reason] += 1;
  const startedAt = Date.now();
  const rawPath = req.url ?? "/";
  const call: Call = {
    id: newActionId(startedAt),
    identity: { agent: "unknown", parentId: null, traceId: newTraceId(), foreignSpan: null },
    flavor: refused.flavor,
    actionType: "rejected",
    method: String(req.method ?? "GET").slice(0, 32),
    path: rawPath.length > 2048 ? `${rawPath.slice(0, 2048)}…` : rawPath,
    model: null,
    request: null,
    startedAt,
    t0: performance.now(),
    upstream: null,
    logged: true,
    meta: {
      reason: refused.reason,
      method: String(req.method ?? "").slice(0, 32),
      ...headerMeta(req),
    },
    ended: false,
  };
  if (refused.status === 413) res.setHeader("connection", "close");
  sendError(res, call.flavor, refused.status, refused.message, {
    ...(refused.headers ?? {}),
    ...identityHeaders(call),
  });
  endCall(ledger, call, { httpStatus: refused.status, error: refused.message });
}

function headerMeta(req: IncomingMessage): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const name of ["host", "origin", "user-agent"] as const) {
    const value = req.headers[name];
    if (typeof value === "string") meta[name.replace("-", "_")] = value.slice(0, 256);
  }
  return meta;
}

/**
 * A request Node's HTTP parser refused before any handler saw it (no Host, a malformed header
 * line, an oversized header): answered 400 on the raw socket, with an action id, and logged.
 */
export function refuseMalformed(
  ledger: GatewayLedger,
  counts: RefusalCounts,
  socket: Duplex,
  error: Error & { code?: string; rawPacket?: Buffer },
): void {
  counts.malformed += 1;
  if (!socket.writable || error.code === "ECONNRESET") {
    socket.destroy();
    return;
  }
  const startedAt = Date.now();
  const message = `malformed HTTP request: ${error.code ?? error.message}`;
  const call: Call = {
    id: newActionId(startedAt),
    identity: { agent: "unknown", parentId: null, traceId: newTraceId(), foreignSpan: null },
    flavor: "ollama",
    actionType: "rejected",
    method: "",
    path: "",
    model: null,
    request: null,
    startedAt,
    t0: performance.now(),
    upstream: null,
    logged: true,
    meta: { reason: "malformed" },
    ended: false,
  };
  // A reply to HEAD has no body, and a client reading one there fails on the bytes after it.
  const head = error.rawPacket?.subarray(0, 5).toString("latin1") === "HEAD ";
  const body = head ? "" : JSON.stringify({ error: message });
  const lines = [
    "HTTP/1.1 400 Bad Request",
    "content-type: application/json; charset=utf-8",
    `content-length: ${head ? Buffer.byteLength(JSON.stringify({ error: message })) : Buffer.byteLength(body)}`,
    `x-nightshift-action: ${call.id}`,
    "connection: close",
  ];
  socket.end(`${lines.join("\r\n")}\r\n\r\n${body}`);
  endCall(ledger, call, { httpStatus: 400, error: message });
}
