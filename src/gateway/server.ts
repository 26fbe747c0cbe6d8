import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Config } from "../config.js";
import { NightshiftError } from "../errors.js";
import { newActionId } from "../ledger/ids.js";
import type { UserActivity } from "../monitor/activity.js";
import { bearerCheck, checkBindSecurity } from "./auth.js";
import { type Call, endCall, type GatewayLedger } from "./call.js";
import { type Identity, splitAgentPrefix, TraceIndex } from "./identity.js";
import { gatherJson, mergeLists } from "./merge.js";
import { describeNetError, forward, identityHeaders, type ProxyDeps } from "./proxy.js";
import { type ApiFlavor, sendError, sendJson } from "./replies.js";
import { ollamaRoute } from "./routes/ollama.js";
import { openAiRoute } from "./routes/openai.js";
import type { Route } from "./routes/route.js";
import { Upstreams } from "./upstreams.js";

/** Serves /v0 (the API) and /ui (the dashboard); written by the API's owner, wired in daemon.ts. */
export type ApiHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface GatewayOptions {
  config: Config;
  /** Where calls are logged: the SQLite `Ledger`, or the PostgreSQL action ledger. */
  ledger: GatewayLedger;
  activity: UserActivity;
  api?: ApiHandler;
  /** Override config.server.host / port (the serve command's flags). */
  host?: string;
  port?: number;
}

export interface Gateway {
  /** http://host:port, with the port actually bound (port 0 picks a free one). */
  url: string;
  host: string;
  port: number;
  server: Server;
  upstreams: Upstreams;
  /** Stops accepting, lets running replies finish for up to `graceMs`, then cuts the rest. */
  close(graceMs?: number): Promise<void>;
}

// A chat with a few images is a few MB of base64; beyond this something is wrong.
const MAX_BODY_BYTES = 100 * 1024 * 1024;
const LISTING_TIMEOUT_MS = 10_000;

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { config, ledger, activity, api } = options;
  const host = options.host ?? config.server.host;
  const token = config.server.token;
  checkBindSecurity(host, token);
  const upstreams = new Upstreams(config.upstreams);
  const traces = new TraceIndex(ledger.actions);
  const authorized = bearerCheck(token);
  const deps: ProxyDeps = {
    ledger,
    timeoutMs: config.upstreams.timeout_ms,
    stripAuthorization: authorized !== null,
    closing: false,
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const rawUrl = req.url ?? "/";
    const queryAt = rawUrl.indexOf("?");
    const path = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
    if (authorized && !authorized(req)) {
      sendError(
        res,
        flavorOf(path),
        401,
        "missing or wrong token: send Authorization: Bearer <NIGHTSHIFT_TOKEN>",
        {
          "www-authenticate": "Bearer",
        },
      );
      return;
    }
    if (isApiPath(path)) {
      if (api) void Promise.resolve(api(req, res)).catch((error: unknown) => apiFailed(res, error));
      else
        sendJson(res, 404, {
          error: `${path}: the API and dashboard are not enabled in this daemon`,
        });
      return;
    }
    const { agent, path: inner } = splitAgentPrefix(path);
    const route = ollamaRoute(inner) ?? openAiRoute(inner);
    if (!route) {
      sendJson(res, 404, {
        error: `no such endpoint: ${req.method} ${inner} (nightshift serves Ollama's /api/* and OpenAI's /v1/*)`,
      });
      return;
    }
    const start: Start = { route, inner, rawUrl, queryAt, startedAt: Date.now() };
    // Known parents resolve at once; an older one on the PostgreSQL ledger takes a query.
    const identity = traces.identify(req.headers, agent);
    if (identity instanceof Promise) void identity.then((known) => begin(req, res, start, known));
    else begin(req, res, start, identity);
  };

  const begin = (req: IncomingMessage, res: ServerResponse, start: Start, identity: Identity) => {
    const { route, inner, rawUrl, queryAt, startedAt } = start;
    const call: Call = {
      id: newActionId(startedAt),
      identity,
      flavor: route.flavor,
      actionType: route.actionType,
      method: req.method ?? "GET",
      path: queryAt === -1 ? inner : inner + rawUrl.slice(queryAt),
      model: null,
      request: null,
      startedAt,
      t0: performance.now(),
      upstream: null,
      logged: route.logged,
      meta: {},
      ended: false,
    };
    if (call.logged) traces.remember(call.id, call.identity.traceId);
    if (!route.json) {
      call.model = route.modelOf({}, inner);
      dispatch(call, route, req, res, null);
      return;
    }
    readBody(req).then(
      (body) => {
        if (parseRequest(call, route, body, res)) dispatch(call, route, req, res, body);
      },
      (error: unknown) => {
        const status = error instanceof NightshiftError ? error.status : 400;
        const message = `cannot read the request body: ${error instanceof Error ? error.message : String(error)}`;
        sendError(res, call.flavor, status, message, identityHeaders(call));
        endCall(ledger, call, { httpStatus: status, error: message });
      },
    );
  };

  /** Parses a JSON body into the call; answers 400 (logged) when it is not a JSON object. */
  const parseRequest = (call: Call, route: Route, body: Buffer, res: ServerResponse): boolean => {
    if (body.length === 0) return true;
    const text = body.toString("utf8");
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      call.request = text.length > 4096 ? `${text.slice(0, 4096)}…` : text;
      const message = `invalid JSON in request body: ${(error as Error).message}`;
      sendError(res, call.flavor, 400, message, identityHeaders(call));
      endCall(ledger, call, { httpStatus: 400, error: message });
      return false;
    }
    call.request = parsed;
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) {
      call.model = route.modelOf(parsed as Record<string, unknown>, call.path);
    }
    return true;
  };

  const dispatch = (
    call: Call,
    route: Route,
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer | null,
  ): void => {
    if (route.interactive) activity.record(call.identity.agent, call.model);
    const all = upstreams.all();
    if (route.merge && all.length > 1 && call.method === "GET") {
      void mergeListing(call, route.merge, res);
      return;
    }
    const upstream = upstreams.forModel(call.model);
    call.upstream = upstream;
    forward(deps, call, upstream, req, res, body);
  };

  const mergeListing = async (
    call: Call,
    merge: NonNullable<Route["merge"]>,
    res: ServerResponse,
  ): Promise<void> => {
    const all = upstreams.all();
    const timeout = Math.min(LISTING_TIMEOUT_MS, deps.timeoutMs);
    const gathered = await gatherJson(all, call.path, timeout);
    const { merged, unreachable } = mergeLists(gathered, merge.key, (e) => e[merge.name]);
    const label = all.map((u) => u.url).join(", ");
    if (unreachable.length === all.length) {
      const message = `no upstream answered ${call.path}: ${unreachable.join("; ")}`;
      sendError(res, call.flavor, 502, message, identityHeaders(call));
      endCall(ledger, call, { httpStatus: 502, error: message, upstreamLabel: label });
      return;
    }
    if (unreachable.length) call.meta.unreachable = unreachable;
    sendJson(res, 200, merged, identityHeaders(call));
    endCall(ledger, call, { httpStatus: 200, error: null, response: merged, upstreamLabel: label });
  };

  const server = createServer({ noDelay: true, keepAliveTimeout: 65_000 }, handle);
  server.on("clientError", (_error, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n");
  });
  const port = await listen(server, host, options.port ?? config.server.port);
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}`,
    host,
    port,
    server,
    upstreams,
    close: (graceMs = 5000) => closeServer(server, deps, upstreams, graceMs),
  };
}

/** A routed request, waiting for its identity. */
interface Start {
  route: Route;
  inner: string;
  rawUrl: string;
  queryAt: number;
  startedAt: number;
}

function isApiPath(path: string): boolean {
  return path === "/v0" || path.startsWith("/v0/") || path === "/ui" || path.startsWith("/ui/");
}

function flavorOf(path: string): ApiFlavor {
  return path.includes("/v1/") ? "openai" : "ollama";
}

function apiFailed(res: ServerResponse, error: unknown): void {
  const status = error instanceof NightshiftError ? error.status : 500;
  const message = error instanceof Error ? error.message : String(error);
  if (!(error instanceof NightshiftError))
    process.stderr.write(`nightshift api: ${String((error as Error)?.stack ?? error)}\n`);
  if (!res.headersSent) sendJson(res, status, { error: message });
  else res.destroy();
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > MAX_BODY_BYTES) {
      reject(
        new NightshiftError(`body of ${declared} bytes is over the limit of ${MAX_BODY_BYTES}`, {
          status: 413,
        }),
      );
      req.resume();
      return;
    }
    const parts: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.destroy(
          new NightshiftError(`body is over the limit of ${MAX_BODY_BYTES} bytes`, { status: 413 }),
        );
        return;
      }
      parts.push(chunk);
    });
    req.on("end", () => resolve(parts.length === 1 ? parts[0]! : Buffer.concat(parts)));
    req.on("error", reject);
  });
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const where = `${host}:${port}`;
      if (error.code === "EADDRINUSE") {
        reject(
          new NightshiftError(
            `cannot listen on ${where}: the port is in use (another nightshift or Ollama?); choose one with --port`,
            { status: 500, code: "listen" },
          ),
        );
      } else if (error.code === "EADDRNOTAVAIL" || error.code === "EACCES") {
        reject(
          new NightshiftError(`cannot listen on ${where}: ${describeNetError(error)}`, {
            status: 500,
            code: "listen",
          }),
        );
      } else reject(error);
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

async function closeServer(
  server: Server,
  deps: ProxyDeps,
  upstreams: Upstreams,
  graceMs: number,
): Promise<void> {
  deps.closing = true;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), graceMs);
  await closed;
  clearTimeout(timer);
  upstreams.close();
}
