import type { IncomingMessage, ServerResponse } from "node:http";
import { sqliteStores } from "../ledger/select.js";
import { createDashboard } from "../web/dashboard.js";
import { ActionEvents } from "../web/events.js";
import { Sessions } from "../web/session.js";
import { type ApiDeps, createApiHandler } from "./handler.js";
import { sendError, sendJson } from "./http.js";

export { type ApiDeps, type ApiRequestHandler, createApiHandler } from "./handler.js";

export interface GatewayApi {
  (req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Ends the live event streams (before the gateway closes, so it need not wait for them). */
  close(): void;
  /** The Bearer token or the dashboard's session cookie (the gateway's token check asks). */
  authorizes(req: IncomingMessage): boolean;
}

/**
 * The gateway's `api` option: /v0 (the API, with /v0/events streaming new actions) and /ui (the
 * dashboard). The gateway's request guard (src/gateway/origin-guard.ts) has already checked Host
 * and Origin; with a token
 * configured they take the Bearer token or the dashboard's session cookie, and /ui sends a
 * browser without either to the login form.
 */
export function createGatewayApi(deps: ApiDeps & { assetsDir?: string }): GatewayApi {
  const log = deps.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const stores = deps.stores ?? sqliteStores(deps.ledger);
  const v0 = createApiHandler({ ...deps, stores });
  const token = deps.config.server.token;
  const sessions = token ? new Sessions(token) : null;
  const dashboard = createDashboard({
    sessions,
    ...(deps.assetsDir ? { assetsDir: deps.assetsDir } : {}),
  });
  const events = new ActionEvents(stores.dashboard, log);
  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    try {
      if (path === "/ui" || path.startsWith("/ui/")) {
        await dashboard(req, res, path === "/ui" ? "/ui/" : path);
        return;
      }
      if (sessions && !sessions.authorized(req)) {
        res.setHeader("www-authenticate", "Bearer");
        sendJson(res, 401, {
          error: "missing or wrong token: send Authorization: Bearer <NIGHTSHIFT_TOKEN>",
        });
        return;
      }
      if (path === "/v0/events" && req.method === "GET") {
        events.serve(req, res, {});
        return;
      }
      if (path === "/metrics" && (await deps.telemetry?.serveMetrics(req, res))) return;
      if (await v0(req, res)) return;
      sendJson(res, 404, { error: `${path}: not an API or dashboard path` });
    } catch (error) {
      sendError(res, error, log);
    }
  };
  return Object.assign(handler, {
    close: () => events.close(),
    authorizes: (req: IncomingMessage) => sessions?.authorized(req) ?? false,
  });
}
