import type { IncomingMessage, ServerResponse } from "node:http";
import { NightshiftError } from "../errors.js";
import { Assets, SECURITY_HEADERS } from "./assets.js";
import { loginPage, readLoginForm } from "./login.js";
import { clearedCookie, type Sessions } from "./session.js";

export interface DashboardOptions {
  /** Set when a token is configured: then /ui needs a login. */
  sessions: Sessions | null;
  /** Overrides where the built page lives (tests). */
  assetsDir?: string;
}

/**
 * /ui: the dashboard's page (one HTML shell for every /ui path; the page routes itself), its
 * hashed assets, and the login form. Returns false for paths outside /ui.
 */
export function createDashboard(options: DashboardOptions) {
  let assets: Assets | undefined;
  const load = () => {
    assets ??= new Assets(options.assetsDir);
    return assets;
  };
  return async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    const method = req.method ?? "GET";
    if (path === "/ui/login") return login(req, res, method, options.sessions, load().cssHref);
    if (path === "/ui/logout" && method === "POST") {
      res.writeHead(303, {
        ...SECURITY_HEADERS,
        location: "/ui/login",
        "set-cookie": clearedCookie(),
      });
      res.end();
      return;
    }
    if (method !== "GET" && method !== "HEAD") {
      throw new NightshiftError(`${method} ${path}: the dashboard's pages are read with GET`, {
        status: 405,
        code: "method_not_allowed",
      });
    }
    if (path.startsWith("/ui/assets/")) {
      if (load().serveFile(path.slice("/ui/assets/".length), req, res)) return;
      throw new NightshiftError(`no such dashboard file: ${path}`, {
        status: 404,
        code: "not_found",
      });
    }
    if (options.sessions && !options.sessions.authorized(req)) {
      res.writeHead(303, { ...SECURITY_HEADERS, location: "/ui/login" }).end();
      return;
    }
    load().serveShell(req, res);
  };
}

async function login(
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  sessions: Sessions | null,
  cssHref: string | null,
): Promise<void> {
  if (!sessions) {
    res.writeHead(303, { ...SECURITY_HEADERS, location: "/ui/" }).end();
    return;
  }
  if (method === "GET" || method === "HEAD") {
    sendHtml(res, 200, loginPage(null, cssHref));
    return;
  }
  if (method !== "POST") {
    throw new NightshiftError(`${method} /ui/login: use GET or POST`, {
      status: 405,
      code: "method_not_allowed",
    });
  }
  const token = await readLoginForm(req);
  if (!sessions.tokenMatches(token)) {
    sendHtml(res, 401, loginPage("That is not the token this daemon was started with.", cssHref));
    return;
  }
  const secure = (req.socket as { encrypted?: boolean }).encrypted === true;
  res.writeHead(303, {
    ...SECURITY_HEADERS,
    location: "/ui/",
    "set-cookie": sessions.cookie(secure),
  });
  res.end();
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "content-length": Buffer.byteLength(html),
  });
  res.end(html);
}
