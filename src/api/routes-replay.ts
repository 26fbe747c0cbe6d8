import { NightshiftError, NotFoundError } from "../errors.js";
import { isGatewayCall, replayGatewayCall } from "../gateway/replay-call.js";
import { replayToJson } from "../gateway/replay-json.js";
import { ModelClients } from "../runtime/models.js";
import { replayAction } from "../runtime/replay.js";
import { runtimeReplayToJson } from "../runtime/replay-json.js";
import { readJsonBody } from "./http.js";
import { ledgerStores } from "./ledger-stores.js";
import type { ApiRoute } from "./routes-feedback.js";

/**
 * POST /v0/actions/:id/replay {"model": M} or {"role": R}: asks another model the same thing. A
 * gateway call is re-sent as it was; a runtime stage or attempt is re-run with its schema.
 */
export const replayRoutes: ApiRoute[] = [
  {
    method: "POST",
    pattern: ["actions", ":id", "replay"],
    handler: async (r, deps) => {
      const body = await readJsonBody(r.req);
      const model = optional(body, "model");
      const role = optional(body, "role");
      // The selected engine's log: the original may still be queued in this daemon's writer.
      const ledger = ledgerStores(deps);
      await ledger.writer.flush();
      const action = await ledger.actions.find(r.segments[0]!);
      if (!action) throw new NotFoundError(`no action ${r.segments[0]} in the ledger`);
      if (isGatewayCall(action)) {
        return replayToJson(
          await replayGatewayCall(ledger, action, {
            config: deps.config,
            model,
            role,
            ...(deps.clock ? { clock: deps.clock } : {}),
          }),
        );
      }
      const models = new ModelClients(deps.config, {});
      try {
        return runtimeReplayToJson(
          await replayAction(ledger, models, action.id, { model, role, clock: deps.clock }),
        );
      } finally {
        await models.close();
      }
    },
  },
];

function optional(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || value.trim() === "") {
    throw new NightshiftError(`"${name}" must be a non-empty string`);
  }
  return value;
}
