import type { IncomingMessage, ServerResponse } from "node:http";
import { type ApiDeps, createApiHandler } from "./handler.js";
import { sendJson } from "./http.js";

export { type ApiDeps, type ApiRequestHandler, createApiHandler } from "./handler.js";

/**
 * The gateway's `api` option: /v0 is the API; /ui (the dashboard) answers 404 until a dashboard
 * handler exists, with a message saying so rather than a bare error.
 */
export function createGatewayApi(
  deps: ApiDeps,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const v0 = createApiHandler(deps);
  return async (req, res) => {
    if (await v0(req, res)) return;
    if (req.url?.split("?")[0] === "/metrics" && (await deps.telemetry?.serveMetrics(req, res))) {
      return;
    }
    sendJson(res, 404, { error: `${req.url ?? "/"}: the dashboard is not part of this build` });
  };
}
