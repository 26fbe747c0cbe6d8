import { systemClock } from "../clock.js";
import { NightshiftError } from "../errors.js";
import {
  acknowledgeCorrection,
  deliveryToJson,
  parseDeliveryStatus,
} from "../plain-agents/delivery.js";
import { intParam, readJsonBody } from "./http.js";
import { ledgerStores } from "./ledger-stores.js";
import type { ApiRoute } from "./routes-feedback.js";

/**
 * Corrections for plain agents: GET /v0/corrections?agent=NAME&status=pending lists what an
 * agent has to apply, oldest first; POST /v0/corrections/:id/ack says it was applied, after
 * which it is never delivered again (by pull or webhook).
 */
export const correctionRoutes: ApiRoute[] = [
  {
    method: "GET",
    pattern: ["corrections"],
    handler: async (r, deps) => {
      const agent = r.query.get("agent");
      if (!agent) {
        throw new NightshiftError("agent=NAME is required: whose corrections to list");
      }
      const status = parseDeliveryStatus(r.query.get("status"));
      const limit = intParam(r.query, "limit", 100, 1000);
      const store = ledgerStores(deps).review.deliveries;
      return { corrections: (await store.list(agent, status, limit)).map(deliveryToJson) };
    },
  },
  {
    method: "GET",
    pattern: ["corrections", ":id", "attempts"],
    handler: async (r, deps) => {
      const store = ledgerStores(deps).review.deliveries;
      return {
        attempts: (await store.attempts(r.segments[0]!)).map((a) => ({
          delivery_id: a.deliveryId,
          url: a.url,
          attempted_at: new Date(a.attemptedAt).toISOString(),
          http_status: a.httpStatus,
          error: a.error,
          duration_ms: a.durationMs,
        })),
      };
    },
  },
  {
    method: "POST",
    pattern: ["corrections", ":id", "ack"],
    handler: async (r, deps) => {
      const body = await readJsonBody(r.req);
      const agent = typeof body.agent === "string" ? body.agent : null;
      const note = typeof body.note === "string" ? body.note : null;
      const { delivery, already } = await acknowledgeCorrection(
        ledgerStores(deps).review.deliveries,
        r.segments[0]!,
        { agent, note, now: (deps.clock ?? systemClock).now() },
      );
      return { ...deliveryToJson(delivery), already_acknowledged: already };
    },
  },
];
