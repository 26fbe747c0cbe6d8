import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Config } from "../config.js";
import { NightshiftError } from "../errors.js";
import { newActionId } from "../ledger/ids.js";
import type { UserActivity } from "../monitor/activity.js";
import { bearerCheck, checkBindSecurity } from "./auth.js";
import { readLimitedBody } from "./body.js";
import { type Call, endCall, type GatewayLedger } from "./call.js";
import { type Identity, splitAgentPrefix, TraceIndex } from "./identity.js";
import { gatherJson, mergeLists } from "./merge.js";
import { answerCors, createRequestGuard, kindOf, type RequestGuard } from "./origin-guard.js";
import { describeNetError, forward, identityHeaders, type ProxyDeps } from "./proxy.js";
import {
  emptyRefusalCounts,
  type RefusalCounts,
  type Refused,
  refuseMalformed,
  refuseRequest,
} from "./refuse.js";
import { type ApiFlavor, sendError, sendJson } from "./replies.js";
import { parseTarget, type RequestTarget } from "./request-path.js";
import { ollamaRoute } from "./routes/ollama.js";
import { openAiRoute } from "./routes/openai.js";
import type { Route } from "./routes/route.js";
import { readSelfReport } from "./self-report.js";
import { Upstreams } from "./upstreams.js";

/** Serves /v0 (the API) and /ui (the dashboard); written by the API's owner, wired in daemon.ts. */
export interface ApiHandler {
  (req: IncomingMessage, res: ServerResponse): void | Promise<void>;
  /** Credentials the API accepts besides the Bearer token (the dashboard's session cookie). */
  authorizes?: (req: IncomingMessage) => boolean;
}

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
  /** The Host/Origin/JSON rules every request passes first; /ui and /metrics use it too. */
  guard: RequestGuard;
  /** Requests answered without routing, by reason (401s are `auth`). */
  refusals: RefusalCounts;
  /** Stops accepting, lets running replies finish for up to `graceMs`, then cuts the rest. */
  close(graceMs?: number): Promise<void>;
}

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]);
const LISTING_TIMEOUT_MS = 10_000;

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { config, ledger, activity, api: apiHandler } = options;
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

  let boundPort = 0;
  const guard = createRequestGuard({
    host,
    port: () => boundPort,
    allowedHosts: config.server.allowed_hosts,
    allowedOrigins: config.server.allowed_origins,
  });
  const refusals = emptyRefusalCounts();
  const refuse = (req: IncomingMessage, res: ServerResponse, refused: Refused): void =>
    refuseRequest(ledger, refusals, req, res, refused);

  // Total: whatever a request holds, it is answered (and logged), and nothing it does can throw
  // out of here and end the process.
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    try {
      route(req, res);
    } catch (error) {
      process.stderr.write(`nightshift gateway: ${String((error as Error)?.stack ?? error)}\n`);
      const message = "internal error in the gateway; see the daemon's log";
      refuse(req, res, {
        flavor: flavorOf(req.url ?? "/"),
        status: 500,
        reason: "internal",
        message,
      });
    }
  };

  const route = (req: IncomingMessage, res: ServerResponse): void => {
    const flavor = flavorOf(req.url ?? "/");
    let target: RequestTarget;
    try {
      target = parseTarget(req.url);
    } catch (error) {
      refuse(req, res, {
        flavor,
        status: 400,
        reason: "bad_path",
        message: (error as Error).message,
      });
      return;
    }
    const path = target.path;
    const api = isApiPath(path);
    const refusal = guard.check(req, api ? kindOf(req.method, path) : "read");
    if (refusal) {
      refuse(req, res, { flavor, ...refusal });
      return;
    }
    // The API also takes the dashboard's session cookie; the dashboard's pages send a browser
    // without either to their login form. Every other refusal is answered, counted and logged here.
    const credentialed = (r: IncomingMessage) =>
      authorized?.(r) !== false || (api && apiHandler?.authorizes?.(r) === true);
    if (!credentialed(req) && !(apiHandler && isDashboardPage(path))) {
      const message = "missing or wrong token: send Authorization: Bearer <NIGHTSHIFT_TOKEN>";
      const headers = { "www-authenticate": "Bearer" };
      refuse(req, res, { flavor, status: 401, reason: "auth", message, headers });
      return;
    }
    if (!METHODS.has(req.method ?? "")) {
      const message = `method ${req.method} is not supported (use ${[...METHODS].join(", ")})`;
      const headers = { allow: [...METHODS].join(", ") };
      refuse(req, res, { flavor, status: 405, reason: "method", message, headers });
      return;
    }
    if (answerCors(req, res)) return;
    if (api) {
      if (apiHandler) {
        void Promise.resolve(apiHandler(req, res)).catch((error: unknown) => apiFailed(res, error));
      } else {
        const message = `${path}: the API and dashboard are not enabled in this daemon`;
        refuse(req, res, { flavor, status: 404, reason: "no_route", message });
      }
      return;
    }
    routeModelCall(req, res, target);
  };

  const routeModelCall = (req: IncomingMessage, res: ServerResponse, target: RequestTarget) => {
    const { agent, path: inner } = splitAgentPrefix(target.path);
    const route = ollamaRoute(inner) ?? openAiRoute(inner);
    if (!route) {
      const message = `no such endpoint: ${req.method} ${inner} (nightshift serves Ollama's /api/* and OpenAI's /v1/*)`;
      refuse(req, res, { flavor: flavorOf(inner), status: 404, reason: "no_route", message });
      return;
    }
    let report: Call["report"];
    try {
      report = readSelfReport(req.headers, config.runtime.confidence_threshold);
    } catch (error) {
      sendError(res, route.flavor, 400, (error as Error).message);
      return;
    }
    const start: Start = { route, inner, target, report, startedAt: Date.now() };
    // Known parents resolve at once; an older one on the PostgreSQL ledger takes a query.
    const identity = traces.identify(req.headers, agent);
    if (identity instanceof Promise) void identity.then((known) => begin(req, res, start, known));
    else begin(req, res, start, identity);
  };

  const begin = (req: IncomingMessage, res: ServerResponse, start: Start, identity: Identity) => {
    const { route, inner, target, report, startedAt } = start;
    const call: Call = {
      id: newActionId(startedAt),
      identity,
      flavor: route.flavor,
      actionType: route.actionType,
      method: req.method ?? "GET",
      path: inner + target.query,
      model: null,
      request: null,
      startedAt,
      t0: performance.now(),
      upstream: null,
      logged: route.logged,
      meta: {},
      ended: false,
      report,
    };
    if (call.logged) traces.remember(call.id, call.identity.traceId);
    if (!route.json) {
      call.model = route.modelOf({}, inner);
      dispatch(call, route, req, res, null);
      return;
    }
    readLimitedBody(req, config.server.max_body_bytes).then(
      (body) => {
        if (parseRequest(call, route, body, res)) dispatch(call, route, req, res, body);
      },
      (error: unknown) => {
        const status = error instanceof NightshiftError ? error.status : 400;
        const message = `cannot read the request body: ${error instanceof Error ? error.message : String(error)}`;
        if (status === 413) res.setHeader("connection", "close");
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
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      const message = `request body must be a JSON object, got ${Array.isArray(parsed) ? "an array" : parsed === null ? "null" : `a ${typeof parsed}`}`;
      sendError(res, call.flavor, 400, message, identityHeaders(call));
      endCall(ledger, call, { httpStatus: 400, error: message });
      return false;
    }
    call.model = route.modelOf(parsed as Record<string, unknown>, call.path);
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
      void mergeListing(call, route.merge, res).catch((error: unknown) => {
        process.stderr.write(`nightshift gateway: ${String((error as Error)?.stack ?? error)}\n`);
        const message = `cannot merge ${call.path}: ${String((error as Error)?.message ?? error)}`;
        sendError(res, call.flavor, 500, message, identityHeaders(call));
        endCall(ledger, call, { httpStatus: 500, error: message });
      });
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
  server.on("clientError", (error, socket) => refuseMalformed(ledger, refusals, socket, error));
  const port = await listen(server, host, options.port ?? config.server.port);
  boundPort = port;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}`,
    host,
    port,
    server,
    upstreams,
    guard,
    refusals,
    close: (graceMs = 5000) => closeServer(server, deps, upstreams, graceMs),
  };
}

/** A routed request, waiting for its identity. */
interface Start {
  route: Route;
  inner: string;
  target: RequestTarget;
  report: Call["report"];
  startedAt: number;
}

function isDashboardPage(path: string): boolean {
  return path === "/ui" || path.startsWith("/ui/");
}

function isApiPath(path: string): boolean {
  if (path === "/metrics") return true;
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
