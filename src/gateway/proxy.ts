import type {
  ClientRequest,
  IncomingHttpHeaders,
  IncomingMessage,
  OutgoingHttpHeaders,
  ServerResponse,
} from "node:http";
import { type Call, endCall, type GatewayLedger } from "./call.js";
import { traceparentOf } from "./identity.js";
import { sendError } from "./replies.js";
import { type Assembler, createAssembler } from "./stream.js";
import type { Upstream } from "./upstreams.js";

export interface ProxyDeps {
  ledger: GatewayLedger;
  timeoutMs: number;
  /** Strip the client's Authorization header: it carries the gateway's token, not the upstream's. */
  stripAuthorization: boolean;
  /** Set while the gateway shuts down, so cut streams are logged as such, not as client aborts. */
  closing: boolean;
}

// Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection and are never forwarded.
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authorization",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "host",
]);
const OURS = new Set(["x-nightshift-agent", "x-nightshift-parent", "traceparent", "tracestate"]);

/** The headers the client sees besides the upstream's: the action id and its trace context. */
export function identityHeaders(call: Call): Record<string, string> {
  // A health probe leaves no action, so it names none: every id a client is given is logged.
  if (!call.logged) return {};
  return {
    "x-nightshift-action": call.id,
    "x-nightshift-trace": call.identity.traceId,
    traceparent: traceparentOf(call.identity.traceId, call.id),
  };
}

/**
 * Forwards one call and pipes the reply back chunk by chunk as it arrives; a copy of each chunk
 * goes to an assembler after the client has it, and the action is written when the reply ends or
 * breaks. `body` is the request already read (JSON routes) or null to stream the client's body
 * through (uploads).
 */
export function forward(
  deps: ProxyDeps,
  call: Call,
  upstream: Upstream,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer | null,
): void {
  const headers = forwardHeaders(req.headers, call, upstream, body, deps.stripAuthorization);
  const upReq = upstream.request({
    hostname: upstream.hostname,
    port: upstream.port,
    method: call.method,
    path: upstream.basePath + call.path,
    headers,
    agent: upstream.agent,
  });
  let answered = false;
  let assembler: Assembler | undefined;
  let timedOut = false;
  upReq.setTimeout(deps.timeoutMs, () => {
    timedOut = true;
    upReq.destroy(new Error(`no data for ${deps.timeoutMs} ms (upstreams.timeout_ms)`));
  });
  upReq.on("error", (error) => {
    if (answered) return; // the response's own handlers report a break mid-body
    const status = timedOut ? 504 : 502;
    const message = `upstream ${upstream.url} is not answering: ${describeNetError(error)}`;
    sendError(res, call.flavor, status, message, identityHeaders(call));
    endCall(deps.ledger, call, { httpStatus: status, error: message });
  });
  upReq.on("response", (upRes) => {
    answered = true;
    assembler = relay(deps, call, upstream, upReq, upRes, res, () => timedOut);
  });
  res.on("close", () => {
    if (call.ended || res.writableFinished) return;
    upReq.destroy();
    endCall(deps.ledger, call, {
      httpStatus: 499,
      error: deps.closing
        ? "the gateway shut down before the reply was complete"
        : "client disconnected before the reply was complete",
      assembled: assembler?.finish(),
    });
  });
  if (body) upReq.end(body);
  else req.pipe(upReq);
}

function relay(
  deps: ProxyDeps,
  call: Call,
  upstream: Upstream,
  upReq: ClientRequest,
  upRes: IncomingMessage,
  res: ServerResponse,
  timedOut: () => boolean,
): Assembler {
  const status = upRes.statusCode ?? 502;
  const assembler = createAssembler(upRes.headers["content-type"]);
  const outHeaders: OutgoingHttpHeaders = identityHeaders(call);
  for (const [name, value] of Object.entries(upRes.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) outHeaders[name] = value;
  }
  res.writeHead(status, outHeaders);
  let chunks = 0;
  let endsWithNewline = true;
  upRes.on("data", (chunk: Buffer) => {
    if (chunks++ === 0) call.meta.ttft_ms = Math.round((performance.now() - call.t0) * 1000) / 1000;
    if (!res.write(chunk)) {
      upRes.pause();
      res.once("drain", () => upRes.resume());
    }
    endsWithNewline = chunk[chunk.length - 1] === 10;
    assembler.push(chunk);
  });
  upRes.on("end", () => {
    res.end();
    call.meta.chunks = chunks;
    endCall(deps.ledger, call, { httpStatus: status, error: null, assembled: assembler.finish() });
  });
  const broke = (error?: Error) => {
    if (call.ended || upRes.complete) return;
    // A reply that began and then went silent is cut by our timeout, and Node reports that as
    // an aborted response; say what happened.
    const cause = timedOut()
      ? `timed out: no data for ${deps.timeoutMs} ms (upstreams.timeout_ms)`
      : error
        ? describeNetError(error)
        : null;
    if (timedOut()) call.meta.timeout = true;
    const message = `upstream ${upstream.url} broke off the reply after ${chunks} chunks${
      cause ? `: ${cause}` : ""
    }`;
    call.meta.chunks = chunks;
    endCall(deps.ledger, call, {
      httpStatus: status,
      error: message,
      assembled: assembler.finish(),
    });
    upReq.destroy();
    endBroken(res, upRes, message, endsWithNewline);
  };
  upRes.on("error", broke);
  upRes.on("close", () => broke());
  return assembler;
}

/**
 * A stream the upstream broke off ends with one more line holding the error, as Ollama itself does
 * when a model fails mid-generation: both official clients raise it. A body of known length
 * cannot be completed honestly, so that connection is cut.
 */
function endBroken(
  res: ServerResponse,
  upRes: IncomingMessage,
  message: string,
  endsWithNewline: boolean,
): void {
  if (res.destroyed || res.writableEnded) return;
  const type = String(upRes.headers["content-type"] ?? "");
  const chunked = upRes.headers["content-length"] === undefined;
  const lead = endsWithNewline ? "" : "\n";
  if (chunked && type.includes("ndjson")) {
    res.end(`${lead}${JSON.stringify({ error: message })}\n`);
  } else if (chunked && type.includes("event-stream")) {
    const error = { message, type: "api_error", param: null, code: null };
    res.end(`${lead}data: ${JSON.stringify({ error })}\n\n`);
  } else {
    res.destroy();
  }
}

function forwardHeaders(
  incoming: IncomingHttpHeaders,
  call: Call,
  upstream: Upstream,
  body: Buffer | null,
  stripAuthorization: boolean,
): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || HOP_BY_HOP.has(name) || OURS.has(name)) continue;
    if (stripAuthorization && name === "authorization") continue;
    if (body && name === "content-length") continue;
    headers[name] = value;
  }
  headers.host =
    upstream.port === 80 || upstream.port === 443
      ? upstream.hostname
      : `${upstream.hostname}:${upstream.port}`;
  // The upstream (or a tracer behind it) sees this call as the parent span of its own work.
  headers.traceparent = traceparentOf(call.identity.traceId, call.id);
  if (upstream.authorization) headers.authorization = upstream.authorization;
  if (body) headers["content-length"] = body.length;
  return headers;
}

export function describeNetError(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ECONNREFUSED") return "connection refused (is the model server running?)";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "host not found";
  if (code === "ECONNRESET") return "connection reset";
  return error.message;
}
