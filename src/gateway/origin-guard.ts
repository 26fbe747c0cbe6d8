import type { IncomingMessage, ServerResponse } from "node:http";
import { isIP } from "node:net";
import { isLoopback } from "./auth.js";

export interface GuardOptions {
  /** The address the server listens on (server.host or --host). */
  host: string;
  /** The port actually bound; a getter because port 0 is known only after listen. */
  port: () => number;
  /** Extra Host names that reach this server (a reverse proxy's name, the machine's LAN name). */
  allowedHosts: readonly string[];
  /** Extra browser origins allowed to call ("https://app.example", or "*" for any). */
  allowedOrigins: readonly string[];
}

/**
 * What a request is allowed to do once through: read, change state (the /v0 POSTs), or post
 * the dashboard's login and logout forms (same-origin, but a plain HTML form's body).
 */
export type RequestKind = "read" | "state-change" | "form";

export interface Refusal {
  status: 403 | 415;
  reason: "host" | "origin" | "content-type";
  message: string;
}

export interface RequestGuard {
  /** null when the request may go on; else the refusal to answer (and log). */
  check(req: IncomingMessage, kind: RequestKind): Refusal | null;
  /** Whether `origin` is one of this server's own (same-origin). */
  isOwnOrigin(origin: string): boolean;
}

/**
 * The browser-facing defence of a server on loopback. DNS rebinding lets a web page reach
 * 127.0.0.1 under its own name, so a Host that does not name this server is refused; a page on
 * another site can send a "simple" request (text/plain POST) without a preflight, so a request
 * carrying a foreign Origin is refused; and state-changing calls need JSON (which forces a
 * preflight) from this server's own origin. The same rules serve the gateway, /v0, /ui and
 * /metrics: call `check(req, kind)` first and answer the refusal if there is one.
 */
export function createRequestGuard(options: GuardOptions): RequestGuard {
  const hosts = new Set(
    [options.host, ...options.allowedHosts].map((h) => bareHost(h.toLowerCase())),
  );
  const anyOrigin = options.allowedOrigins.includes("*");
  const origins = new Set(options.allowedOrigins.map((o) => o.toLowerCase().replace(/\/+$/, "")));
  const unspecified = options.host === "0.0.0.0" || options.host === "::";

  const hostAllowed = (header: string | undefined): boolean => {
    if (header === undefined) return true; // HTTP/1.0 without Host: not a browser
    const name = bareHost(hostNameOf(header.toLowerCase()));
    if (hosts.has(name) || isLoopback(name) || name.endsWith(".localhost")) return true;
    // A rebinding page always uses a DNS name; an IP literal names the server it reaches.
    return isIP(name) !== 0 && (unspecified || hosts.has(name));
  };

  const isOwnOrigin = (origin: string): boolean => {
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      return false;
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return false;
    const port = Number(parsed.port || (parsed.protocol === "https:" ? 443 : 80));
    return port === options.port() && hostAllowed(parsed.host);
  };

  const originAllowed = (origin: string): boolean =>
    anyOrigin || origins.has(origin.toLowerCase()) || isOwnOrigin(origin);

  return {
    isOwnOrigin,
    check(req, kind) {
      const host = req.headers.host;
      if (!hostAllowed(host)) {
        return refuse(
          403,
          "host",
          `Host "${host}" does not name this server; add it to server.allowed_hosts if it should`,
        );
      }
      const origin = single(req.headers.origin);
      const site = single(req.headers["sec-fetch-site"]);
      if (origin !== undefined && !originAllowed(origin)) {
        return refuse(
          403,
          "origin",
          `Origin "${origin}" is not allowed; add it to server.allowed_origins if it should be`,
        );
      }
      if (kind === "read") return null;
      if ((origin !== undefined && !isOwnOrigin(origin)) || site === "cross-site") {
        return refuse(403, "origin", "state-changing calls must come from this server's origin");
      }
      const type = mediaType(req);
      const accepted =
        type === "application/json" ||
        (kind === "form" && type === "application/x-www-form-urlencoded");
      return accepted
        ? null
        : refuse(
            415,
            "content-type",
            `send the request body as JSON with content-type: application/json (got "${mediaType(req) || "none"}")`,
          );
    },
  };
}

const DASHBOARD_FORMS = new Set(["/ui/login", "/ui/logout"]);

/** Methods that change nothing; every other method on /v0 is a state change. */
export function kindOf(method: string | undefined, path = ""): RequestKind {
  if (method === "GET" || method === "HEAD" || method === "OPTIONS") return "read";
  return DASHBOARD_FORMS.has(path) ? "form" : "state-change";
}

function mediaType(req: IncomingMessage): string {
  return String(req.headers["content-type"] ?? "")
    .split(";")[0]!
    .trim()
    .toLowerCase();
}

function refuse(status: Refusal["status"], reason: Refusal["reason"], message: string): Refusal {
  return { status, reason, message };
}

/** "name:port", "[::1]:port" or "name" → the name. */
function hostNameOf(header: string): string {
  if (header.startsWith("[")) return header.slice(0, header.indexOf("]") + 1);
  const colon = header.lastIndexOf(":");
  return colon === -1 || header.indexOf(":") !== colon ? header : header.slice(0, colon);
}

function bareHost(host: string): string {
  return host.replace(/^\[|\]$/g, "").replace(/\.$/, "");
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

const PREFLIGHT_HEADERS =
  "authorization, content-type, x-nightshift-agent, x-nightshift-parent, traceparent, tracestate";

/**
 * CORS for an Origin the guard has already let through (a configured allowed origin): the reply
 * may be read by that page, and its preflight is answered here (204, not logged: it is no call).
 * Returns true when the request was a preflight and has been answered.
 */
export function answerCors(req: IncomingMessage, res: ServerResponse): boolean {
  const origin = single(req.headers.origin);
  if (origin === undefined) return false;
  res.setHeader("access-control-allow-origin", origin);
  res.setHeader("vary", "origin");
  res.setHeader("access-control-expose-headers", "x-nightshift-action, x-nightshift-trace");
  if (req.method !== "OPTIONS" || req.headers["access-control-request-method"] === undefined) {
    return false;
  }
  res.writeHead(204, {
    "access-control-allow-methods": "GET, HEAD, POST, PUT, DELETE, PATCH",
    "access-control-allow-headers": PREFLIGHT_HEADERS,
    "access-control-max-age": "600",
  });
  res.end();
  return true;
}
